"""Telemetry history: device measurements to InfluxDB when configured, else a SQL table."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import insert
from sqlalchemy.orm import Session

from central.common.clock import parse_utc
from central.db.tables import TelemetrySample
from central.settings import Settings

logger = logging.getLogger(__name__)

MEASUREMENT = "telemetry"
HISTORY_KEY = "telemetry_history"


@dataclass(frozen=True)
class Sample:
    """One measurement: a device's tag at a time, a number or a text, and its quality."""

    device_id: str
    tag: str
    ts: datetime
    value: float | None
    text: str | None = None
    quality: str = "good"
    edge_id: str | None = None


def sample_from_event(data: dict[str, Any], edge_id: str | None) -> Sample:
    """A telemetry.sample event's data as a Sample (numbers and booleans as values)."""
    raw = data["value"]
    number = float(raw) if isinstance(raw, int | float) else None
    text = None if number is not None or raw is None else str(raw)
    return Sample(
        data["device_id"],
        data["tag"],
        parse_utc(data["source_ts"]),
        number,
        text,
        data["quality"],
        edge_id,
    )


class History(Protocol):
    """Where samples go."""

    def write(self, session: Session, samples: list[Sample]) -> None:
        """Store samples (in the caller's transaction when the store is SQL)."""

    def close(self) -> None:
        """Flush and release."""


class SqlHistory:
    """The telemetry_samples table, written in the ingest transaction (exactly once)."""

    def write(self, session: Session, samples: list[Sample]) -> None:
        """Insert the samples with the caller's session."""
        if samples:
            session.execute(
                insert(TelemetrySample),
                [
                    {
                        "device_id": s.device_id,
                        "tag": s.tag,
                        "ts": s.ts,
                        "value": s.value,
                        "text": s.text,
                        "quality": s.quality,
                        "edge_id": s.edge_id,
                    }
                    for s in samples
                ],
            )

    def close(self) -> None:
        """Nothing to release."""


class InfluxHistory:
    """InfluxDB through influxdb-client's batching WriteApi, with retries.

    A point is (measurement, device_id, tag, time), so a replayed sample overwrites itself.
    """

    def __init__(
        self,
        url: str,
        token: str,
        org: str,
        bucket: str,
        *,
        batch_size: int = 5000,
        flush_interval_ms: int = 1000,
    ) -> None:
        from influxdb_client import InfluxDBClient, WriteOptions

        self.bucket, self.org = bucket, org
        self._client = InfluxDBClient(url=url, token=token or "unused", org=org)
        self._write = self._client.write_api(
            write_options=WriteOptions(
                batch_size=batch_size,
                flush_interval=flush_interval_ms,
                retry_interval=1000,
                max_retries=5,
                max_retry_delay=30_000,
                exponential_base=2,
            ),
            error_callback=self._failed,
        )

    def write(self, session: Session, samples: list[Sample]) -> None:
        """Queue the samples for the next batch (the session is not used)."""
        from influxdb_client import Point, WritePrecision

        points = []
        for s in samples:
            point = (
                Point(MEASUREMENT)
                .tag("device_id", s.device_id)
                .tag("tag", s.tag)
                .tag("quality", s.quality)
                .time(s.ts, WritePrecision.MS)
            )
            if s.edge_id:
                point = point.tag("edge_id", s.edge_id)
            point = point.field("value", s.value) if s.value is not None else point
            point = point.field("text", s.text) if s.text is not None else point
            if s.value is not None or s.text is not None:
                points.append(point)
        if points:
            self._write.write(bucket=self.bucket, org=self.org, record=points)

    def flush(self) -> None:
        """Send what is queued now."""
        self._write.flush()

    def close(self) -> None:
        """Flush and close the client."""
        self._write.close()
        self._client.close()

    @staticmethod
    def _failed(conf: Any, _data: Any, exc: Exception) -> None:
        logger.error("InfluxDB write failed after retries (%s): %s", conf, exc)


_SQL = SqlHistory()


def history_for(settings: Settings) -> History:
    """InfluxDB when WHS_INFLUX_URL is set, else the SQL table."""
    if settings.influx_url:
        return InfluxHistory(
            settings.influx_url,
            settings.influx_token.get_secret_value(),
            settings.influx_org,
            settings.influx_bucket,
        )
    return _SQL


def history_of(session: Session) -> History:
    """The history configured on the session factory (SQL unless the app set InfluxDB)."""
    history: History = session.info.get(HISTORY_KEY, _SQL)
    return history

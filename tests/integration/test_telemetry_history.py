"""Telemetry history: InfluxDB line protocol into a real VictoriaMetrics, read back by export;
the SQL table when no InfluxDB is configured."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from central.app import create_app
from central.db.engine import make_engine, make_session_factory
from central.db.tables import TelemetrySample
from tests.helpers import settings_for
from tests.integration.opcua_support import wait_for
from whs.broker import find_free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[str]:
    """A private VictoriaMetrics on a free port with a temporary storage folder."""
    binary = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure_victoria_metrics.sh")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = find_free_port()
    process = subprocess.Popen(
        [
            binary,
            f"-storageDataPath={tmp_path / 'vm'}",
            f"-httpListenAddr=127.0.0.1:{port}",
            "-search.latencyOffset=0s",
            "-loggerLevel=ERROR",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: _healthy(url), 15), "victoria-metrics did not start"
        yield url
    finally:
        process.terminate()
        process.wait(10)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _export(url: str) -> list[dict[str, Any]]:
    query = urllib.request.quote('{__name__=~"telemetry.*"}')
    with urllib.request.urlopen(f"{url}/api/v1/export?match[]={query}", timeout=5) as response:
        return [json.loads(line) for line in response.read().decode().splitlines() if line]


def batch(seq: int, start: datetime, count: int) -> dict[str, Any]:
    stamp = lambda t: t.isoformat(timespec="milliseconds").replace("+00:00", "Z")  # noqa: E731
    events = [
        {
            "type": "telemetry.sample",
            "source": "arm-01",
            "ts": stamp(start + timedelta(seconds=i)),
            "data": {
                "device_id": "arm-01",
                "node_id": "ns=2;s=Arm.Torque",
                "tag": "Arm.Torque",
                "value": 10.0 + i,
                "quality": "good",
                "source_ts": stamp(start + timedelta(seconds=i)),
            },
        }
        for i in range(count)
    ]
    return {
        "edge_id": "edge-01",
        "site": "wh1",
        "epoch": 1,
        "seq": seq,
        "sent_at": stamp(start),
        "events": events,
    }


def post(api: TestClient, body: dict[str, Any]) -> None:
    token = api.post("/api/v1/auth/token", data={"username": "admin", "password": "admin"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    response = api.post("/api/v1/ingest/batches", json=body, headers=headers)
    assert response.status_code == 200, response.text


def test_samples_go_to_influxdb_when_configured(victoria: str, sqlite_url: str) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    settings = settings_for(sqlite_url, influx_url=victoria, influx_bucket="telemetry")
    with TestClient(create_app(settings, run_ingest=False)) as api:
        post(api, batch(1, start, 5))
    # leaving the app flushed the write buffer; the points are in VictoriaMetrics
    series = wait_for(lambda: _export(victoria), 10, step_s=0.2)
    assert series, "no series in VictoriaMetrics"
    torque = [s for s in series if s["metric"].get("tag") == "Arm.Torque"]
    assert len(torque) == 1
    assert torque[0]["metric"]["device_id"] == "arm-01"
    assert torque[0]["metric"]["edge_id"] == "edge-01"
    assert torque[0]["values"] == [10.0, 11.0, 12.0, 13.0, 14.0]
    first_ms = int(start.timestamp() * 1000)
    assert torque[0]["timestamps"] == [first_ms + 1000 * i for i in range(5)]
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        assert session.scalars(select(TelemetrySample)).first() is None, "not in SQL as well"
    engine.dispose()


def test_samples_go_to_the_sql_table_without_influxdb(sqlite_url: str) -> None:
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    with TestClient(create_app(settings_for(sqlite_url), run_ingest=False)) as api:
        post(api, batch(1, start, 3))
        post(api, batch(1, start, 3))  # a replay adds nothing
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        rows = session.scalars(select(TelemetrySample).order_by(TelemetrySample.ts)).all()
    engine.dispose()
    assert [(r.tag, r.value, r.ts) for r in rows] == [
        ("Arm.Torque", 10.0 + i, start + timedelta(seconds=i)) for i in range(3)
    ]

"""Edge heartbeat: a retained status on edges/{edge}/status with rates, depths and devices."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from edge.events import format_ts, utc_now

logger = logging.getLogger(__name__)

RATE_KEYS = ("received", "events", "events_uplinked", "events_acked", "dead_lettered")


def rates(before: dict[str, Any], after: dict[str, Any], seconds: float) -> dict[str, float]:
    """Per-second rates of the counters that grew between two snapshots."""
    if seconds <= 0:
        return {}
    return {
        f"{key}_per_s": round((after[key] - before.get(key, 0)) / seconds, 2)
        for key in RATE_KEYS
        if isinstance(after.get(key), int)
    }


def heartbeat_payload(
    edge_id: str,
    now: datetime,
    counters: dict[str, Any],
    rate: dict[str, float],
    devices: dict[str, dict[str, Any]],
) -> bytes:
    """A device_status document (reason heartbeat) whose detail carries the edge's health."""
    detail = {
        "pending": counters.get("pending", 0),
        "dead_lettered": counters.get("dead_lettered", 0),
        "epoch": counters.get("epoch"),
        "rates": rate,
        "counters": {k: v for k, v in counters.items() if isinstance(v, int | float)},
        "devices": devices,
    }
    body = {
        "device_id": edge_id,
        "online": True,
        "ts": format_ts(now),
        "reason": "heartbeat",
        "detail": detail,
    }
    return json.dumps(body).encode()


class Heartbeat:
    """Publishes the heartbeat every `interval_s` in a thread of its own."""

    def __init__(
        self,
        edge_id: str,
        interval_s: float,
        counters: Callable[[], dict[str, Any]],
        devices: Callable[[], dict[str, dict[str, Any]]],
        publish: Callable[[bytes], None],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.edge_id = edge_id
        self.interval_s = interval_s
        self._counters = counters
        self._devices = devices
        self._publish = publish
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0

    def start(self) -> None:
        """Start beating."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.edge_id}")
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        """Stop beating."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def beat(self, before: dict[str, Any], since: float) -> dict[str, Any]:
        """Publish one heartbeat; returns the counters it used (the next `before`)."""
        now_counters = self._counters()
        elapsed = time.monotonic() - since
        payload = heartbeat_payload(
            self.edge_id,
            self._clock(),
            now_counters,
            rates(before, now_counters, elapsed),
            self._devices(),
        )
        try:
            self._publish(payload)
            self.sent += 1
        except Exception as exc:
            logger.info("heartbeat not published: %s", exc)
        return now_counters

    def _run(self) -> None:
        before, since = self._counters(), time.monotonic()
        while not self._stop.wait(self.interval_s):
            try:
                before, since = self.beat(before, since), time.monotonic()
            except Exception:
                logger.exception("heartbeat failed")

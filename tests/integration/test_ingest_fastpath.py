"""A batch in the edge's compact form is stored exactly as the same batch decoded in full."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from central.db.engine import make_engine, make_session_factory
from central.db.migrate import upgrade
from central.db.tables import DeadLetter, DeviceEvent
from central.inbound.domain import WeightTolerance
from central.ingest.handlers import listen
from central.ingest.processor import ingest_raw

pytestmark = pytest.mark.integration

TOL = WeightTolerance(Decimal("2"), Decimal("0.5"))
TS = "2025-03-01T08:00:00.250Z"


def read(i: int, **data: Any) -> dict[str, Any]:
    return {
        "type": "rfid.tag_read",
        "source": "gate-01",
        "ts": TS,
        "data": {
            "gate_id": "gate-01",
            "epc": f"3074257BF7194E40{i:08X}",
            "antenna": 1 + i % 4,
            "peak_rssi": -50.5,
            "first_seen": TS,
            "last_seen": TS,
            "read_count": 1,
            "reader_seq": i,
            **data,
        },
    }


def test_compact_and_spaced_batches_store_the_same_rows_and_dead_letters(database_url) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    state = {
        "serial": "agv-1",
        "manufacturer": "acme",
        "order_id": "",
        "order_update_id": 0,
        "last_node_id": "n1",
        "driving": False,
        "paused": False,
        "battery_pct": 88.5,
        "charging": False,
        "loaded": False,
        "errors": [],
    }
    agv = {"type": "agv.state", "source": "agv-1", "ts": TS, "data": state}
    events = [read(0), read(1, antenna=40), agv, read(2), read(3, peak_rssi=-0.25)]
    seen: list[tuple[str, dict[str, Any]]] = []
    stop = listen("agv.state", lambda edge, event: seen.append((edge, event)))
    try:
        for edge_id, separators in (("fast", (",", ":")), ("full", (", ", ": "))):
            batch = {"edge_id": edge_id, "site": "wh1", "epoch": 1, "seq": 1, "sent_at": TS}
            raw = json.dumps({**batch, "events": events}, separators=separators).encode()
            outcome = ingest_raw(sessions, "t", raw, TOL)
            assert (outcome.ack_seq, outcome.applied, outcome.dead_lettered) == (1, 4, 1)
    finally:
        stop()
    with sessions() as s:
        rows = {
            edge: [
                (r.idx, r.type, r.source, r.ts, r.data)
                for r in s.scalars(
                    select(DeviceEvent).where(DeviceEvent.edge_id == edge).order_by(DeviceEvent.idx)
                )
            ]
            for edge in ("fast", "full")
        }
        letters = s.execute(select(DeadLetter.edge_id, DeadLetter.reason)).all()
    engine.dispose()
    assert rows["fast"] == rows["full"]
    assert [r[4] for r in rows["fast"]] == [e["data"] for e in events]
    assert rows["fast"][0][3] is not None and rows["fast"][0][3].microsecond == 250000
    assert sorted(e for e, _ in letters) == ["fast", "full"]
    assert all("antenna" in reason for _, reason in letters)
    assert seen == [("fast", agv), ("full", agv)]

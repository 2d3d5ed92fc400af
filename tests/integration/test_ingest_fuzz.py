"""Random and malformed uplink messages: central never crashes and keeps each bad one, with its
reason, as a dead letter; the edge does the same with malformed acks and keeps its batches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central.db.engine import make_engine, make_session_factory
from central.db.migrate import upgrade
from central.db.tables import DeadLetter, DeviceEvent
from central.inbound.domain import WeightTolerance
from central.ingest.processor import ingest_raw
from edge.agent import EdgeAgent
from edge.config import parse_edge_config

pytestmark = pytest.mark.integration

TOL = WeightTolerance(Decimal("2"), Decimal("0.5"))
TOPIC = "whs/v1/wh1/edges/edge-01/uplink"
TS = "2025-03-01T08:00:00.000Z"
READ = {
    "type": "rfid.tag_read",
    "source": "gate-01",
    "ts": TS,
    "data": {
        "gate_id": "gate-01",
        "epc": "3074257BF7194E4000001A85",
        "antenna": 1,
        "peak_rssi": -50.0,
        "first_seen": TS,
        "last_seen": TS,
        "read_count": 1,
        "reader_seq": 1,
    },
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'whs.db'}")
    upgrade(engine, "heads")
    yield make_session_factory(engine)
    engine.dispose()


def counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    with sessions() as s:
        return (
            int(s.scalar(select(func.count()).select_from(DeadLetter)) or 0),
            int(s.scalar(select(func.count()).select_from(DeviceEvent)) or 0),
        )


def last_reason(sessions: sessionmaker[Session]) -> str:
    with sessions() as s:
        return str(s.scalar(select(DeadLetter.reason).order_by(DeadLetter.id.desc()).limit(1)))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_garbage_is_dead_lettered_with_a_reason(sessions, raw: bytes) -> None:
    letters, events = counts(sessions)
    outcome = ingest_raw(sessions, TOPIC, raw, TOL)
    assert outcome.ack_seq is None and outcome.dead_lettered == 1
    assert counts(sessions) == (letters + 1, events)
    assert last_reason(sessions).startswith("uplink_batch: ")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(["edge_id", "epoch", "seq", "sent_at", "events", "site", "extra"]),
    value=json_values,
)
def test_a_batch_with_one_broken_field_is_dead_lettered_or_applied_never_crashes(
    sessions, key: str, value: object
) -> None:
    batch = {
        "edge_id": "fuzz",
        "site": "wh1",
        "epoch": 1,
        "seq": 10**9,
        "sent_at": TS,
        "events": [READ],
        key: value,
    }
    letters, events = counts(sessions)
    outcome = ingest_raw(sessions, TOPIC, json.dumps(batch).encode(), TOL)
    if outcome.edge_id is None:
        assert counts(sessions) == (letters + 1, events)
        assert last_reason(sessions).startswith("uplink_batch: ")
    else:
        assert counts(sessions)[1] == events  # ahead of the cursor: nothing applied yet


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.dictionaries(st.text(max_size=10), json_values, max_size=4))
def test_an_event_with_broken_data_is_dead_lettered_alone_and_the_batch_committed(
    sessions, data: object
) -> None:
    with sessions() as s:
        last = s.scalar(select(func.max(DeviceEvent.seq)).where(DeviceEvent.edge_id == "one"))
    seq = (last or 0) + 1
    bad = {**READ, "data": data}
    batch = {
        "edge_id": "one",
        "site": "wh1",
        "epoch": 1,
        "seq": seq,
        "sent_at": TS,
        "events": [READ, bad],
    }
    letters, events = counts(sessions)
    outcome = ingest_raw(sessions, TOPIC, json.dumps(batch).encode(), TOL)
    assert outcome.ack_seq == seq
    assert counts(sessions)[1] == events + 2  # both kept in the event log
    assert outcome.applied + outcome.dead_lettered == 2 and outcome.applied >= 1
    assert counts(sessions)[0] == letters + outcome.dead_lettered


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeAgent]:
    folder = tmp_path_factory.mktemp("edge")
    edge = EdgeAgent(
        parse_edge_config(
            {"edge_id": "edge-01", "site": "wh1", "data_dir": str(folder), "broker": {}}
        )
    )
    edge.outbox.append([READ] * 3)
    edge.outbox.next_batch(10)
    yield edge
    edge.dead_letters.close()
    edge.outbox.close()  # type: ignore[attr-defined]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_the_edge_keeps_malformed_acks_as_dead_letters_and_its_batches(agent, raw) -> None:
    before = agent.dead_letters.count()
    agent._on_ack("whs/v1/wh1/edges/edge-01/ack", raw)
    assert [b.seq for b in agent.outbox.unacked()] == [1]  # nothing acked by garbage
    assert agent.dead_letters.count() == before + 1
    _topic, reason, payload, _ = agent.dead_letters.recent(1)[0]
    assert reason.startswith("uplink_ack: ") and payload == raw

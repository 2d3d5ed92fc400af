"""Central's split of uplink batches in the edge's compact form agrees with the full decode."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from firmware_interfaces.validation import ContractError, decode_json, validate_event
from hypothesis import given, settings
from hypothesis import strategies as st

from central.common.clock import parse_utc
from central.ingest.fastpath import split_batch
from central.ingest.processor import prepare_batch
from edge.converters.rfid import TagReadEmitter, add_raw_reads
from edge.outbox import Batch
from edge.uplink import batch_payload
from simulators.devices.read_stream import reads_payload

TS = "2025-03-01T08:00:00.000Z"
DATA = {
    "gate_id": "gate-01",
    "epc": "3074257BF7194E4000001A85",
    "antenna": 1,
    "peak_rssi": -50.5,
    "first_seen": TS,
    "last_seen": TS,
    "read_count": 1,
    "reader_seq": 1,
}
HEAD = {"edge_id": "edge-1", "site": "wh1", "epoch": 3, "seq": 7, "sent_at": TS}


def compact(batch: dict[str, Any]) -> bytes:
    """The batch as the edge writes it: compact JSON, keys in the edge's order."""
    return json.dumps(batch, separators=(",", ":")).encode()


def read(**changes: Any) -> dict[str, Any]:
    data = {**DATA, **changes.pop("data", {})}
    return {"type": "rfid.tag_read", "source": "gate-01", "ts": TS, "data": data, **changes}


def test_the_edges_own_tag_read_batches_are_split_without_decoding_a_single_read() -> None:
    emitter = TagReadEmitter("gate-01", dedup_window_s=0)
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    rows = add_raw_reads(emitter, reads_payload("gate-01", 1, 5, 50, now), 2000)
    assert rows is not None
    body = "[" + ",".join(r.text for r in rows) + "]"
    raw = batch_payload("edge-1", "wh1", 3, Batch(9, body=body, size=50), now)

    split = split_batch(raw)

    assert split is not None
    assert split.events == [None] * 50  # every read kept as the JSON text it came in
    full = decode_json("uplink_batch", raw)
    assert {k: v for k, v in split.head.items() if k != "events"} == {
        k: v for k, v in full.items() if k != "events"
    }
    for plain, event in zip(split.plain, full["events"], strict=True):
        assert plain is not None
        assert plain[:3] == (event["type"], event["source"], event["ts"])
        assert json.loads(plain[3]) == event["data"]


def test_other_events_and_bad_reads_in_a_split_batch_are_decoded_and_checked_in_full() -> None:
    agv = {"type": "agv.state", "source": "agv-1", "ts": TS, "data": {"x": 1}}
    bad = read(data={"antenna": 99})
    raw = compact({**HEAD, "events": [read(), agv, bad, read()]})

    split = split_batch(raw)

    assert split is not None
    assert [e is None for e in split.events] == [True, False, False, True]
    problems = prepare_batch(split).problems
    assert problems[0] is None and problems[3] is None
    assert problems[2] is not None and "antenna" in problems[2]  # the dead letter's reason


def test_anything_but_the_compact_form_is_left_to_the_full_decode() -> None:
    batch = {**HEAD, "events": [read()]}
    assert split_batch(json.dumps(batch).encode()) is None  # spaces
    assert split_batch(compact({**batch, "extra": 1})) is None  # after events
    assert split_batch(compact({**HEAD, "extra": 1, "events": [read()]})) is None  # bad head
    assert split_batch(compact({**HEAD, "events": []})) is None  # minItems
    assert split_batch(compact({**HEAD, "events": [read(source="a b")]})) is None
    assert split_batch(compact(batch)[:-1]) is None
    assert split_batch(compact(batch) + b" ") is None


def test_a_read_dated_on_a_day_that_does_not_exist_is_not_taken_as_plain() -> None:
    split = split_batch(compact({**HEAD, "events": [read(ts="2025-02-30T08:00:00.000Z")]}))
    assert split is not None and split.events[0] is not None


names = st.sampled_from(["gate-01", "", "a b", "x" * 65, "G.1:2_3-4", "é"])
times = st.sampled_from(
    [
        TS,
        "2025-03-01T08:00:00Z",
        "2025-03-01T24:00:00Z",
        "2025-03-01T08:00:60Z",
        "2025-13-01T08:00:00Z",
        "0000-01-01T00:00:00Z",
        "2024-02-29T23:59:59.123456789+05:30",
        "2025-03-01T08:00:00+24:00",
        "2025-03-01 08:00:00Z",
        "2025-03-01T08:00:00",
    ]
)
numbers = st.one_of(
    st.integers(min_value=-200, max_value=200),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([-128, -128.0, -128.5, 0, 0.0, -0.0, 0.5, -1e-05, True, None, "1"]),
)
field_values = {
    "gate_id": names,
    "epc": st.sampled_from(["3074257BF7194E40", "3074257bf7194e40", "ABC", "A" * 65, ""]),
    "antenna": numbers,
    "peak_rssi": numbers,
    "first_seen": times,
    "last_seen": times,
    "read_count": numbers,
    "reader_seq": numbers,
}


@st.composite
def mutated_reads(draw: st.DrawFn) -> dict[str, Any]:
    event = read()
    for key in draw(st.lists(st.sampled_from(sorted(field_values)), max_size=3)):
        event["data"][key] = draw(field_values[key])
    if draw(st.booleans()):
        event["data"].pop(draw(st.sampled_from(sorted(field_values))))
    if draw(st.booleans()):
        event["data"]["extra"] = 1
    event["source"] = draw(st.sampled_from(["gate-01", "gate-01", "a b"]))
    event["ts"] = draw(times)
    return event


@settings(max_examples=400, deadline=None)
@given(events=st.lists(mutated_reads(), min_size=1, max_size=4), use_orjson=st.booleans())
def test_a_read_taken_as_plain_is_one_the_full_checks_accept_with_the_same_data(
    events: list[dict[str, Any]], use_orjson: bool
) -> None:
    batch = {**HEAD, "events": events}
    try:
        raw = orjson.dumps(batch) if use_orjson else compact(batch)
    except TypeError:  # integers beyond 64 bits
        raw = compact(batch)
    split = split_batch(raw)
    try:
        full = decode_json("uplink_batch", raw)
    except ContractError:
        assert split is None  # a broken envelope is never split
        return
    if split is None:
        return  # the full decode does the work
    for event, plain, original in zip(split.events, split.plain, full["events"], strict=True):
        if event is not None:
            assert event == original
            continue
        assert plain is not None
        validate_event(original)  # raises if the full checks would refuse it
        assert plain[:3] == (original["type"], original["source"], original["ts"])
        assert json.loads(plain[3]) == original["data"]
        parse_utc(original["ts"])  # the ts column gets a time, never NULL

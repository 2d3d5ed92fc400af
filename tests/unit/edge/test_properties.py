"""Property tests: whatever a device sends, converters and the router never crash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from firmware_interfaces import topics
from firmware_interfaces.validation import ContractError, validate_event
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.config import BrokerConfig, EdgeConfig, RfidGateConfig, ScaleConfig
from edge.converters.rfid import TagReadEmitter, add_raw_reads, parse_rfid_reads
from edge.converters.scale import parse_scale_weight
from edge.converters.status import parse_device_status
from edge.router import DeviceRouter
from simulators.devices.read_stream import reads_payload

NOW = datetime(2025, 3, 1, 8, tzinfo=UTC)
PARSERS = [parse_rfid_reads, parse_scale_weight, parse_device_status]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
timestamps = st.sampled_from(
    ["2025-03-01T08:00:00Z", "2025-13-01T08:00:00Z", "2025-03-01T25:61:00+02:00", "x"]
)
reads = st.fixed_dictionaries(
    {
        "epc": st.text("0123456789abcdefABCDEFXx", min_size=6, max_size=30),
        "antenna": st.integers(-2, 40),
        "peak_rssi": st.floats(-200, 10, allow_nan=False),
        "first_seen": timestamps,
    },
    optional={"last_seen": timestamps, "read_count": st.integers(-1, 5), "extra": json_values},
)
rfid_like = st.fixed_dictionaries(
    {
        "reader_id": st.sampled_from(["gate-01", "gate-02", "", "g/1"]),
        "seq": st.integers(-1, 5),
        "sent_at": timestamps,
    },
    optional={"reads": st.lists(reads, max_size=4)},
)
scale_like = st.fixed_dictionaries(
    {
        "scale_id": st.sampled_from(["scale-01", "x"]),
        "seq": st.integers(-1, 5),
        "ts": timestamps,
        "gross_kg": st.one_of(st.floats(allow_nan=False), st.text(max_size=4), st.none()),
    },
    optional={"motion": st.one_of(st.booleans(), st.integers(0, 1))},
)
payloads = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    rfid_like.map(lambda v: json.dumps(v).encode()),
    scale_like.map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=300, deadline=None)
@given(payloads, st.sampled_from(PARSERS))
def test_converters_either_convert_or_raise_contract_error_with_a_reason(raw, parse):
    try:
        parse(raw)
    except ContractError as exc:
        assert exc.reason


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        [
            topics.device_topic("wh1", "rfid", "gate-01", "reads"),
            topics.device_topic("wh1", "scale", "scale-01", "weight"),
            topics.device_topic("wh1", "rfid", "gate-01", "status"),
            topics.device_topic("wh1", "scale", "nobody", "weight"),
            "whs/v1/wh1/devices/x",
        ]
    ),
    st.lists(payloads, min_size=1, max_size=5),
)
def test_the_router_never_raises_and_every_event_it_makes_obeys_its_schema(topic, raws):
    config = EdgeConfig(
        "edge-01",
        "wh1",
        Path("unused"),
        BrokerConfig(),
        devices=(RfidGateConfig("gate-01"), ScaleConfig("scale-01")),
    )
    router = DeviceRouter(config)
    events = []
    for raw in raws:
        routed = router.route(topic, raw, NOW)
        if routed.dead_letter is not None:
            assert routed.dead_letter.reason
            events.append(routed.dead_letter.to_event("edge-01"))
        events.extend(routed.events)
    events.extend(router.flush())
    for event in events:
        validate_event(event.to_wire())


near_times = st.sampled_from(
    [
        "2025-03-01T08:00:00Z",
        "2025-03-01T08:00:00.5Z",
        "2025-03-01T09:00:00.123456789+01:00",
        "2025-03-01T07:59:59.999-00:30",
        "2025-03-01T08:00:00",
        "2025-02-30T08:00:00Z",
    ]
)
near_reads = st.fixed_dictionaries(
    {
        "epc": st.text("0123456789abcdefABCDEF", min_size=7, max_size=25),
        "antenna": st.one_of(st.integers(0, 33), st.just(1.0)),
        "peak_rssi": st.one_of(st.floats(-130, 1), st.integers(-130, 1)),
        "first_seen": near_times,
    },
    optional={"last_seen": near_times, "read_count": st.integers(0, 3)},
)
nearly_valid = st.fixed_dictionaries(
    {
        "reader_id": st.sampled_from(["gate-01", "gate-02"]),
        "seq": st.integers(-1, 5),
        "sent_at": near_times,
        "reads": st.lists(near_reads, max_size=6),
    }
)


def _full_way(raw: bytes) -> list[dict[str, object]] | None:
    emitter = TagReadEmitter("gate-01", dedup_window_s=5.0)
    try:
        return [e.to_wire() for e in emitter.add(parse_rfid_reads(raw, "gate-01"))]
    except ContractError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.one_of(payloads, nearly_valid.map(lambda v: json.dumps(v).encode())))
def test_the_fast_tag_read_path_accepts_nothing_the_full_way_refuses_and_makes_the_same_events(
    raw,
):
    fast = add_raw_reads(TagReadEmitter("gate-01", dedup_window_s=5.0), raw, max_row=3)
    if fast is None:
        return  # the full way decides (and gives the reason)
    full = _full_way(raw)
    assert full is not None, "the fast path accepted a payload the contract refuses"
    assert all(0 < row.count <= 3 for row in fast)
    assert [e for row in fast for e in json.loads("[" + row.text + "]")] == full


def test_a_plain_reader_message_takes_the_fast_path():
    raw = reads_payload("gate-01", 1, 7, 50, NOW)
    fast = add_raw_reads(TagReadEmitter("gate-01", dedup_window_s=5.0), raw, max_row=20)
    assert fast is not None and [row.count for row in fast] == [20, 20, 10]
    assert [e for row in fast for e in json.loads("[" + row.text + "]")] == _full_way(raw)

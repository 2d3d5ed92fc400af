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
from edge.converters.rfid import parse_rfid_reads
from edge.converters.scale import parse_scale_weight
from edge.converters.status import parse_device_status
from edge.router import DeviceRouter

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

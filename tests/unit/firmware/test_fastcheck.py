"""The fast schema check never accepts what the full JSON Schema validator refuses."""

from __future__ import annotations

import json

from firmware_interfaces.fastcheck import compile_check
from firmware_interfaces.validation import ContractError, load_schema, validate
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

NAMES = ["uplink_batch", "uplink_ack", "rfid_reads", "event_tag_read", "event_gate_pass"]
TS = "2025-03-01T08:00:00.000Z"
GOOD = {
    "rfid_reads": {
        "reader_id": "gate-01",
        "seq": 1,
        "sent_at": TS,
        "reads": [
            {"epc": "3074257BF7194E4000001A85", "antenna": 1, "peak_rssi": -50.0, "first_seen": TS}
        ],
    },
    "uplink_ack": {"edge_id": "edge-01", "epoch": 1, "seq": 3, "ts": TS},
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def mutate(doc: dict, key: str, value: object) -> dict:
    """A copy of doc with one top-level key replaced (or added)."""
    return {**json.loads(json.dumps(doc)), key: value}


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(NAMES), payload=json_values)
def test_random_payloads_get_the_same_verdict(name: str, payload: object) -> None:
    fast = compile_check(load_schema(name))
    assert fast is not None
    full = Draft202012Validator(load_schema(name)).is_valid(payload)
    if fast(payload):
        assert full


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(GOOD)),
    key=st.sampled_from(["seq", "reads", "epoch", "ts", "edge_id", "extra", "sent_at"]),
    value=json_values,
)
def test_near_valid_payloads_get_the_same_verdict_and_a_reason(
    name: str, key: str, value: object
) -> None:
    doc = mutate(GOOD[name], key, value)
    full = Draft202012Validator(load_schema(name)).is_valid(doc)
    if compile_check(load_schema(name))(doc):
        assert full
    try:
        validate(name, doc)
        assert full
    except ContractError as exc:
        assert not full and exc.reason

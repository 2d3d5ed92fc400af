"""Property tests: whatever an OPC UA server or central sends, the edge never crashes.

Data changes become valid telemetry.sample events or a ContractError (a dead letter with the
reason); command payloads become a Command, or a ContractError plus a `rejected` result.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from firmware_interfaces.validation import ContractError, validate_event
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.commands import CommandExecutor, CommandStore, parse_command
from edge.converters.opcua import DataChange, sample_event

NOW = datetime(2026, 3, 1, 8, tzinfo=UTC)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=1100)
    | st.binary(max_size=8)
    | st.datetimes(timezones=st.none() | st.just(UTC))
)
values = scalars | st.lists(scalars, max_size=20) | st.dictionaries(st.text(max_size=4), scalars)
stamps = st.none() | st.datetimes(timezones=st.none() | st.just(UTC))
changes = st.builds(
    DataChange,
    node_id=st.text(max_size=300),
    tag=st.text(max_size=140),
    value=values,
    status_code=st.integers(min_value=-5, max_value=2**33) | st.sampled_from([0, 0x80340000]),
    source_ts=stamps,
    server_ts=stamps,
)


@settings(max_examples=400, deadline=None)
@given(change=changes, device=st.sampled_from(["arm-01", "bad id", ""]))
def test_data_changes_give_a_valid_event_or_a_reason(change: DataChange, device: str) -> None:
    try:
        event = sample_event(device, change, NOW)
    except ContractError as exc:
        assert exc.reason  # the dead letter says why
        return
    wire = event.to_wire()
    validate_event(wire)
    json.dumps(wire, allow_nan=False)  # strict JSON: no NaN or Infinity on the wire
    assert wire["data"]["node_id"] == change.node_id


def test_bad_status_codes_are_marked_bad_and_missing_times_fall_back() -> None:
    event = sample_event("arm-01", DataChange("ns=2;s=X", "X", 1.5, 0x80340000), NOW)
    assert event.data["quality"] == "bad" and event.data["status_code"] == 0x80340000
    assert event.data["source_ts"] == "2026-03-01T08:00:00.000Z"
    old = datetime(1601, 1, 1)
    server = datetime(2026, 3, 1, 7, 59)
    event = sample_event("arm-01", DataChange("ns=2;s=X", "X", 1, 0, old, server), NOW)
    assert event.data["source_ts"] == "2026-03-01T07:59:00.000Z"


def _stamp(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


command_docs = st.fixed_dictionaries(
    {
        "id": st.text(max_size=70),
        "edge_id": st.sampled_from(["edge-01", "edge-02", "bad id"]),
        "target": st.text(max_size=10),
        "action": st.text(max_size=70),
        "params": st.dictionaries(
            st.text(max_size=5), scalars.filter(lambda v: not isinstance(v, bytes | datetime))
        )
        | st.integers(),
        "deadline": st.sampled_from(
            [_stamp(NOW + timedelta(seconds=5)), "soon", "2026-02-30T00:00:00Z"]
        ),
        "issued_at": st.just(_stamp(NOW)),
    },
    optional={"extra": st.integers()},
)
raw_payloads = (
    command_docs.map(lambda d: json.dumps(d, default=str).encode())
    | st.binary(max_size=50)
    | st.just(b"[" * 5000)
)


@settings(max_examples=300, deadline=None)
@given(raw=raw_payloads)
def test_command_parser_accepts_or_explains(raw: bytes) -> None:
    try:
        command = parse_command(raw, "edge-01")
    except ContractError as exc:
        assert exc.reason
        return
    assert command.deadline.tzinfo is not None and 1 <= len(command.id) <= 64


class _Published:
    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []

    def __call__(self, result: dict[str, Any]) -> None:
        self.results.append(result)


@settings(max_examples=60, deadline=None)
@given(raw=raw_payloads)
def test_executor_dead_letters_bad_commands_and_answers_when_it_can(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _check_executor(Path(folder), raw)


def _check_executor(folder: Path, raw: bytes) -> None:
    published = _Published()
    store = CommandStore(folder / "edge.sqlite")
    executor = CommandExecutor("edge-01", store, lambda _t: None, published, clock=lambda: NOW)
    try:
        letter = executor.handle("whs/v1/wh1/edges/edge-01/cmd", raw)
        executor.shutdown()
    finally:
        store.close()
    if letter is not None:
        assert letter.reason and letter.payload == raw
        assert all(r["status"] == "rejected" for r in published.results)
    else:
        # a valid command for an unknown target is answered `rejected` as well, never dropped
        assert [r["status"] for r in published.results] == ["rejected"]

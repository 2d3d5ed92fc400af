"""OPC UA data changes -> telemetry.sample events (pure: no asyncua objects, no I/O)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from firmware_interfaces.validation import ContractError

from edge.events import Event, format_ts

TELEMETRY_SAMPLE = "telemetry.sample"
SCHEMA = "event_telemetry_sample"
MAX_STRING = 1024
MAX_ITEMS = 1024
MAX_NODE_ID = 256
MAX_TAG = 128
_INT_LIMIT = 2**63
# OPC UA's "no time" is 1601-01-01; anything before 1970 is treated as missing.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")

Scalar = float | int | str | bool | None


@dataclass(frozen=True)
class DataChange:
    """One data change as the adapter saw it, already out of asyncua's types."""

    node_id: str
    tag: str
    value: Any
    status_code: int = 0
    source_ts: datetime | None = None
    server_ts: datetime | None = None


def quality(status_code: int) -> str:
    """OPC UA status code severity (top two bits) -> good, uncertain or bad."""
    severity = (status_code >> 30) & 0b11
    return "good" if severity == 0 else "uncertain" if severity == 1 else "bad"


def _scalar(value: Any, where: str) -> Scalar:
    if value is None or isinstance(value, bool | str):
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise ContractError(SCHEMA, f"{where}: string longer than {MAX_STRING} characters")
        return value
    if isinstance(value, int):
        if not -_INT_LIMIT <= value < _INT_LIMIT:
            raise ContractError(SCHEMA, f"{where}: integer {value} outside 64 bits")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ContractError(SCHEMA, f"{where}: {value} is not a finite number")
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return format_ts(value)
    raise ContractError(SCHEMA, f"{where}: unsupported value type {type(value).__name__}")


def json_value(value: Any) -> Scalar | list[Scalar]:
    """A data-change value as JSON (numbers, strings, booleans, null, flat lists of them)."""
    if isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            raise ContractError(SCHEMA, f"value: array longer than {MAX_ITEMS} items")
        return [_scalar(v, f"value[{i}]") for i, v in enumerate(value)]
    return _scalar(value, "value")


def _stamp(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # asyncua hands out naive UTC
    return when if when >= _EPOCH else None


def sample_event(device_id: str, change: DataChange, received_at: datetime) -> Event:
    """Turn one data change into a telemetry.sample event; ContractError if it is unusable."""
    if not _ID.match(device_id):
        raise ContractError(SCHEMA, f"device id {device_id!r} is not a valid id")
    if not change.node_id or len(change.node_id) > MAX_NODE_ID:
        raise ContractError(SCHEMA, f"node id must be 1..{MAX_NODE_ID} characters")
    if not change.tag or len(change.tag) > MAX_TAG:
        raise ContractError(SCHEMA, f"tag must be 1..{MAX_TAG} characters")
    if not isinstance(change.status_code, int) or not 0 <= change.status_code < 2**32:
        raise ContractError(SCHEMA, f"status code {change.status_code!r} is not a UInt32")
    try:
        when = _stamp(change.source_ts) or _stamp(change.server_ts) or received_at
        source_ts = format_ts(when)
    except (ValueError, OverflowError) as exc:
        raise ContractError(SCHEMA, f"source_ts: {exc}") from exc
    data: dict[str, Any] = {
        "device_id": device_id,
        "node_id": change.node_id,
        "tag": change.tag,
        "value": json_value(change.value),
        "quality": quality(change.status_code),
        "source_ts": source_ts,
    }
    if change.status_code:
        data["status_code"] = change.status_code
    return Event(TELEMETRY_SAMPLE, device_id, when, data)

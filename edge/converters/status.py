"""Device status payloads -> device.status events."""

from __future__ import annotations

from firmware_interfaces.validation import ContractError

from edge.converters import decode
from edge.events import DEVICE_STATUS, Event, parse_ts

SCHEMA = "device_status"


def parse_device_status(raw: bytes | str, device_id: str | None = None) -> Event:
    """Decode a device_status payload into a device.status event; ContractError if unusable."""
    payload = decode(SCHEMA, raw)
    if device_id is not None and payload["device_id"] != device_id:
        raise ContractError(
            SCHEMA,
            f"device_id {payload['device_id']!r} does not match the topic's device {device_id!r}",
        )
    try:
        ts = parse_ts(payload["ts"])
    except ValueError as exc:
        raise ContractError(SCHEMA, f"at ts: {exc}") from exc
    return Event(DEVICE_STATUS, payload["device_id"], ts, payload)

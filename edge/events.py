"""Typed edge events and the UTC time helpers every edge module shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GATE_PASS = "rfid.gate_pass"
STABLE_WEIGHT = "scale.stable_weight"
DEVICE_STATUS = "device.status"
DEAD_LETTER = "edge.dead_letter"
TAG_READ = "rfid.tag_read"
ALARM = "edge.alarm"


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


# Reads of one burst share their times (readers report in milliseconds): remember the last few.
_CACHE_SIZE = 4096
_formatted: dict[datetime, str] = {}
_parsed: dict[str, datetime] = {}


def format_ts(when: datetime) -> str:
    """RFC 3339 with millisecond precision and a Z suffix; naive datetimes are refused."""
    text = _formatted.get(when)
    if text is not None and when.tzinfo is not None:
        return text
    if when.tzinfo is None:
        raise ValueError("naive datetime: edge times must be timezone-aware")
    text = when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if len(_formatted) >= _CACHE_SIZE:
        _formatted.clear()
    _formatted[when] = text
    return text


def parse_ts(text: str) -> datetime:
    """Parse an RFC 3339 time (Z or explicit offset) into an aware UTC datetime."""
    when = _parsed.get(text)
    if when is not None:
        return when
    when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"time {text!r} has no offset")
    when = when.astimezone(UTC)
    if len(_parsed) >= _CACHE_SIZE:
        _parsed.clear()
    _parsed[text] = when
    return when


@dataclass(frozen=True)
class EncodedEvents:
    """Events already in wire JSON: `text` is their objects joined by commas, `count` of them."""

    count: int
    text: str


@dataclass(frozen=True)
class Event:
    """One uplink event: its type, the device (or edge) it is about, when, and its data."""

    type: str
    source: str
    ts: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The event as it appears inside an uplink batch."""
        return {
            "type": self.type,
            "source": self.source,
            "ts": format_ts(self.ts),
            "data": self.data,
        }

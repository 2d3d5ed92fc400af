"""Uplink batches in the edge's own compact form, split without decoding every event.

The edge writes a batch as `{"edge_id":..,"site":..,"epoch":..,"seq":..,"sent_at":..,"events":[..]}`
with each event encoded by orjson in a fixed key order. `split_batch` checks the head against the
uplink_batch schema (everything but `events`) and walks the events array: an `rfid.tag_read`
event in exactly the edge's form is matched by one precompiled regex that accepts only what the
schemas accept (a subset of it), and its data is kept as the JSON text it arrived as; any other
event is decoded on its own and goes the full way (schema checks, dead letter with the reason).
Anything unusual about the batch as a whole (whitespace, other key order, bad JSON) gives None:
the caller decodes the batch in full, which also gives the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from firmware_interfaces.fastcheck import Check, compile_check
from firmware_interfaces.validation import load_schema

_NAME = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"
_TIME = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})"
)
# The event's ts goes into a timestamptz column: hours, minutes, seconds and offset in range
# here, the date checked once per distinct day (_valid_day); Python and PostgreSQL agree on these.
_COLUMN_TIME = (
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
# event_tag_read.json: antenna 1..32, peak_rssi -128..0 (plain decimals only), counts >= 1 / >= 0
_RSSI = (
    r"(?:-?0(?:\.0+)?|-0\.[0-9]+|-(?:[1-9]|[1-9][0-9]|1[01][0-9]|12[0-7])(?:\.[0-9]+)?"
    r"|-128(?:\.0+)?)"
)
TAG_READ = "rfid.tag_read"
_TAG_READ_EVENT = re.compile(
    r'\{"type":"rfid\.tag_read","source":"(' + _NAME + r')","ts":"(' + _COLUMN_TIME + r')",'
    r'"data":(\{"gate_id":"' + _NAME + r'","epc":"[0-9A-F]{8,64}",'
    r'"antenna":(?:[1-9]|[12][0-9]|3[0-2]),"peak_rssi":' + _RSSI + ","
    r'"first_seen":"' + _TIME + r'","last_seen":"' + _TIME + r'",'
    r'"read_count":[1-9][0-9]*,"reader_seq":(?:0|[1-9][0-9]*)\})\}'
)
_EVENTS_KEY = ',"events":['
_MAX_EVENTS = 10000
_decode_at = json.JSONDecoder().raw_decode


@dataclass
class SplitBatch:
    """A batch split at its events: `events[i]` is None where `plain[i]` holds the event as
    (type, source, ts, data JSON text), already known to obey its schemas."""

    head: dict[str, Any]
    events: list[dict[str, Any] | None]
    plain: list[tuple[str, str, str, str] | None]


@cache
def _head_check() -> Check | None:
    schema = dict(load_schema("uplink_batch"))
    schema["properties"] = {k: v for k, v in schema["properties"].items() if k != "events"}
    schema["required"] = [k for k in schema["required"] if k != "events"]
    return compile_check(schema)


@cache
def _event_check() -> Check | None:
    return compile_check(load_schema("uplink_batch")["properties"]["events"]["items"])


@cache
def _valid_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def split_batch(raw: bytes) -> SplitBatch | None:
    """Split an uplink payload in the edge's compact form; None: decode it in full instead."""
    if not raw.isascii():
        return None
    text = raw.decode("ascii")
    cut = text.find(_EVENTS_KEY)
    if cut < 0 or not text.endswith("]}"):
        return None
    try:
        head = json.loads(text[:cut] + "}")
    except (ValueError, RecursionError):
        return None
    check = _head_check()
    if type(head) is not dict or "events" in head or check is None or not check(head):
        return None
    events: list[dict[str, Any] | None] = []
    plain: list[tuple[str, str, str, str] | None] = []
    match = _TAG_READ_EVENT.match
    valid_day = _valid_day
    pos, end = cut + len(_EVENTS_KEY), len(text) - 2
    while True:
        found = match(text, pos)
        if found is not None and valid_day(found[2][:10]):
            source, ts, data = found.groups()
            plain.append((TAG_READ, source, ts, data))
            events.append(None)
            pos = found.end()
        else:
            try:
                event, pos = _decode_at(text, pos)
            except (ValueError, RecursionError):
                return None
            events.append(event)
            plain.append(None)
        if pos >= end:
            break
        if text[pos] != ",":
            return None
        pos += 1
    if pos != end or len(events) > _MAX_EVENTS:
        return None
    item = _event_check()
    if item is None or not all(item(e) for e in events if e is not None):
        return None  # an envelope error: the full decode names it
    head["events"] = events
    return SplitBatch(head, events, plain)

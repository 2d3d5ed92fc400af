"""RFID gate: read batches -> de-duplicated tag sightings -> one gate-pass event per pass."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from firmware_interfaces.validation import ContractError

from edge.converters import decode
from edge.events import GATE_PASS, TAG_READ, EncodedEvents, Event, format_ts, parse_ts

SCHEMA = "rfid_reads"
IN, OUT, UNKNOWN = "in", "out", "unknown"


@dataclass(frozen=True)
class TagRead:
    """One tag reported by one antenna of a gate in one read cycle."""

    gate_id: str
    epc: str
    antenna: int
    peak_rssi: float
    first_seen: datetime
    last_seen: datetime
    read_count: int = 1


@dataclass(frozen=True)
class ReadBatch:
    """A reader's read-cycle report."""

    reader_id: str
    seq: int
    sent_at: datetime
    reads: tuple[TagRead, ...]


def parse_rfid_reads(raw: bytes | str, gate_id: str | None = None) -> ReadBatch:
    """Decode an rfid_reads payload; ContractError (with the reason) if it is unusable."""
    payload = decode(SCHEMA, raw)
    reader_id = payload["reader_id"]
    if gate_id is not None and reader_id != gate_id:
        raise ContractError(
            SCHEMA, f"reader_id {reader_id!r} does not match the topic's device {gate_id!r}"
        )
    reads = []
    for i, r in enumerate(payload["reads"]):
        epc = r["epc"].upper()
        if len(epc) % 4:
            # The EPC bank is word-addressed: a reader never reports a partial 16-bit word.
            raise ContractError(
                SCHEMA, f"at reads/{i}/epc: {epc!r} is not a whole number of 16-bit words"
            )
        first = _time(r["first_seen"], f"reads/{i}/first_seen")
        last = _time(r["last_seen"], f"reads/{i}/last_seen") if "last_seen" in r else first
        if last < first:
            raise ContractError(SCHEMA, f"at reads/{i}: last_seen is before first_seen")
        reads.append(
            TagRead(
                reader_id,
                epc,
                r["antenna"],
                float(r["peak_rssi"]),
                first,
                last,
                r.get("read_count", 1),
            )
        )
    return ReadBatch(reader_id, payload["seq"], _time(payload["sent_at"], "sent_at"), tuple(reads))


def _time(text: str, where: str) -> datetime:
    try:
        return parse_ts(text)
    except ValueError as exc:
        raise ContractError(SCHEMA, f"at {where}: {exc}") from exc


def direction_from_antennas(
    first_antenna: int, last_antenna: int, outer: Iterable[int], inner: Iterable[int]
) -> str:
    """Outer first and inner last = in; inner first and outer last = out; else unknown."""
    outer_set, inner_set = set(outer), set(inner)
    if first_antenna in outer_set and last_antenna in inner_set:
        return IN
    if first_antenna in inner_set and last_antenna in outer_set:
        return OUT
    return UNKNOWN


def majority_direction(directions: Sequence[str]) -> str:
    """The most common tag direction; a tie for first place (or no tags) is unknown."""
    ranked = Counter(directions).most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return UNKNOWN
    return ranked[0][0]


class Deduplicator:
    """Says whether a tag was already seen at this gate within the window before a read."""

    def __init__(self, window_s: float) -> None:
        self.window = timedelta(seconds=window_s)
        self._last_seen: dict[str, datetime] = {}

    def is_repeat(self, epc: str, first_seen: datetime, last_seen: datetime | None = None) -> bool:
        """True if `epc` was seen within the window before `first_seen`; remembers this read."""
        previous = self._last_seen.get(epc)
        repeat = previous is not None and first_seen - previous <= self.window
        latest = last_seen or first_seen
        if previous is None or latest > previous:
            self._last_seen[epc] = latest
        return repeat

    def keep_fresh(
        self, reads: Iterable[tuple[str, datetime, datetime, Any]]
    ) -> tuple[list[Any], datetime | None]:
        """is_repeat for each (epc, first_seen, last_seen, item) in turn: the items that are not
        repeats, and the latest last_seen among them (the `reads` fast path's loop)."""
        seen = self._last_seen
        window = self.window
        kept = []
        latest = None
        for epc, first, last, item in reads:
            previous = seen.get(epc)
            if previous is None:
                seen[epc] = last
            else:
                if last > previous:
                    seen[epc] = last
                if first - previous <= window:
                    continue
            kept.append(item)
            if latest is None or last > latest:
                latest = last
        return kept, latest

    def forget_before(self, when: datetime) -> None:
        """Drop tags last seen more than a window before `when` (bounds memory)."""
        horizon = when - self.window
        self._last_seen = {epc: t for epc, t in self._last_seen.items() if t >= horizon}


@dataclass
class _TagTrack:
    epc: str
    first_seen: datetime
    last_seen: datetime
    first_antenna: int
    last_antenna: int
    peak_rssi: float
    antennas: list[int] = field(default_factory=list)

    def merge(self, read: TagRead) -> None:
        if read.first_seen < self.first_seen:
            self.first_seen, self.first_antenna = read.first_seen, read.antenna
        if read.last_seen >= self.last_seen:
            self.last_seen, self.last_antenna = read.last_seen, read.antenna
        self.peak_rssi = max(self.peak_rssi, read.peak_rssi)
        if read.antenna not in self.antennas:
            self.antennas.append(read.antenna)


class GatePassTracker:
    """Groups a gate's de-duplicated tag sightings into passes that end when the gate goes quiet.

    Reads of a tag already in the open pass are merged into it; reads of a tag that belonged to a
    pass closed less than the de-duplication window ago are dropped (a tag lingering in the gate
    does not make a second pass).
    """

    def __init__(
        self,
        gate_id: str,
        *,
        pass_gap_s: float,
        dedup_window_s: float,
        outer_antennas: Iterable[int] = (1,),
        inner_antennas: Iterable[int] = (2,),
    ) -> None:
        self.gate_id = gate_id
        self.pass_gap = timedelta(seconds=pass_gap_s)
        self.outer = tuple(outer_antennas)
        self.inner = tuple(inner_antennas)
        self.dedup = Deduplicator(dedup_window_s)
        self._tracks: dict[str, _TagTrack] = {}
        self._last_activity: datetime | None = None
        self.duplicates_dropped = 0

    @property
    def open(self) -> bool:
        """Whether a pass is in progress."""
        return bool(self._tracks)

    def add(self, reads: Iterable[TagRead], received_at: datetime) -> list[Event]:
        """Feed reads received at `received_at`; returns the pass they closed, if any."""
        closed = self.poll(received_at)
        for read in reads:
            repeat = self.dedup.is_repeat(read.epc, read.first_seen, read.last_seen)
            track = self._tracks.get(read.epc)
            if track is not None:
                track.merge(read)
            elif repeat:
                self.duplicates_dropped += 1
                continue
            else:
                self._tracks[read.epc] = _TagTrack(
                    read.epc,
                    read.first_seen,
                    read.last_seen,
                    read.antenna,
                    read.antenna,
                    read.peak_rssi,
                    [read.antenna],
                )
            self._last_activity = received_at
        return closed

    def poll(self, now: datetime) -> list[Event]:
        """Close the open pass if the gate has been quiet for pass_gap_s by `now`."""
        if (
            not self._tracks
            or self._last_activity is None
            or now - self._last_activity < self.pass_gap
        ):
            return []
        return [self.close()]

    def close(self) -> Event:
        """Close the open pass now and return its event (there must be one)."""
        tracks = sorted(self._tracks.values(), key=lambda t: (t.first_seen, t.epc))
        self._tracks = {}
        tags = []
        for t in tracks:
            direction = direction_from_antennas(
                t.first_antenna, t.last_antenna, self.outer, self.inner
            )
            tags.append(
                {
                    "epc": t.epc,
                    "direction": direction,
                    "first_seen": format_ts(t.first_seen),
                    "last_seen": format_ts(t.last_seen),
                    "peak_rssi": t.peak_rssi,
                    "antennas": list(t.antennas),
                }
            )
        started = min(t.first_seen for t in tracks)
        ended = max(t.last_seen for t in tracks)
        self.dedup.forget_before(ended)
        data = {
            "gate_id": self.gate_id,
            "direction": majority_direction([str(tag["direction"]) for tag in tags]),
            "started_at": format_ts(started),
            "ended_at": format_ts(ended),
            "tags": tags,
        }
        return Event(GATE_PASS, self.gate_id, ended, data)


class TagReadEmitter:
    """Gate in `reads` mode: one rfid.tag_read event per de-duplicated tag sighting."""

    def __init__(self, gate_id: str, *, dedup_window_s: float) -> None:
        self.gate_id = gate_id
        self.dedup = Deduplicator(dedup_window_s)
        self.duplicates_dropped = 0
        self._latest: datetime | None = None

    def add(self, batch: ReadBatch) -> list[Event]:
        """Events for the reads of one batch whose tag was not seen within the window."""
        events = []
        for read in batch.reads:
            if self.dedup.is_repeat(read.epc, read.first_seen, read.last_seen):
                self.duplicates_dropped += 1
                continue
            if self._latest is None or read.last_seen > self._latest:
                self._latest = read.last_seen
            data = {
                "gate_id": self.gate_id,
                "epc": read.epc,
                "antenna": read.antenna,
                "peak_rssi": read.peak_rssi,
                "first_seen": format_ts(read.first_seen),
                "last_seen": format_ts(read.last_seen),
                "read_count": read.read_count,
                "reader_seq": batch.seq,
            }
            events.append(Event(TAG_READ, self.gate_id, read.first_seen, data))
        return events

    def forget_old(self) -> None:
        """Drop tags last seen more than a window before the newest read (bounds memory)."""
        if self._latest is not None:
            self.dedup.forget_before(self._latest)


# The fast path of `reads` mode (see TagReadEmitter.add_raw): the rfid_reads schema, by hand.
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})\Z")
_EPC = re.compile(r"[0-9A-Fa-f]{8,64}\Z")
_READER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
_TOP_KEYS = frozenset(("reader_id", "seq", "sent_at", "reads"))
_READ_KEYS = frozenset(("epc", "antenna", "peak_rssi", "first_seen", "last_seen", "read_count"))
_TIMES_CACHE = 4096
# time text -> (UTC datetime, its millisecond wire form), only for texts the schema's pattern allows
_times: dict[str, tuple[datetime, str]] = {}


def _fast_time(text: Any) -> tuple[datetime, str] | None:
    """A valid RFC 3339 time as (datetime, wire text); None if not plainly valid."""
    hit = _times.get(text) if type(text) is str else None
    if hit is not None:
        return hit
    if type(text) is not str or _TIME.match(text) is None:
        return None
    try:
        if len(text) >= 24 and text[19] == "." and text[-1] == "Z":
            # UTC with 3+ fraction digits (what devices send): the millisecond wire form is the
            # text cut after the milliseconds, as format_ts would give (it truncates)
            hit = (datetime.fromisoformat(text), text[:23] + "Z")
        else:
            when = parse_ts(text)
            hit = (when, format_ts(when))
    except ValueError:
        return None
    if len(_times) >= _TIMES_CACHE:
        _times.clear()
    _times[text] = hit
    return hit


def _fast_reads(
    payload: Any, gate_id: str
) -> list[tuple[str, datetime, datetime, dict[str, Any]]] | None:
    """(epc, first_seen, last_seen, event) per read of a plainly valid rfid_reads payload, else
    None.

    Accepts only what the schema and parse_rfid_reads accept (the property tests hold it to
    that); anything else, including valid but unusual input, goes the full way for its verdict.
    """
    if type(payload) is not dict or payload.keys() != _TOP_KEYS:
        return None
    reader, seq, reads = payload["reader_id"], payload["seq"], payload["reads"]
    if (
        reader != gate_id
        or type(reader) is not str
        or _READER.match(reader) is None
        or type(seq) is not int
        or seq < 0
        or type(reads) is not list
        or len(reads) > 5000
        or _fast_time(payload["sent_at"]) is None
    ):
        return None
    out: list[tuple[str, datetime, datetime, dict[str, Any]]] = []
    append = out.append
    epc_match = _EPC.match
    read_keys = _READ_KEYS
    # the reads of one message mostly share their time text: look it up once
    text: Any = None
    first: tuple[datetime, str] | None = None
    for r in reads:
        if type(r) is not dict or not r.keys() <= read_keys:
            return None
        epc, antenna, rssi = r.get("epc"), r.get("antenna"), r.get("peak_rssi")
        if (
            type(epc) is not str
            or len(epc) % 4
            or epc_match(epc) is None
            or type(antenna) is not int
            or not 1 <= antenna <= 32
            or type(rssi) is not float  # NaN fails the range test below, ints go the full way
            or not -128.0 <= rssi <= 0.0
        ):
            return None
        first_text = r.get("first_seen")
        if first is None or first_text != text:  # equal to a valid str: that same text
            first = _fast_time(first_text)
            if first is None:
                return None
            text = first_text
        if len(r) == 4:  # epc, antenna, peak_rssi and first_seen (all checked above)
            last, count = first, 1
        else:
            given = _fast_time(r["last_seen"]) if "last_seen" in r else first
            count = r.get("read_count", 1)
            if given is None or given[0] < first[0] or type(count) is not int or count < 1:
                return None
            last = given
        epc = epc.upper()
        data = {
            "gate_id": gate_id,
            "epc": epc,
            "antenna": antenna,
            "peak_rssi": rssi,
            "first_seen": first[1],
            "last_seen": last[1],
            "read_count": count,
            "reader_seq": seq,
        }
        event = {"type": TAG_READ, "source": gate_id, "ts": first[1], "data": data}
        append((epc, first[0], last[0], event))
    return out


def add_raw_reads(emitter: TagReadEmitter, raw: bytes, max_row: int) -> list[EncodedEvents] | None:
    """`reads` mode's fast path: one payload straight to encoded tag-read events (rows of at most
    max_row events); None when the payload is not plainly valid (the caller goes the full way,
    which gives the reason or handles the unusual case)."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    reads = _fast_reads(payload, emitter.gate_id)
    if reads is None:
        return None
    fresh, latest = emitter.dedup.keep_fresh(reads)
    emitter.duplicates_dropped += len(reads) - len(fresh)
    if latest is not None and (emitter._latest is None or latest > emitter._latest):
        emitter._latest = latest
    return [
        EncodedEvents(len(chunk), orjson.dumps(chunk)[1:-1].decode())
        for chunk in (fresh[i : i + max_row] for i in range(0, len(fresh), max_row))
    ]

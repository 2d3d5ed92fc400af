"""The outbox: events waiting for central, sealed into numbered batches until acked.

`Outbox` is the interface the uplink uses; `MemoryOutbox` keeps everything in memory (lost on a
restart, so the edge starts a new epoch every time). A durable SQLite journal can implement the
same interface and keep its epoch across restarts (`edge.journal.SqliteOutbox`).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import orjson

from edge.events import EncodedEvents

# What an outbox takes: one event in wire form, or several already encoded (one journal row).
WireItem = dict[str, Any] | EncodedEvents

EPOCH_FILE = "epoch"


def message_key(topic: str, payload: bytes) -> int:
    """A 63-bit key naming one device message; a redelivered copy has the same key."""
    digest = hashlib.blake2b(topic.encode() + b"\0" + payload, digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class Batch:
    """A sealed batch: its sequence number within the epoch and its events (wire form).

    A journal's batch is made from its rows' JSON (`body`, one array, spliced into every (re)send
    as it is) and `size`; `events` is then parsed only when something asks for it.
    """

    def __init__(
        self,
        seq: int,
        events: Sequence[dict[str, Any]] | None = None,
        body: str | None = None,
        size: int | None = None,
    ) -> None:
        if events is None and (body is None or size is None):
            raise ValueError("a batch needs its events, or their JSON and how many there are")
        self.seq = seq
        self.body = body
        if events is not None:
            self.__dict__["events"] = tuple(events)
        self.size = len(events) if events is not None else int(size or 0)

    @cached_property
    def events(self) -> tuple[dict[str, Any], ...]:
        """The events (wire form)."""
        return tuple(orjson.loads(self.body or "[]"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Batch):
            return NotImplemented
        return self.seq == other.seq and self.events == other.events

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Batch(seq={self.seq}, size={self.size})"


def expand(items: Iterable[WireItem]) -> list[dict[str, Any]]:
    """Wire items as one list of events (encoded ones parsed)."""
    events: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, EncodedEvents):
            events.extend(orjson.loads("[" + item.text + "]"))
        else:
            events.append(item)
    return events


def item_count(item: WireItem) -> int:
    """How many events a wire item holds."""
    return item.count if isinstance(item, EncodedEvents) else 1


class Outbox(Protocol):
    """What the uplink needs from a store of events awaiting central's ack."""

    epoch: int

    def append(self, events: Sequence[WireItem], keys: Iterable[int] = ()) -> None:
        """Add events (wire form) after every event appended before, with their messages' keys."""

    def seen(self, keys: Iterable[int]) -> set[int]:
        """Which of these message keys were appended before (the message is a redelivery)."""

    def next_batch(self, max_events: int) -> Batch | None:
        """Seal up to max_events unbatched events into a batch with the next seq (None if none)."""

    def unacked(self) -> list[Batch]:
        """Sealed batches central has not acked yet, in seq order."""

    def ack(self, seq: int) -> int:
        """Drop every batch with a seq up to and including `seq`; return how many were dropped."""

    def pending(self) -> int:
        """Events not yet acked (sealed or not)."""

    def unbatched(self) -> int:
        """Events not yet sealed into a batch."""


class MemoryOutbox:
    """An in-memory Outbox (thread-safe); its state dies with the process."""

    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self._lock = threading.Lock()
        self._queue: deque[dict[str, Any]] = deque()
        self._batches: deque[Batch] = deque()
        self._next_seq = 1
        self._keys: OrderedDict[int, None] = OrderedDict()

    def append(self, events: Sequence[WireItem], keys: Iterable[int] = ()) -> None:
        """Add events (wire form) after every event appended before, with their messages' keys."""
        with self._lock:
            self._queue.extend(expand(events))
            for k in keys:
                self._keys[k] = None
            while len(self._keys) > 100_000:
                self._keys.popitem(last=False)

    def seen(self, keys: Iterable[int]) -> set[int]:
        """Which of these message keys were appended before (the message is a redelivery)."""
        with self._lock:
            return {k for k in keys if k in self._keys}

    def next_batch(self, max_events: int) -> Batch | None:
        """Seal up to max_events unbatched events into a batch with the next seq (None if none)."""
        with self._lock:
            if not self._queue:
                return None
            count = min(max_events, len(self._queue))
            batch = Batch(self._next_seq, tuple(self._queue.popleft() for _ in range(count)))
            self._next_seq += 1
            self._batches.append(batch)
            return batch

    def unacked(self) -> list[Batch]:
        """Sealed batches central has not acked yet, in seq order."""
        with self._lock:
            return list(self._batches)

    def ack(self, seq: int) -> int:
        """Drop every batch with a seq up to and including `seq`; return how many were dropped."""
        dropped = 0
        with self._lock:
            while self._batches and self._batches[0].seq <= seq:
                self._batches.popleft()
                dropped += 1
        return dropped

    def pending(self) -> int:
        """Events not yet acked (sealed or not)."""
        with self._lock:
            return len(self._queue) + sum(b.size for b in self._batches)

    def unbatched(self) -> int:
        """Events not yet sealed into a batch."""
        with self._lock:
            return len(self._queue)


def read_epoch(data_dir: Path) -> int | None:
    """The epoch persisted in data_dir, or None for an edge that never ran there."""
    try:
        return int((data_dir / EPOCH_FILE).read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return None


def bump_epoch(data_dir: Path) -> int:
    """Start a new epoch and persist it: max(previous + 1, Unix seconds now).

    Seeding from the clock keeps epochs increasing even when the whole data directory (with
    the old epoch) is lost, so central never mistakes new batches for ones it already has.
    """
    previous = read_epoch(data_dir)
    epoch = max(int(time.time()), (previous if previous is not None else -1) + 1)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".{EPOCH_FILE}.tmp"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.write(f"{epoch}\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, data_dir / EPOCH_FILE)
    return epoch

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

EPOCH_FILE = "epoch"


def message_key(topic: str, payload: bytes) -> int:
    """A 63-bit key naming one device message; a redelivered copy has the same key."""
    digest = hashlib.blake2b(topic.encode() + b"\0" + payload, digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


@dataclass(frozen=True)
class Batch:
    """A sealed batch: its sequence number within the epoch and its events (wire form)."""

    seq: int
    events: tuple[dict[str, Any], ...]
    # The events as a JSON array, when the outbox has it already (spliced into every (re)send).
    body: str | None = field(default=None, compare=False, repr=False)


class Outbox(Protocol):
    """What the uplink needs from a store of events awaiting central's ack."""

    epoch: int

    def append(self, events: Sequence[dict[str, Any]], keys: Iterable[int] = ()) -> None:
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

    def append(self, events: Sequence[dict[str, Any]], keys: Iterable[int] = ()) -> None:
        """Add events (wire form) after every event appended before, with their messages' keys."""
        with self._lock:
            self._queue.extend(events)
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
            return len(self._queue) + sum(len(b.events) for b in self._batches)

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

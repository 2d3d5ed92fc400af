"""A durable Outbox: a SQLite (WAL) journal in the edge's data directory.

Events are committed to the journal before anything is sent, sealed batches keep their seq across
restarts, and the epoch only changes when the journal itself is lost.

Durability: WAL with `synchronous=FULL` fsyncs the WAL on every commit, so a committed group of
events survives a kill -9 *and* a power loss. (`NORMAL` would survive a crashed process but could
lose the last commits on power loss; since the agent acknowledges device messages to the broker
only after the commit, that would lose data the devices consider delivered.) One commit covers a
whole group of device messages, so the fsync is paid per group, not per event.

Redelivery: the keys of the device messages whose events a group holds are committed in the same
transaction; a message the broker delivers again after a crash (it was committed here but the
acknowledgement never reached the broker) is recognised by `seen` and skipped. A group's keys are
one `seen_keys` row (its 64-bit keys packed in one blob, native byte order: the journal never
leaves the machine) numbered by its last key: one insert per commit instead of one insert of a
random key into a B-tree per message, ~5 µs of the edge's CPU per device message.

Rows: a row holds `n` events as their JSON objects joined by commas, usually all the events of one
device message (50 RFID reads: one row, one insert). A batch is whole rows, in id order, so the
seq of a batch and the order of the events in it are what they were with one row per event.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from array import array
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from pathlib import Path

from firmware_interfaces.encoding import compact_encoder

from edge.events import EncodedEvents
from edge.outbox import Batch, WireItem, bump_epoch

logger = logging.getLogger(__name__)

JOURNAL_FILE = "journal.sqlite"

REMEMBER_KEYS = 100_000


def _batch(seq: int, bodies: list[str], size: int) -> Batch:
    """A batch from its journal rows: one JSON array, sent as it is (parsed only if asked)."""
    return Batch(seq, body="[" + ",".join(bodies) + "]", size=size)


_encode = compact_encoder()


def _pack_keys(keys: list[int]) -> bytes:
    """Message keys (63-bit, non-negative) as one blob."""
    return array("q", keys).tobytes()


def _unpack_keys(blob: bytes) -> list[int]:
    """The message keys of a `_pack_keys` blob."""
    packed = array("q")
    packed.frombytes(blob)
    return packed.tolist()


def _row(item: WireItem) -> tuple[int, str]:
    """(events, JSON text) of one journal row."""
    if isinstance(item, EncodedEvents):
        return item.count, item.text
    return 1, _encode(item)


class SqliteOutbox:
    """Outbox backed by SQLite; sealed batches are also cached in memory (they never change)."""

    def __init__(self, data_dir: Path, remember_keys: int = REMEMBER_KEYS) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / JOURNAL_FILE
        self.remember_keys = remember_keys
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " batch_seq INTEGER, body TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 1)"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
        if "n" not in columns:  # a journal from before rows of several events: one each
            self._db.execute("ALTER TABLE events ADD COLUMN n INTEGER NOT NULL DEFAULT 1")
        # the keys of a group's device messages in one row, `n` the number of its last key
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS seen_keys (n INTEGER PRIMARY KEY, keys BLOB NOT NULL)"
        )
        # sealed batches: rows up to last_id (after the previous batch's); sealing writes one
        # small row here instead of rewriting every event row it seals
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, last_id INTEGER NOT NULL)"
        )
        with self._db:  # a journal from before the batches table: its rows name their batch
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR IGNORE INTO batches (seq, last_id) SELECT batch_seq, MAX(id)"
                " FROM events WHERE batch_seq IS NOT NULL GROUP BY batch_seq"
            )
            self._db.execute("UPDATE events SET batch_seq = NULL WHERE batch_seq IS NOT NULL")
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        if "epoch" in meta:
            self.epoch = int(meta["epoch"])
            self._next_seq = int(meta["next_seq"])
        else:
            # a new (or lost) journal: its batches' seqs start again, so a new epoch is needed
            self.epoch, self._next_seq = bump_epoch(data_dir), 1
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    [("epoch", self.epoch), ("next_seq", 1)],
                )
        self._next_id = 1 + int(
            self._db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
        )
        self._last_id: dict[int, int] = {}
        # unbatched rows (id, events, JSON), also kept in memory so sealing reads nothing back
        self._rows: deque[tuple[int, int, str]] = deque()
        self._batches: deque[Batch] = deque(self._load_batches())
        self._unbatched = sum(n for _, n, _ in self._rows)
        self._move_old_seen()
        self._keys: OrderedDict[int, None] = OrderedDict()
        for (blob,) in self._db.execute("SELECT keys FROM seen_keys ORDER BY n"):
            for k in _unpack_keys(blob):
                self._keys.pop(k, None)
                self._keys[k] = None
        self._key_n = 1 + int(
            self._db.execute("SELECT COALESCE(MAX(n), 0) FROM seen_keys").fetchone()[0]
        )
        if self._batches or self._unbatched:
            logger.info(
                "journal %s: epoch %s, %d unacked batch(es) and %d unbatched event(s) to send",
                self.path,
                self.epoch,
                len(self._batches),
                self._unbatched,
            )

    def _move_old_seen(self) -> None:
        """A journal from before `seen_keys` has one `seen (key, n)` row per message: move them."""
        old = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'seen'"
        ).fetchone()
        if old is None:
            return
        keys = [int(k) for (k,) in self._db.execute("SELECT key FROM seen ORDER BY n")]
        last = int(self._db.execute("SELECT COALESCE(MAX(n), 0) FROM seen").fetchone()[0])
        with self._db:
            self._db.execute("BEGIN")
            if keys:
                self._db.execute(
                    "INSERT OR REPLACE INTO seen_keys (n, keys) VALUES (?, ?)",
                    (last, _pack_keys(keys)),
                )
            self._db.execute("DROP TABLE seen")

    def _load_batches(self) -> list[Batch]:
        """The sealed batches from the journal; the rows after the last one go to `_rows`."""
        bounds = self._db.execute("SELECT seq, last_id FROM batches ORDER BY seq").fetchall()
        rows = self._db.execute("SELECT id, n, body FROM events ORDER BY id").fetchall()
        batches, at = [], 0
        for seq, last_id in bounds:
            bodies, size = [], 0
            while at < len(rows) and rows[at][0] <= last_id:
                bodies.append(rows[at][2])
                size += int(rows[at][1])
                at += 1
            if bodies:
                self._last_id[int(seq)] = int(last_id)
                batches.append(_batch(int(seq), bodies, size))
        self._rows.extend((int(i), int(n), body) for i, n, body in rows[at:])
        return batches

    def append(self, events: Sequence[WireItem], keys: Iterable[int] = ()) -> None:
        """Commit events (wire form; an EncodedEvents is one row), and the keys of the messages
        they came from, together."""
        keys = list(keys)
        with self._lock:
            first = self._next_id
            rows = [(first + i, *_row(item)) for i, item in enumerate(events)]
            n = self._key_n
            with self._db:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT INTO events (id, n, body) VALUES (?, ?, ?)", rows)
                if keys:
                    self._db.execute(
                        "INSERT INTO seen_keys (n, keys) VALUES (?, ?)",
                        (n + len(keys) - 1, _pack_keys(keys)),
                    )
            # only once committed: a failed commit leaves nothing marked as journaled
            self._next_id += len(rows)
            self._unbatched += sum(count for _, count, _ in rows)
            self._rows.extend(rows)
            if keys:
                self._key_n += len(keys)
                for k in keys:
                    self._keys[k] = None
                    self._keys.move_to_end(k)
                if len(self._keys) > 2 * self.remember_keys:
                    self._forget_keys()

    def _forget_keys(self) -> None:
        while len(self._keys) > self.remember_keys:
            self._keys.popitem(last=False)
        # whole groups older than the keys remembered (a straddling group stays until later)
        self._db.execute("DELETE FROM seen_keys WHERE n < ?", (self._key_n - self.remember_keys,))

    def seen(self, keys: Iterable[int]) -> set[int]:
        """Which of these message keys were committed before (the message is a redelivery)."""
        with self._lock:
            return {k for k in keys if k in self._keys}

    def next_batch(self, max_events: int) -> Batch | None:
        """Seal whole rows, up to max_events unbatched events (at least one row), into a batch
        with the next seq (None if there are none)."""
        with self._lock:
            if not self._rows:
                return None
            seq = self._next_seq
            taken: list[tuple[int, int, str]] = []
            size = 0
            while self._rows and (not taken or size + self._rows[0][1] <= max_events):
                taken.append(self._rows.popleft())
                size += taken[-1][1]
            last = taken[-1][0]
            try:
                with self._db:
                    self._db.execute("BEGIN")
                    self._db.execute(
                        "INSERT INTO batches (seq, last_id) VALUES (?, ?)", (seq, last)
                    )
                    self._db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (seq + 1,))
            except BaseException:
                self._rows.extendleft(reversed(taken))  # still unbatched
                raise
            self._next_seq = seq + 1
            self._unbatched -= size
            self._last_id[seq] = last
            batch = _batch(seq, [body for _, _, body in taken], size)
            self._batches.append(batch)
            return batch

    def unacked(self) -> list[Batch]:
        """Sealed batches central has not acked yet, in seq order."""
        with self._lock:
            return list(self._batches)

    def ack(self, seq: int) -> int:
        """Delete every batch with a seq up to and including `seq`; return how many."""
        with self._lock:
            dropped, last_id = 0, None
            while self._batches and self._batches[0].seq <= seq:
                gone = self._batches.popleft()
                last_id = self._last_id.pop(gone.seq, last_id)
                dropped += 1
            if last_id is not None:
                # Not fsynced on its own: a delete lost in a power cut only makes the edge resend
                # batches central has (and ignores); the next FULL commit syncs it anyway.
                self._db.execute("PRAGMA synchronous=NORMAL")
                try:
                    with self._db:
                        self._db.execute("BEGIN")
                        self._db.execute("DELETE FROM events WHERE id <= ?", (last_id,))
                        self._db.execute("DELETE FROM batches WHERE seq <= ?", (seq,))
                finally:
                    self._db.execute("PRAGMA synchronous=FULL")
            return dropped

    def pending(self) -> int:
        """Events not yet acked (sealed or not)."""
        with self._lock:
            return self._unbatched + sum(b.size for b in self._batches)

    def unbatched(self) -> int:
        """Events not yet sealed into a batch."""
        with self._lock:
            return self._unbatched

    def close(self) -> None:
        """Close the journal."""
        with self._lock:
            self._db.close()

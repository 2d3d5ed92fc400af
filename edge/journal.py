"""A durable Outbox: a SQLite (WAL) journal in the edge's data directory.

Events are committed to the journal before anything is sent, sealed batches keep their seq across
restarts, and the epoch only changes when the journal itself is lost.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edge.outbox import Batch, bump_epoch

logger = logging.getLogger(__name__)

JOURNAL_FILE = "journal.sqlite"


class SqliteOutbox:
    """Outbox backed by SQLite; sealed batches are also cached in memory (they never change)."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / JOURNAL_FILE
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT,"
            " batch_seq INTEGER, body TEXT NOT NULL)"
        )
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
        self._batches: deque[Batch] = deque(self._load_batches())
        self._unbatched = int(
            self._db.execute("SELECT COUNT(*) FROM events WHERE batch_seq IS NULL").fetchone()[0]
        )
        if self._batches or self._unbatched:
            logger.info(
                "journal %s: epoch %s, %d unacked batch(es) and %d unbatched event(s) to send",
                self.path,
                self.epoch,
                len(self._batches),
                self._unbatched,
            )

    def _load_batches(self) -> list[Batch]:
        rows = self._db.execute(
            "SELECT batch_seq, body FROM events WHERE batch_seq IS NOT NULL ORDER BY batch_seq, id"
        ).fetchall()
        grouped: dict[int, list[dict[str, Any]]] = {}
        for seq, body in rows:
            grouped.setdefault(int(seq), []).append(json.loads(body))
        return [Batch(seq, tuple(events)) for seq, events in sorted(grouped.items())]

    def append(self, events: Sequence[dict[str, Any]]) -> None:
        """Commit events (wire form) to the journal."""
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO events (body) VALUES (?)",
                [(json.dumps(e, separators=(",", ":")),) for e in events],
            )
            self._unbatched += len(events)

    def next_batch(self, max_events: int) -> Batch | None:
        """Seal up to max_events unbatched events into a batch with the next seq (None if none)."""
        with self._lock:
            if not self._unbatched:
                return None
            seq = self._next_seq
            with self._db:
                self._db.execute("BEGIN")
                rows = self._db.execute(
                    "SELECT id, body FROM events WHERE batch_seq IS NULL ORDER BY id LIMIT ?",
                    (max_events,),
                ).fetchall()
                self._db.execute(
                    "UPDATE events SET batch_seq = ? WHERE batch_seq IS NULL AND id <= ?",
                    (seq, rows[-1][0]),
                )
                self._db.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", (seq + 1,))
            self._next_seq = seq + 1
            self._unbatched -= len(rows)
            batch = Batch(seq, tuple(json.loads(body) for _, body in rows))
            self._batches.append(batch)
            return batch

    def unacked(self) -> list[Batch]:
        """Sealed batches central has not acked yet, in seq order."""
        with self._lock:
            return list(self._batches)

    def ack(self, seq: int) -> int:
        """Delete every batch with a seq up to and including `seq`; return how many."""
        with self._lock:
            dropped = 0
            while self._batches and self._batches[0].seq <= seq:
                self._batches.popleft()
                dropped += 1
            if dropped:
                with self._db:
                    self._db.execute("BEGIN")
                    self._db.execute("DELETE FROM events WHERE batch_seq <= ?", (seq,))
            return dropped

    def pending(self) -> int:
        """Events not yet acked (sealed or not)."""
        with self._lock:
            return self._unbatched + sum(len(b.events) for b in self._batches)

    def unbatched(self) -> int:
        """Events not yet sealed into a batch."""
        with self._lock:
            return self._unbatched

    def close(self) -> None:
        """Close the journal."""
        with self._lock:
            self._db.close()

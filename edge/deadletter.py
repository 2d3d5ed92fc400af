"""Dead letters: device payloads the edge could not use, kept locally and reported upstream."""

from __future__ import annotations

import base64
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from edge.events import DEAD_LETTER, Event, format_ts

logger = logging.getLogger(__name__)

# The uplinked copy of a payload is capped so one huge bad message cannot clog the uplink;
# the local table keeps it whole.
MAX_UPLINK_PAYLOAD = 64 * 1024


@dataclass(frozen=True)
class DeadLetter:
    """A payload that was refused, where it came from, why, and when."""

    topic: str
    reason: str
    payload: bytes
    received_at: datetime

    def to_event(self, edge_id: str) -> Event:
        """The edge.dead_letter event reporting this dead letter to central."""
        payload, reason = self.payload, self.reason
        if len(payload) > MAX_UPLINK_PAYLOAD:
            reason = (
                f"{reason} (payload truncated from {len(payload)} to {MAX_UPLINK_PAYLOAD} bytes)"
            )
            payload = payload[:MAX_UPLINK_PAYLOAD]
        data = {
            "topic": self.topic,
            "reason": reason,
            "payload_b64": base64.b64encode(payload).decode("ascii"),
            "received_at": format_ts(self.received_at),
        }
        return Event(DEAD_LETTER, edge_id, self.received_at, data)


class DeadLetterStore:
    """The dead_letters table of a SQLite file in the edge's data directory (thread-safe)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS dead_letters ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, reason TEXT NOT NULL,"
            " payload BLOB NOT NULL, received_at TEXT NOT NULL)"
        )

    def add(self, letter: DeadLetter) -> None:
        """Store one dead letter."""
        with self._lock:
            self._db.execute(
                "INSERT INTO dead_letters (topic, reason, payload, received_at)"
                " VALUES (?, ?, ?, ?)",
                (letter.topic, letter.reason, letter.payload, format_ts(letter.received_at)),
            )

    def count(self) -> int:
        """How many dead letters are stored."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM dead_letters").fetchone()[0])

    def recent(self, limit: int = 100) -> list[tuple[str, str, bytes, str]]:
        """The newest dead letters as (topic, reason, payload, received_at), newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT topic, reason, payload, received_at FROM dead_letters"
                " ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(str(t), str(r), bytes(p), str(at)) for t, r, p, at in rows]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

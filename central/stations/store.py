"""Robot-arm pick tasks in the database, so a central restart picks up where it stopped."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.db.engine import transaction
from central.db.tables import StationTask
from central.db.task_rows import last_id, unfinished_rows

FINISHED = ("done", "cancelled")
COLUMNS = tuple(c.name for c in StationTask.__table__.columns)


class PickTaskStore(Protocol):
    """Where the station manager keeps its tasks (rows shaped like `PickTask.record()`)."""

    def save(self, records: Iterable[dict[str, Any]]) -> None:
        """Insert or update these tasks."""

    def load_unfinished(self) -> list[dict[str, Any]]:
        """Every task not done or cancelled, oldest first."""

    def highest_number(self) -> int:
        """The largest number of any stored task id (`pick-000042` -> 42), 0 if none."""

    def sources(self, candidates: Iterable[str]) -> set[str]:
        """Which of these sources already have a task."""


class SqlPickTaskStore:
    """The `station_tasks` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def save(self, records: Iterable[dict[str, Any]]) -> None:
        """Insert or update these tasks in one transaction."""
        with transaction(self._sessions) as session:
            for record in records:
                session.merge(StationTask(**record))

    def load_unfinished(self) -> list[dict[str, Any]]:
        """Every task not done or cancelled, oldest first."""
        return unfinished_rows(self._sessions, StationTask, FINISHED, COLUMNS)

    def highest_number(self) -> int:
        """The largest number of any stored task id, 0 if none."""
        number = (last_id(self._sessions, StationTask) or "").rpartition("-")[2]
        return int(number) if number.isdigit() else 0

    def sources(self, candidates: Iterable[str]) -> set[str]:
        """Which of these sources already have a task."""
        wanted = list(candidates)
        if not wanted:
            return set()
        with transaction(self._sessions) as session:
            found = session.scalars(
                select(StationTask.source).where(StationTask.source.in_(wanted))
            ).all()
        return {s for s in found if s}

"""Transport tasks in the database, so a central restart re-queues the unfinished ones."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central.common.clock import utcnow
from central.db.engine import transaction
from central.db.tables import FleetTask
from central.db.task_rows import last_id, unfinished_rows

FINISHED = ("done", "failed", "cancelled")
COLUMNS = tuple(c.name for c in FleetTask.__table__.columns if c.name != "updated_at")


class TaskStore(Protocol):
    """Where the fleet keeps its tasks (rows shaped like `FleetManager.task_record`)."""

    def save(self, records: Iterable[dict[str, Any]]) -> None:
        """Insert or update these tasks."""

    def load_unfinished(self) -> list[dict[str, Any]]:
        """Every task not done, failed or cancelled, oldest first."""

    def highest_number(self) -> int:
        """The largest number of any stored task id (`T00042` -> 42), 0 if none."""


class SqlTaskStore:
    """The `fleet_tasks` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def save(self, records: Iterable[dict[str, Any]]) -> None:
        """Insert or update these tasks in one transaction."""
        now = utcnow()
        with transaction(self._sessions) as session:
            for record in records:
                session.merge(FleetTask(**record, updated_at=now))

    def load_unfinished(self) -> list[dict[str, Any]]:
        """Every task not done, failed or cancelled, oldest first."""
        return unfinished_rows(self._sessions, FleetTask, FINISHED, COLUMNS)

    def page(self, status: str | None, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        """Stored tasks, newest first, optionally of one status: how many match, and one page."""
        where = [FleetTask.status == status] if status else []
        with transaction(self._sessions) as session:
            total = session.scalar(select(func.count(FleetTask.id)).where(*where)) or 0
            rows = session.scalars(
                select(FleetTask)
                .where(*where)
                .order_by(
                    FleetTask.created_at.desc(),
                    func.length(FleetTask.id).desc(),
                    FleetTask.id.desc(),
                )
                .limit(limit)
                .offset(offset)
            ).all()
            return int(total), [{n: getattr(r, n) for n in COLUMNS} for r in rows]

    def highest_number(self) -> int:
        """The largest number of any stored task id, 0 if none."""
        last = last_id(self._sessions, FleetTask)
        return int(last[1:]) if last and last[1:].isdigit() else 0

"""Reading task tables (fleet and station tasks) back as plain rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from central.db.engine import transaction
from central.db.tables import FleetTask, StationTask

TaskTable = type[FleetTask] | type[StationTask]


def unfinished_rows(
    sessions: sessionmaker[Session],
    table: TaskTable,
    finished: Sequence[str],
    columns: Sequence[str],
) -> list[dict[str, Any]]:
    """Every row whose status is not in `finished`, oldest first, as `columns` -> value."""
    with transaction(sessions) as session:
        rows = session.scalars(
            select(table).where(table.status.not_in(finished)).order_by(table.created_at, table.id)
        ).all()
        return [{n: getattr(r, n) for n in columns} for r in rows]


def last_id(sessions: sessionmaker[Session], table: TaskTable) -> str | None:
    """The id that sorts last by length then text (the highest task number), None if empty."""
    with transaction(sessions) as session:
        return session.scalars(
            select(table.id).order_by(func.length(table.id).desc(), table.id.desc()).limit(1)
        ).first()

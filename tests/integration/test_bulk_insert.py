"""Bulk inserts (COPY on PostgreSQL) store exactly what was given, awkward text included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, select

from central.db.bulk import COPY_FROM, insert_rows
from central.db.tables import OutboxEvent
from tests.helpers import seeded_sessions

pytestmark = pytest.mark.integration
AWKWARD = ["tab\there", "line\nbreak\r\n", "back\\slash \\N", "quote \" '", "é 中文 ✓", "", "\\."]


def test_copy_rows_read_back_exactly_as_given(database_url: str) -> None:
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    rows: list[dict[str, Any]] = [
        {
            "topic": "order.status_changed",
            "key": AWKWARD[i % len(AWKWARD)],
            "payload": {"text": AWKWARD[i % len(AWKWARD)], "n": i, "none": None, "ok": i % 2 == 0},
            "created_at": start + timedelta(microseconds=i),
        }
        for i in range(COPY_FROM + 5)  # enough rows for the COPY path on PostgreSQL
    ]
    with seeded_sessions(database_url) as sessions:
        with sessions.begin() as session:
            insert_rows(session, cast(Table, OutboxEvent.__table__), rows)
        with sessions() as session:
            stored = session.execute(
                select(
                    OutboxEvent.topic, OutboxEvent.key, OutboxEvent.payload, OutboxEvent.created_at
                ).order_by(OutboxEvent.id)
            ).all()
    assert [tuple(r.values()) for r in rows] == [tuple(s) for s in stored]

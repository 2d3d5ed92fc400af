"""The transactional outbox: events are written with the change that causes them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.db.bulk import insert_rows
from central.db.tables import OutboxEvent

EVENTS = cast(Table, OutboxEvent.__table__)


def emit(session: Session, topic: str, key: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record an event in the caller's transaction; it is delivered only if that commits."""
    event = OutboxEvent(topic=topic, key=key, payload=payload, created_at=utcnow())
    session.add(event)
    return event


def emit_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Record many events (dicts of topic, key, payload, created_at) in one bulk insert."""
    insert_rows(session, EVENTS, rows)

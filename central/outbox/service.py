"""The transactional outbox: events are written with the change that causes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.db.tables import OutboxEvent


def emit(session: Session, topic: str, key: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record an event in the caller's transaction; it is delivered only if that commits."""
    event = OutboxEvent(topic=topic, key=key, payload=payload, created_at=utcnow())
    session.add(event)
    return event

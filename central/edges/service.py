"""Edge health: the last status and heartbeat of every edge agent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.common.clock import parse_utc
from central.db.tables import EdgeHealth


def record_edge_status(
    session: Session, site: str, status: dict[str, Any], now: datetime
) -> EdgeHealth | None:
    """Upsert an edge's status (older reports never overwrite newer); heartbeats carry health."""
    edge_id = status["device_id"]
    ts = parse_utc(status["ts"])
    row = session.get(EdgeHealth, edge_id)
    if row is not None and ts < row.status_ts:
        return None
    if row is None:
        row = EdgeHealth(edge_id=edge_id, site=site, online=status["online"], status_ts=ts)
        session.add(row)
    row.site = site
    row.online = status["online"]
    row.reason = status.get("reason")
    row.status_ts = ts
    row.updated_at = now
    if status.get("reason") == "heartbeat" and isinstance(status.get("detail"), dict):
        row.health = status["detail"]
    return row


def list_edges(session: Session) -> list[EdgeHealth]:
    """Every edge ever seen, by id."""
    return list(session.scalars(select(EdgeHealth).order_by(EdgeHealth.edge_id)))

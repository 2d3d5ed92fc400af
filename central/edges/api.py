"""Edge health endpoints: every edge agent's last status and heartbeat details."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from central.auth.domain import READ, Principal
from central.common.clock import utcnow
from central.deps import SessionDep, require
from central.edges import service

router = APIRouter(prefix="/api/v1/edges", tags=["edges"])


class EdgePublic(BaseModel):
    edge_id: str
    site: str
    online: bool
    reason: str | None
    last_status_at: datetime
    age_s: float
    health: dict[str, Any] | None


@router.get("", response_model=list[EdgePublic])
def list_edges(
    session: SessionDep, _: Annotated[Principal, Depends(require(READ))]
) -> list[EdgePublic]:
    """Every edge with online state, last status time, and heartbeat health (rates, journal
    depth, dead letters, its devices)."""
    now = utcnow()
    return [
        EdgePublic(
            edge_id=e.edge_id,
            site=e.site,
            online=e.online,
            reason=e.reason,
            last_status_at=e.status_ts,
            age_s=round((now - e.status_ts).total_seconds(), 3),
            health=e.health,
        )
        for e in service.list_edges(session)
    ]

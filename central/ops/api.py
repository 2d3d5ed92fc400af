"""Operations endpoints: health and dead letters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select, text

from central.auth.domain import SUPERVISE, Principal
from central.db.tables import DeadLetter
from central.deps import SessionDep, require

router = APIRouter(tags=["operations"])


class DeadLetterPublic(BaseModel):
    id: int
    origin: str
    edge_id: str | None
    topic: str
    reason: str
    payload: str
    received_at: datetime


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """Liveness and database reachability (no authentication)."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/api/v1/dead-letters", response_model=list[DeadLetterPublic])
def dead_letters(
    session: SessionDep,
    _: Annotated[Principal, Depends(require(SUPERVISE))],
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetterPublic]:
    """Messages that could not be used, with the reason."""
    rows = session.scalars(
        select(DeadLetter).where(DeadLetter.id > after_id).order_by(DeadLetter.id).limit(limit)
    )
    return [
        DeadLetterPublic(
            id=r.id,
            origin=r.origin,
            edge_id=r.edge_id,
            topic=r.topic,
            reason=r.reason,
            payload=r.payload,
            received_at=r.received_at,
        )
        for r in rows
    ]

"""HTTP ingest: the same exactly-once path as MQTT, for edges that cannot reach the broker."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, status
from pydantic import BaseModel

from central.auth.domain import INGEST, Principal
from central.deps import ContainerDep, require
from central.ingest.processor import ingest_raw

router = APIRouter(prefix="/api/v1/ingest", tags=["ingest"])


class AckPublic(BaseModel):
    edge_id: str
    epoch: int
    seq: int
    applied: int
    dead_lettered: int
    duplicate: bool


@router.post("/batches", response_model=AckPublic)
def post_batch(
    batch: Annotated[dict[str, Any], Body()],
    container: ContainerDep,
    _: Annotated[Principal, Depends(require(INGEST))],
) -> AckPublic:
    """Commit one uplink batch (schema uplink_batch) and return the ack."""
    outcome = ingest_raw(
        container.sessions,
        "http:/api/v1/ingest/batches",
        json.dumps(batch).encode(),
        container.tolerance,
    )
    if outcome.edge_id is None or outcome.epoch is None:
        raise HTTPException(422, "batch breaks the uplink_batch contract; kept as a dead letter")
    if outcome.ack_seq is None or outcome.gap:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "batch is ahead of the committed sequence; send the missing ones first",
        )
    return AckPublic(
        edge_id=outcome.edge_id,
        epoch=outcome.epoch,
        seq=outcome.ack_seq,
        applied=outcome.applied,
        dead_lettered=outcome.dead_lettered,
        duplicate=outcome.duplicate,
    )

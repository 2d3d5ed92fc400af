"""Exactly-once ingest of uplink batches: commit events and the edge's cursor together."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from firmware_interfaces.validation import ContractError, decode_json, validate_event
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from central.common.clock import utcnow
from central.common.errors import DomainError
from central.db.engine import transaction
from central.db.tables import EdgeCursor
from central.inbound.domain import WeightTolerance
from central.ingest.handlers import HANDLERS, IngestContext, record_dead_letter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestOutcome:
    """What became of one batch: the seq to ack (None: nothing to ack) and counts."""

    edge_id: str | None
    epoch: int | None
    ack_seq: int | None
    applied: int = 0
    dead_lettered: int = 0
    duplicate: bool = False


def ingest_raw(
    sessions: sessionmaker[Session], topic: str, raw: bytes, tolerance: WeightTolerance
) -> IngestOutcome:
    """Validate and apply one uplink message; malformed ones become dead letters."""
    try:
        batch = decode_json("uplink_batch", raw)
    except ContractError as exc:
        with transaction(sessions) as session:
            record_dead_letter(session, "central", None, topic, str(exc), raw)
        logger.warning("uplink on %s dead-lettered: %s", topic, exc.reason)
        return IngestOutcome(None, None, None, dead_lettered=1)
    for attempt in range(3):
        try:
            return apply_batch(sessions, batch, tolerance)
        except IntegrityError:
            # another worker created the same edge cursor first; read it and try again
            logger.info("cursor race for %s, retry %d", batch["edge_id"], attempt + 1)
    raise RuntimeError(f"could not commit batch {batch['edge_id']}/{batch['epoch']}/{batch['seq']}")


def apply_batch(
    sessions: sessionmaker[Session], batch: dict[str, Any], tolerance: WeightTolerance
) -> IngestOutcome:
    """Commit a valid batch once: events and cursor in one transaction; duplicates re-acked."""
    edge_id, epoch, seq = batch["edge_id"], batch["epoch"], batch["seq"]
    ctx = IngestContext(edge_id, tolerance)
    with transaction(sessions) as session:
        cursor = session.scalar(
            select(EdgeCursor)
            .where(EdgeCursor.edge_id == edge_id, EdgeCursor.epoch == epoch)
            .with_for_update()
        )
        last = cursor.last_seq if cursor else 0
        if seq <= last:
            return IngestOutcome(edge_id, epoch, last, duplicate=True)
        if seq != last + 1:
            logger.info(
                "batch %s/%s/%s ahead of cursor %s; waiting for the gap", edge_id, epoch, seq, last
            )
            return IngestOutcome(edge_id, epoch, last if last else None)
        applied = dead = 0
        for event in batch["events"]:
            try:
                with session.begin_nested():
                    validate_event(event)
                    HANDLERS[event["type"]](session, event, ctx)
                applied += 1
            except (ContractError, DomainError, KeyError, ValueError) as exc:
                dead += 1
                record_dead_letter(
                    session,
                    "central",
                    edge_id,
                    f"event:{event.get('type')}",
                    str(exc),
                    json.dumps(event),
                )
                logger.warning("event from %s dead-lettered: %s", edge_id, exc)
        if cursor is None:
            session.add(EdgeCursor(edge_id=edge_id, epoch=epoch, last_seq=seq, updated_at=utcnow()))
        else:
            cursor.last_seq = seq
            cursor.updated_at = utcnow()
    return IngestOutcome(edge_id, epoch, seq, applied, dead)

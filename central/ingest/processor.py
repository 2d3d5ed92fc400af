"""Exactly-once ingest of uplink batches: commit events and the edge's cursor together."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firmware_interfaces.validation import ContractError, decode_json, validate_event
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from central.common.clock import parse_utc, utcnow
from central.common.errors import DomainError
from central.db.engine import transaction
from central.db.tables import DeviceEvent, EdgeCursor
from central.inbound.domain import WeightTolerance
from central.ingest.handlers import HANDLERS, LOG_ONLY, IngestContext, record_dead_letter

GAP_POLL_S = 0.02

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
    gap: bool = False


def ingest_raw(
    sessions: sessionmaker[Session],
    topic: str,
    raw: bytes,
    tolerance: WeightTolerance,
    gap_wait_s: float = 0.0,
) -> IngestOutcome:
    """Validate and apply one uplink message; malformed ones become dead letters.

    A batch ahead of the edge's cursor (its predecessor is still on its way, often at another
    worker of the shared subscription) is retried for up to gap_wait_s before giving up.
    """
    try:
        batch = decode_json("uplink_batch", raw)
    except ContractError as exc:
        with transaction(sessions) as session:
            record_dead_letter(session, "central", None, topic, str(exc), raw)
        logger.warning("uplink on %s dead-lettered: %s", topic, exc.reason)
        return IngestOutcome(None, None, None, dead_lettered=1)
    deadline = time.monotonic() + gap_wait_s
    races = 0
    while True:
        try:
            outcome = apply_batch(sessions, batch, tolerance)
        except IntegrityError:
            # another worker created the same edge cursor (or rows of this batch) first
            races += 1
            logger.info("cursor race for %s, retry %d", batch["edge_id"], races)
            if races < 3:
                continue
            break
        if not outcome.gap or time.monotonic() >= deadline:
            if outcome.gap:
                logger.info(
                    "batch %s/%s/%s still ahead of cursor %s after %.2f s; edge will resend",
                    batch["edge_id"],
                    batch["epoch"],
                    batch["seq"],
                    outcome.ack_seq,
                    gap_wait_s,
                )
            return outcome
        time.sleep(GAP_POLL_S)
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
            return IngestOutcome(edge_id, epoch, last, gap=True)  # ack 0: none yet
        events = batch["events"]
        _log_events(session, edge_id, epoch, seq, events)
        applied = dead = 0
        for event in events:
            try:
                if event["type"] in LOG_ONLY:
                    validate_event(event)
                    if event["type"] == "edge.alarm" and event["data"]["active"]:
                        logger.warning("edge %s raised an alarm: %s", edge_id, event["data"])
                else:
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


def _ts(text: str) -> datetime | None:
    try:
        return parse_utc(text)
    except ValueError:
        return None


def _log_events(
    session: Session, edge_id: str, epoch: int, seq: int, events: list[dict[str, Any]]
) -> None:
    """Keep every event of the batch in device_events with one bulk insert."""
    now = utcnow()
    rows = [
        {
            "edge_id": edge_id,
            "epoch": epoch,
            "seq": seq,
            "idx": idx,
            "type": event["type"],
            "source": event["source"],
            "ts": _ts(event["ts"]),
            "data": event["data"],
            "ingested_at": now,
        }
        for idx, event in enumerate(events)
    ]
    session.execute(insert(DeviceEvent), rows)

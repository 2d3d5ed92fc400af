"""Exactly-once ingest of uplink batches: commit events and the edge's cursor together."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firmware_interfaces.encoding import strict_ascii_json
from firmware_interfaces.validation import ContractError, decode_json, validate_event
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from central.common.clock import parse_utc, utcnow
from central.common.errors import DomainError
from central.db.engine import transaction
from central.db.tables import DeviceEvent, EdgeCursor
from central.inbound.domain import WeightTolerance
from central.ingest.fastpath import SplitBatch, split_batch
from central.ingest.handlers import (
    HANDLERS,
    LOG_ONLY,
    IngestContext,
    notify,
    record_dead_letter,
)

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


def decode_batch(sessions: sessionmaker[Session], topic: str, raw: bytes) -> SplitBatch | None:
    """Parse and validate an uplink message; a malformed one becomes a dead letter (None).

    A batch in the edge's compact form is split without decoding its tag reads (fastpath.py);
    anything else is decoded and validated in full, which also names what is wrong.
    """
    split = split_batch(raw)
    if split is not None:
        return split
    try:
        batch: dict[str, Any] = decode_json("uplink_batch", raw)
    except ContractError as exc:
        with transaction(sessions) as session:
            record_dead_letter(session, "central", None, topic, str(exc), raw)
        logger.warning("uplink on %s dead-lettered: %s", topic, exc.reason)
        return None
    events = batch["events"]
    return SplitBatch(batch, events, [None] * len(events))


def apply_with_retry(
    sessions: sessionmaker[Session],
    batch: SplitBatch,
    tolerance: WeightTolerance,
    prepared: PreparedBatch | None = None,
) -> IngestOutcome:
    """apply_batch, retried when another worker created the same edge cursor first."""
    for races in range(1, 4):
        try:
            return apply_batch(sessions, batch, tolerance, prepared)
        except IntegrityError:
            logger.info("cursor race for %s, retry %d", batch.head["edge_id"], races)
    head = batch.head
    raise RuntimeError(f"could not commit batch {head['edge_id']}/{head['epoch']}/{head['seq']}")


def ingest_raw(
    sessions: sessionmaker[Session],
    topic: str,
    raw: bytes,
    tolerance: WeightTolerance,
    gap_wait_s: float = 0.0,
) -> IngestOutcome:
    """Validate and apply one uplink message; malformed ones become dead letters.

    A batch ahead of the edge's cursor is retried for up to gap_wait_s before giving up (the
    HTTP path; the MQTT worker parks such batches without blocking, see consumer.py).
    """
    batch = decode_batch(sessions, topic, raw)
    if batch is None:
        return IngestOutcome(None, None, None, dead_lettered=1)
    prepared = prepare_batch(batch)
    deadline = time.monotonic() + gap_wait_s
    while True:
        outcome = apply_with_retry(sessions, batch, tolerance, prepared)
        if not outcome.gap or time.monotonic() >= deadline:
            return outcome
        time.sleep(GAP_POLL_S)


@dataclass(frozen=True)
class PreparedBatch:
    """The per-event work done before the cursor is locked (in parallel across workers)."""

    problems: tuple[str | None, ...]  # why each event breaks its data schema, or None
    copy_rows: str | None  # device_events rows in COPY text form (None: not strict JSON)


def prepare_batch(batch: SplitBatch) -> PreparedBatch:
    """Validate every decoded event's data and build the COPY rows; nothing here needs the database.

    Events are untrusted input: each decoded one's data is validated against its type's schema
    here, once, and the verdict is used inside the transaction. Events split off in plain form
    were checked by fastpath's regex and go into the rows as the JSON text they arrived as.
    """
    problems: list[str | None] = []
    lines: list[str] | None = []
    head = batch.head
    prefix = f"{head['edge_id']}\t{head['epoch']}\t{head['seq']}\t"
    parsed: dict[str, datetime | None] = {}
    for idx, (event, plain) in enumerate(zip(batch.events, batch.plain, strict=True)):
        if event is None:
            problems.append(None)
            if lines is not None and plain is not None:
                # type, source, ts and data obey fastpath's regex: no tab, newline or backslash
                lines.append(f"{prefix}{idx}\t{_JOIN(plain)}\t{_NOW}\n")
            continue
        try:
            validate_event(event)
            problems.append(None)
        except (ContractError, KeyError, ValueError) as exc:
            problems.append(str(exc))
        if lines is None:
            continue
        text = event["ts"]
        when = parsed.get(text, _MISSING)
        if when is _MISSING:
            when = parsed[text] = _ts(text)
        try:
            data = _STRICT_JSON(event["data"])
        except ValueError:  # NaN or infinity: not JSON PostgreSQL accepts
            lines = None
            continue
        # type, source and ts obey the uplink_batch patterns (no tab, newline or backslash);
        # the data is ASCII JSON, whose only COPY-special character is the backslash.
        lines.append(
            f"{prefix}{idx}\t{event['type']}\t{event['source']}\t"
            f"{text if when is not None else _NULL}\t{data.replace(_BS, _BS2)}\t{_NOW}\n"
        )
    copy_rows = "".join(lines) if lines is not None else None
    return PreparedBatch(tuple(problems), copy_rows)


_MISSING: Any = object()
_STRICT_JSON = strict_ascii_json
_JOIN = "\t".join
_NULL, _BS, _BS2, _NOW = "\\N", "\\", "\\\\", "\x01"  # _NOW: replaced by ingested_at


def apply_batch(
    sessions: sessionmaker[Session],
    batch: SplitBatch,
    tolerance: WeightTolerance,
    prepared: PreparedBatch | None = None,
) -> IngestOutcome:
    """Commit a valid batch once: events and cursor in one transaction; duplicates re-acked."""
    edge_id, epoch, seq = batch.head["edge_id"], batch.head["epoch"], batch.head["seq"]
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
        if prepared is None:
            prepared = prepare_batch(batch)
        _log_events(session, edge_id, epoch, seq, batch, prepared)
        applied = dead = 0
        for event, problem in zip(batch.events, prepared.problems, strict=True):
            if event is None:  # split off in plain form: valid and log-only
                applied += 1
                continue
            try:
                if problem is not None:
                    raise ContractError("uplink_batch", problem)
                if event["type"] in LOG_ONLY:
                    if event["type"] == "edge.alarm" and event["data"]["active"]:
                        logger.warning("edge %s raised an alarm: %s", edge_id, event["data"])
                else:
                    with session.begin_nested():
                        HANDLERS[event["type"]](session, event, ctx)
                applied += 1
            except (ContractError, DomainError, KeyError, ValueError) as exc:
                dead += 1
                reason = problem if problem is not None else str(exc)
                record_dead_letter(
                    session,
                    "central",
                    edge_id,
                    f"event:{event.get('type')}",
                    reason,
                    json.dumps(event),
                )
                logger.warning("event from %s dead-lettered: %s", edge_id, reason)
        if cursor is None:
            session.add(EdgeCursor(edge_id=edge_id, epoch=epoch, last_seq=seq, updated_at=utcnow()))
        else:
            cursor.last_seq = seq
            cursor.updated_at = utcnow()
    notify(
        edge_id, batch.events, prepared.problems, batch.plain
    )  # committed: in-process listeners (the fleet)
    return IngestOutcome(edge_id, epoch, seq, applied, dead)


def _ts(text: str) -> datetime | None:
    try:
        return parse_utc(text)
    except ValueError:
        return None


def _log_events(
    session: Session,
    edge_id: str,
    epoch: int,
    seq: int,
    batch: SplitBatch,
    prepared: PreparedBatch,
) -> None:
    """Keep every event of the batch in device_events.

    On PostgreSQL one COPY of the rows prepared before the lock; elsewhere one bulk INSERT.
    """
    now = utcnow()
    if prepared.copy_rows is not None and session.get_bind().dialect.name == "postgresql":
        raw: Any = session.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(_COPY_EVENTS) as copy:
            copy.write(prepared.copy_rows.replace(_NOW, now.isoformat()))
        return
    rows = []
    for idx, (event, plain) in enumerate(zip(batch.events, batch.plain, strict=True)):
        if event is None and plain is not None:
            event = {
                "type": plain[0],
                "source": plain[1],
                "ts": plain[2],
                "data": json.loads(plain[3]),
            }
        assert event is not None
        rows.append(
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
        )
    session.execute(insert(DeviceEvent), rows)


_COPY_EVENTS = (
    "COPY device_events (edge_id, epoch, seq, idx, type, source, ts, data, ingested_at) FROM STDIN"
)

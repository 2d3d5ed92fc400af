"""What central does with each uplink event type, inside the batch's transaction."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from central.common.clock import parse_utc, utcnow
from central.db.tables import DeadLetter
from central.inbound import service as inbound
from central.inbound.domain import WeightTolerance
from central.telemetry import service as telemetry
from central.telemetry.history import Sample, history_of, sample_from_event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestContext:
    """What handlers need besides the event: who sent it and the receiving tolerance."""

    edge_id: str
    tolerance: WeightTolerance


def _gate_pass(session: Session, event: dict[str, Any], ctx: IngestContext) -> None:
    data = event["data"]
    inbound.record_gate_pass(
        session,
        data["gate_id"],
        data["direction"],
        parse_utc(data["started_at"]),
        parse_utc(data["ended_at"]),
        [tag["epc"] for tag in data["tags"]],
        ctx.tolerance,
        ctx.edge_id,
    )


def _stable_weight(session: Session, event: dict[str, Any], ctx: IngestContext) -> None:
    data = event["data"]
    kg = Decimal(str(data["kg"])).quantize(Decimal("0.001"))
    inbound.record_weighing(
        session, data["scale_id"], kg, parse_utc(data["settled_at"]), ctx.tolerance, ctx.edge_id
    )
    settled = parse_utc(data["settled_at"])
    weight = Sample(data["scale_id"], "kg", settled, float(kg), edge_id=ctx.edge_id)
    history_of(session).write(session, [weight])


def _device_status(session: Session, event: dict[str, Any], ctx: IngestContext) -> None:
    data = event["data"]
    telemetry.record_status(
        session, data["device_id"], data["online"], parse_utc(data["ts"]), ctx.edge_id
    )


def _telemetry_sample(session: Session, event: dict[str, Any], ctx: IngestContext) -> None:
    history_of(session).write(session, [sample_from_event(event["data"], ctx.edge_id)])


def _edge_dead_letter(session: Session, event: dict[str, Any], ctx: IngestContext) -> None:
    data = event["data"]
    raw = base64.b64decode(data["payload_b64"], validate=False)
    record_dead_letter(
        session,
        "edge",
        ctx.edge_id,
        data["topic"],
        data["reason"],
        raw,
        parse_utc(data["received_at"]),
    )


# High-volume or informational types: kept in the device_events log only, no domain handler.
LOG_ONLY = frozenset(
    {"rfid.tag_read", "edge.alarm", "arm.state", "arm.pick_result", "agv.state", "agv.connection"}
)

HANDLERS: dict[str, Callable[[Session, dict[str, Any], IngestContext], None]] = {
    "rfid.gate_pass": _gate_pass,
    "scale.stable_weight": _stable_weight,
    "device.status": _device_status,
    "telemetry.sample": _telemetry_sample,
    "edge.dead_letter": _edge_dead_letter,
}


# In-process listeners of stored events by type (the fleet's vehicles behind an edge): called
# after the batch is committed, in the ingest thread, with (edge_id, event). Keep them quick.
Listener = Callable[[str, dict[str, Any]], None]
LISTENERS: dict[str, list[Listener]] = {}


def listen(event_type: str, listener: Listener) -> Callable[[], None]:
    """Call `listener` with every committed event of this type; returns the unsubscribe."""
    LISTENERS.setdefault(event_type, []).append(listener)

    def unsubscribe() -> None:
        listeners = LISTENERS.get(event_type, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            LISTENERS.pop(event_type, None)

    return unsubscribe


def notify(
    edge_id: str,
    events: Sequence[dict[str, Any] | None],
    problems: Sequence[str | None],
    plain: Sequence[tuple[str, str, str, str] | None] | None = None,
) -> None:
    """Hand a committed batch's valid events to their listeners (nothing when none listen).

    An event None in `events` was kept in plain form (type, source, ts, data JSON) in `plain`.
    """
    if not LISTENERS:
        return
    for idx, (event, problem) in enumerate(zip(events, problems, strict=True)):
        if problem is not None:
            continue
        if event is None:
            kept = plain[idx] if plain is not None else None
            if kept is None or kept[0] not in LISTENERS:
                continue
            event = {"type": kept[0], "source": kept[1], "ts": kept[2], "data": json.loads(kept[3])}
        for listener in tuple(LISTENERS.get(event.get("type", ""), ())):
            try:
                listener(edge_id, event)
            except Exception:
                logger.exception("listener of %s events failed", event.get("type"))


def record_dead_letter(
    session: Session,
    origin: str,
    edge_id: str | None,
    topic: str,
    reason: str,
    payload: bytes | str,
    received_at: Any = None,
) -> DeadLetter:
    """Keep a message that could not be used, with the reason."""
    text = (
        payload.decode("utf-8", errors="backslashreplace")
        if isinstance(payload, bytes)
        else payload
    )
    letter = DeadLetter(
        origin=origin,
        edge_id=edge_id,
        topic=topic[:256],
        reason=reason,
        payload=text,
        received_at=received_at or utcnow(),
    )
    session.add(letter)
    return letter

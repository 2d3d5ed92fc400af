"""Receiving use cases: ASNs, arrival at a dock, gate passes and weights, booking, discrepancies."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.common.errors import Conflict, InvalidInput, NotFound
from central.db.tables import (
    Asn,
    AsnExpectedTag,
    AsnLine,
    Device,
    Discrepancy,
    GatePass,
    Location,
    Site,
    Sku,
    Weighing,
)
from central.inbound.domain import (
    AsnStatus,
    DiscrepancyKind,
    ExpectedLine,
    ReceiptCheck,
    Resolution,
    WeightTolerance,
    check_receipt,
)
from central.inventory import service as inventory
from central.inventory.domain import LocationKind, Move, MoveReason, VirtualLocation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AsnLineInput:
    """An ASN line as a supplier announces it."""

    sku_code: str
    qty: int
    lot_code: str = ""
    expiry: date | None = None


def create_asn(
    session: Session,
    site: Site,
    number: str,
    supplier: str,
    lines: Sequence[AsnLineInput],
    actor: str,
    expected_epcs: Sequence[str] = (),
    pallet_tare_kg: Decimal = Decimal("25"),
    expected_at: datetime | None = None,
) -> Asn:
    """Register an ASN with its lines and, when the supplier sends them, the expected EPCs."""
    if session.scalar(select(Asn.id).where(Asn.number == number)):
        raise Conflict(f"ASN {number!r} exists already")
    if not lines:
        raise InvalidInput("an ASN needs at least one line")
    asn = Asn(
        number=number,
        site_id=site.id,
        supplier=supplier,
        status=AsnStatus.EXPECTED,
        pallet_tare_kg=pallet_tare_kg,
        expected_at=expected_at,
        created_at=utcnow(),
        created_by=actor,
    )
    session.add(asn)
    session.flush()
    for line in lines:
        if line.qty <= 0:
            raise InvalidInput(f"line for {line.sku_code!r} needs a positive quantity")
        sku = inventory.get_sku(session, line.sku_code)
        session.add(
            AsnLine(
                asn_id=asn.id,
                sku_id=sku.id,
                lot_code=line.lot_code,
                expiry=line.expiry,
                qty_expected=line.qty,
            )
        )
    for epc in {e.upper() for e in expected_epcs}:
        session.add(AsnExpectedTag(asn_id=asn.id, epc=epc))
    session.flush()
    return asn


def get_asn(session: Session, number: str) -> Asn:
    """The ASN called `number`."""
    asn = session.scalar(select(Asn).where(Asn.number == number))
    if asn is None:
        raise NotFound(f"no ASN {number!r}")
    return asn


def arrive(session: Session, number: str, dock_code: str) -> Asn:
    """The truck is at the dock: the next gate pass and weight there belong to this ASN."""
    asn = get_asn(session, number)
    if asn.status != AsnStatus.EXPECTED:
        raise Conflict(f"ASN {number} is {asn.status}, not expected")
    dock = inventory.get_location(session, asn.site_id, dock_code)
    if dock.kind != LocationKind.DOCK:
        raise InvalidInput(f"location {dock_code!r} is not a dock")
    busy = session.scalar(
        select(Asn.number).where(Asn.dock_location_id == dock.id, Asn.status == AsnStatus.ARRIVED)
    )
    if busy:
        raise Conflict(f"dock {dock_code} is still receiving ASN {busy}")
    asn.status = AsnStatus.ARRIVED
    asn.dock_location_id = dock.id
    asn.arrived_at = utcnow()
    session.flush()
    return asn


def _device_dock(session: Session, device_id: str) -> Device:
    device = session.scalar(select(Device).where(Device.device_id == device_id))
    if device is None:
        raise NotFound(f"device {device_id!r} is not registered")
    if device.location_id is None:
        raise InvalidInput(f"device {device_id!r} is not assigned to a dock")
    return device


def _open_asn_at(session: Session, location_id: int) -> Asn | None:
    return session.scalar(
        select(Asn)
        .where(Asn.dock_location_id == location_id, Asn.status == AsnStatus.ARRIVED)
        .with_for_update()
    )


def _raise_unexpected(
    session: Session, device_id: str, what: str, detail: dict[str, object]
) -> None:
    session.add(
        Discrepancy(
            asn_id=None,
            kind=DiscrepancyKind.NO_OPEN_ASN,
            detail={"device_id": device_id, "what": what, **detail},
            status="open",
            raised_at=utcnow(),
        )
    )


def record_gate_pass(
    session: Session,
    gate_id: str,
    direction: str,
    started_at: datetime,
    ended_at: datetime,
    epcs: Sequence[str],
    tolerance: WeightTolerance,
    edge_id: str | None = None,
) -> GatePass:
    """Store a gate pass; an inbound pass at a dock with an arrived ASN is checked against it."""
    device = _device_dock(session, gate_id)
    asn = _open_asn_at(session, device.location_id) if direction == "in" else None  # type: ignore[arg-type]
    gate_pass = GatePass(
        gate_id=gate_id,
        asn_id=asn.id if asn else None,
        direction=direction,
        started_at=started_at,
        ended_at=ended_at,
        epcs=sorted({e.upper() for e in epcs}),
        edge_id=edge_id,
    )
    session.add(gate_pass)
    session.flush()
    if direction == "in" and asn is None:
        _raise_unexpected(session, gate_id, "gate pass", {"tags": len(gate_pass.epcs)})
    if asn is not None:
        try_complete(session, asn, tolerance)
    return gate_pass


def record_weighing(
    session: Session,
    scale_id: str,
    kg: Decimal,
    settled_at: datetime,
    tolerance: WeightTolerance,
    edge_id: str | None = None,
) -> Weighing:
    """Store a stable weight; at a dock with an arrived ASN it completes the receipt check."""
    device = _device_dock(session, scale_id)
    location = session.get(Location, device.location_id)
    at_dock = location is not None and location.kind == LocationKind.DOCK
    asn = _open_asn_at(session, device.location_id) if at_dock else None  # type: ignore[arg-type]
    weighing = Weighing(
        scale_id=scale_id,
        asn_id=asn.id if asn else None,
        kg=kg,
        settled_at=settled_at,
        edge_id=edge_id,
    )
    session.add(weighing)
    session.flush()
    if not at_dock:
        return weighing  # e.g. a pack-station scale: packing reads it from there
    if asn is None:
        _raise_unexpected(session, scale_id, "weight", {"kg": str(kg)})
    else:
        try_complete(session, asn, tolerance)
    return weighing


def _dock_has_scale(session: Session, location_id: int) -> bool:
    return (
        session.scalar(
            select(Device.id)
            .where(Device.location_id == location_id, Device.kind == "scale")
            .limit(1)
        )
        is not None
    )


def _expected_lines(session: Session, asn: Asn) -> list[tuple[AsnLine, ExpectedLine]]:
    rows = session.execute(
        select(AsnLine, Sku)
        .join(Sku, AsnLine.sku_id == Sku.id)
        .where(AsnLine.asn_id == asn.id)
        .order_by(AsnLine.id)
    ).tuples()
    return [
        (line, ExpectedLine(line.id, sku.code, sku.gtin, line.qty_expected, sku.unit_weight_kg))
        for line, sku in rows
    ]


def evaluate(session: Session, asn: Asn, tolerance: WeightTolerance) -> ReceiptCheck | None:
    """The receipt check of an arrived ASN, or None while a gate pass or weight is missing."""
    gate_pass = session.scalar(
        select(GatePass).where(GatePass.asn_id == asn.id).order_by(GatePass.id.desc()).limit(1)
    )
    weighing = session.scalar(
        select(Weighing).where(Weighing.asn_id == asn.id).order_by(Weighing.id.desc()).limit(1)
    )
    needs_weight = asn.dock_location_id is not None and _dock_has_scale(
        session, asn.dock_location_id
    )
    if gate_pass is None or (needs_weight and weighing is None):
        return None
    expected_epcs = set(
        session.scalars(select(AsnExpectedTag.epc).where(AsnExpectedTag.asn_id == asn.id))
    )
    return check_receipt(
        [expected for _, expected in _expected_lines(session, asn)],
        gate_pass.epcs,
        expected_epcs or None,
        weighing.kg if weighing else None,
        asn.pallet_tare_kg,
        tolerance,
    )


def try_complete(session: Session, asn: Asn, tolerance: WeightTolerance) -> Asn:
    """Book the receipt when the check passes; hold it for a supervisor when it does not."""
    check = evaluate(session, asn, tolerance)
    if check is None:
        return asn
    problems = check.problems()
    if not problems:
        _book(session, asn, check, actor="receiving")
        return asn
    asn.status = AsnStatus.DISCREPANCY
    for kind, detail in problems:
        session.add(
            Discrepancy(asn_id=asn.id, kind=kind, detail=detail, status="open", raised_at=utcnow())
        )
    logger.info("ASN %s held: %s", asn.number, ", ".join(kind for kind, _ in problems))
    session.flush()
    return asn


def _book(session: Session, asn: Asn, check: ReceiptCheck, actor: str) -> None:
    """Ledger moves supplier -> dock for every line's counted quantity; the ASN is received."""
    if asn.dock_location_id is None:
        raise Conflict(f"ASN {asn.number} has no dock")
    supplier = inventory.virtual_location(session, asn.site_id, VirtualLocation.SUPPLIER)
    moves = []
    for line, expected in _expected_lines(session, asn):
        qty = check.counted.get(expected.line_id, 0)
        line.qty_received = qty
        if qty:
            lot = inventory.lot_for(session, line.sku_id, line.lot_code, line.expiry)
            moves.append(
                Move(
                    line.sku_id,
                    lot.id,
                    qty,
                    supplier.id,
                    asn.dock_location_id,
                    MoveReason.RECEIPT,
                    "asn",
                    asn.number,
                )
            )
    inventory.post_moves(session, moves, actor)
    asn.status = AsnStatus.RECEIVED
    asn.closed_at = utcnow()
    session.flush()


def resolve_discrepancy(
    session: Session,
    discrepancy_id: int,
    resolution: Resolution,
    actor: str,
    tolerance: WeightTolerance,
    note: str | None = None,
) -> Discrepancy:
    """A supervisor's decision: accept what was counted (books it) or reject the delivery."""
    discrepancy = session.get(Discrepancy, discrepancy_id, with_for_update=True)
    if discrepancy is None:
        raise NotFound(f"no discrepancy {discrepancy_id}")
    if discrepancy.status != "open":
        raise Conflict(f"discrepancy {discrepancy_id} is {discrepancy.status} already")
    now = utcnow()
    to_close = [discrepancy]
    if discrepancy.asn_id is not None:
        asn = session.get(Asn, discrepancy.asn_id, with_for_update=True)
        assert asn is not None
        if asn.status != AsnStatus.DISCREPANCY:
            raise Conflict(f"ASN {asn.number} is {asn.status}, nothing to resolve")
        if resolution is Resolution.ACCEPT_COUNTED:
            check = evaluate(session, asn, tolerance)
            if check is None:
                raise Conflict(f"ASN {asn.number} has no gate pass to book from")
            _book(session, asn, check, actor)
        else:
            asn.status = AsnStatus.REJECTED
            asn.closed_at = now
        to_close = list(
            session.scalars(
                select(Discrepancy).where(
                    Discrepancy.asn_id == asn.id, Discrepancy.status == "open"
                )
            )
        )
    elif resolution is Resolution.ACCEPT_COUNTED:
        raise InvalidInput("a pass with no ASN has nothing to book; reject it, then create the ASN")
    for item in to_close:
        item.status = "resolved"
        item.resolution = resolution
        item.resolved_by = actor
        item.resolved_at = now
        item.note = note
    session.flush()
    return discrepancy


def receive_counted(
    session: Session, number: str, counted: Sequence[AsnLineInput], actor: str
) -> Asn:
    """Book a receipt counted by hand (handheld scanning) for an arrived ASN."""
    asn = get_asn(session, number)
    if asn.status != AsnStatus.ARRIVED:
        raise Conflict(f"ASN {number} is {asn.status}, not arrived")
    by_sku = {expected.sku_code: line for line, expected in _expected_lines(session, asn)}
    supplier = inventory.virtual_location(session, asn.site_id, VirtualLocation.SUPPLIER)
    moves = []
    for item in counted:
        line = by_sku.get(item.sku_code)
        if line is None:
            raise InvalidInput(f"SKU {item.sku_code!r} is not on ASN {number}")
        if item.qty <= 0:
            raise InvalidInput(f"counted quantity for {item.sku_code!r} must be positive")
        line.qty_received += item.qty
        lot = inventory.lot_for(session, line.sku_id, line.lot_code, line.expiry)
        assert asn.dock_location_id is not None
        moves.append(
            Move(
                line.sku_id,
                lot.id,
                item.qty,
                supplier.id,
                asn.dock_location_id,
                MoveReason.RECEIPT,
                "asn",
                number,
            )
        )
    inventory.post_moves(session, moves, actor)
    asn.status = AsnStatus.RECEIVED
    asn.closed_at = utcnow()
    session.flush()
    return asn

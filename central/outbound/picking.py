"""Picking: confirm, short-pick and skip lines; every pick moves stock location -> tote."""

from __future__ import annotations

from dataclasses import dataclass

from firmware_interfaces.epc import EpcError, decode_sgtin96
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.common.errors import Conflict, InvalidInput, NotFound
from central.db.tables import (
    CountTask,
    Location,
    Order,
    OrderLine,
    PickBatch,
    PickLine,
    Reservation,
    Sku,
    Stock,
)
from central.inventory import service as inventory
from central.inventory.domain import LocationKind, Move, MoveReason
from central.orders import service as orders
from central.orders.domain import OrderStatus
from central.outbound.allocation import split_backorder


class WrongScan(InvalidInput):
    """The scanned code is not what the screen asked for; the message says what is expected."""


@dataclass(frozen=True)
class ScanTarget:
    """What a pick line expects to be scanned."""

    location_code: str
    sku_code: str
    gtin: str | None


def scan_matches_item(scanned: str, sku: Sku) -> bool:
    """True when a scan names the SKU: its code, its GTIN (8-14 digits) or an SGTIN EPC of it."""
    code = scanned.strip()
    if code.upper() == sku.code.upper():
        return True
    if sku.gtin and code.isdigit() and code.zfill(14) == sku.gtin:
        return True
    if sku.gtin and len(code) == 24:
        try:
            return decode_sgtin96(code).gtin == sku.gtin
        except EpcError:
            return False
    return False


def _line(session: Session, line_id: int) -> PickLine:
    line = session.get(PickLine, line_id, with_for_update=True)
    if line is None:
        raise NotFound(f"no pick line {line_id}")
    if line.status != "open":
        raise Conflict(f"pick line {line_id} is {line.status} already")
    return line


def _tote_location(session: Session, site_id: int, tote: str) -> Location:
    location = session.scalar(
        select(Location).where(Location.site_id == site_id, Location.code == tote)
    )
    if location is None:
        location = Location(site_id=site_id, code=tote, kind=LocationKind.TOTE.value)
        session.add(location)
        session.flush()
    return location


def _take_reserved(session: Session, line: PickLine, qty: int, actor: str) -> None:
    """Release `qty` of the line's reservation and move it from the location to the tote."""
    reservation = session.get(Reservation, line.reservation_id)
    assert reservation is not None
    result = session.execute(
        update(Stock)
        .where(Stock.id == reservation.stock_id, Stock.reserved >= qty)
        .values(reserved=Stock.reserved - qty)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"reservation of pick line {line.id} no longer covers {qty}")
    reservation.qty -= qty
    if reservation.qty == 0:
        reservation.status = "picked"
    location = session.get(Location, line.location_id)
    assert location is not None
    tote = _tote_location(session, location.site_id, line.tote)
    move = Move(
        line.sku_id,
        line.lot_id,
        qty,
        line.location_id,
        tote.id,
        MoveReason.PICK,
        "pick_line",
        str(line.id),
    )
    inventory.post_moves(session, [move], actor)


def confirm_pick(
    session: Session, line_id: int, location_scan: str, item_scan: str, qty: int, actor: str
) -> PickLine:
    """Confirm a pick after checking the scans; stock moves from the location into the tote."""
    line = _line(session, line_id)
    location = session.get(Location, line.location_id)
    sku = session.get(Sku, line.sku_id)
    assert location is not None and sku is not None
    if location_scan.strip().upper() != location.code.upper():
        raise WrongScan(f"wrong location: scanned {location_scan!r}, go to {location.code}")
    if not scan_matches_item(item_scan, sku):
        raise WrongScan(f"wrong item: scanned {item_scan!r}, pick {sku.code} ({sku.name})")
    remaining = line.qty - line.qty_picked
    if not 0 < qty <= remaining:
        raise InvalidInput(f"quantity must be between 1 and {remaining}")
    _take_reserved(session, line, qty, actor)
    line.qty_picked += qty
    order_line = session.get(OrderLine, line.order_line_id)
    assert order_line is not None
    order_line.qty_picked += qty
    if line.qty_picked == line.qty:
        _finish(session, line, "picked", actor)
    return line


def short_pick(session: Session, line_id: int, found: int, reason: str, actor: str) -> PickLine:
    """Pick what is there; the rest becomes a backorder and the location gets a recount task."""
    line = _line(session, line_id)
    remaining = line.qty - line.qty_picked
    if not 0 <= found < remaining:
        raise InvalidInput(f"a short pick finds between 0 and {remaining - 1}")
    if not reason.strip():
        raise InvalidInput("a short pick needs a reason")
    if found:
        _take_reserved(session, line, found, actor)
        line.qty_picked += found
    missing = remaining - found
    reservation = session.get(Reservation, line.reservation_id)
    assert reservation is not None
    session.execute(
        update(Stock)
        .where(Stock.id == reservation.stock_id)
        .values(reserved=Stock.reserved - missing)
        .execution_options(synchronize_session=False)
    )
    reservation.qty -= missing
    reservation.status = "short"
    order_line = session.get(OrderLine, line.order_line_id)
    assert order_line is not None
    order_line.qty_picked += found
    order_line.qty_short += missing
    order_line.qty_allocated -= missing
    order = session.get(Order, order_line.order_id)
    assert order is not None
    split_backorder(session, order, [order_line])
    session.add(
        CountTask(
            location_id=line.location_id,
            sku_id=line.sku_id,
            reason=f"short pick: {reason}",
            status="open",
            created_at=utcnow(),
        )
    )
    line.short_reason = reason
    _finish(session, line, "short", actor)
    return line


def skip(session: Session, line_id: int) -> PickLine:
    """Put a line at the end of its batch (the picker comes back to it)."""
    line = _line(session, line_id)
    last = (
        session.scalar(select(func.max(PickLine.seq)).where(PickLine.batch_id == line.batch_id))
        or 0
    )
    line.seq = last + 1
    return line


def _finish(session: Session, line: PickLine, status: str, actor: str) -> None:
    line.status = status
    line.done_by = actor
    line.done_at = utcnow()
    session.flush()
    open_lines = session.scalar(
        select(func.count(PickLine.id)).where(
            PickLine.batch_id == line.batch_id, PickLine.status == "open"
        )
    )
    if not open_lines:
        batch = session.get(PickBatch, line.batch_id)
        assert batch is not None
        batch.status = "done"
    order_line = session.get(OrderLine, line.order_line_id)
    assert order_line is not None
    _maybe_picked(session, order_line.order_id)


def _maybe_picked(session: Session, order_id: int) -> None:
    pending = session.scalar(
        select(func.count(PickLine.id))
        .join(OrderLine, PickLine.order_line_id == OrderLine.id)
        .where(OrderLine.order_id == order_id, PickLine.status == "open")
    )
    order = session.get(Order, order_id)
    assert order is not None
    if not pending and order.status == OrderStatus.RELEASED:
        orders.set_status(session, order, OrderStatus.PICKED)


def next_batch_for(session: Session, user: str) -> PickBatch | None:
    """The batch a picker is working on, else the oldest open one (claimed for them)."""
    mine = session.scalar(
        select(PickBatch).where(PickBatch.assignee == user, PickBatch.status == "open").limit(1)
    )
    if mine:
        return mine
    batch = session.scalar(
        select(PickBatch)
        .where(PickBatch.assignee.is_(None), PickBatch.status == "open")
        .order_by(PickBatch.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if batch:
        batch.assignee = user
    return batch

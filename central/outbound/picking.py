"""Picking: confirm, short-pick and skip lines; every pick moves stock location -> tote."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from firmware_interfaces.epc import EpcError, decode_sgtin96
from sqlalchemy import ColumnElement, and_, exists, func, select, update
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
    Stock,
)
from central.inventory import service as inventory
from central.inventory.domain import LocationKind, Move, MoveReason
from central.orders import service as orders
from central.orders.domain import OrderStatus
from central.outbound import picking_sql
from central.outbound.allocation import split_backorder


class WrongScan(InvalidInput):
    """The scanned code is not what the screen asked for; the message says what is expected."""


@dataclass(frozen=True)
class ScanTarget:
    """What a pick line expects to be scanned."""

    location_code: str
    sku_code: str
    gtin: str | None


class ItemCodes(Protocol):
    """What an item scan is checked against (a `Sku` row has both)."""

    @property
    def code(self) -> str: ...

    @property
    def gtin(self) -> str | None: ...


def scan_matches_item(scanned: str, sku: ItemCodes) -> bool:
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


@dataclass(frozen=True)
class PickedLine:
    """A pick line as the handheld shows it, after a confirm."""

    id: int
    seq: int
    batch_id: int
    location: str
    sku_id: int
    sku: str
    sku_name: str
    gtin: str | None
    lot: str
    qty: int
    qty_picked: int
    tote: str
    status: str


# An open line a handheld may be offered: not handed to a robot arm (`picker` "arm:<station>").
HANDHELD_LINE = and_(PickLine.status == "open", PickLine.picker.is_(None))


def has_handheld_lines() -> ColumnElement[bool]:
    """True for a batch (correlated to `PickBatch`) with an open line for handhelds."""
    return exists().where(PickLine.batch_id == PickBatch.id, HANDHELD_LINE)


def check_picker(line_id: int, picker: str | None, actor: str) -> None:
    """A line handed to an arm is confirmed by that arm only, other lines by people only."""
    if picker is not None and actor != picker:
        raise Conflict(f"pick line {line_id} is handed to robot {picker}: it is not picked by hand")
    if picker is None and actor.startswith("arm:"):
        raise Conflict(f"pick line {line_id} is not handed to a robot arm")


def _line(session: Session, line_id: int, actor: str) -> PickLine:
    line = session.get(PickLine, line_id, with_for_update=True)
    if line is None:
        raise NotFound(f"no pick line {line_id}")
    if line.status != "open":
        raise Conflict(f"pick line {line_id} is {line.status} already")
    check_picker(line_id, line.picker, actor)
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
) -> PickedLine:
    """Confirm a pick after checking the scans; stock moves from the location into the tote.

    The hot path of the handhelds, in Core statements built once: one locking read of the line
    with everything it needs, one conditional stock update (reserved and on-hand together),
    the ledger move into the tote, three row updates, and the batch/order completion check only
    when the line finishes. The response comes from what was read, not from a re-read.
    """
    connection = session.connection()
    row = connection.execute(picking_sql.LINE, {"line_id": line_id}).one_or_none()
    if row is None:
        raise NotFound(f"no pick line {line_id}")
    if row.status != "open":
        raise Conflict(f"pick line {line_id} is {row.status} already")
    check_picker(line_id, row.picker, actor)
    if location_scan.strip().upper() != row.location.upper():
        raise WrongScan(f"wrong location: scanned {location_scan!r}, go to {row.location}")
    if not scan_matches_item(item_scan, picking_sql.Item(row.sku, row.gtin)):
        raise WrongScan(f"wrong item: scanned {item_scan!r}, pick {row.sku} ({row.sku_name})")
    remaining = row.qty - row.qty_picked
    if not 0 < qty <= remaining:
        raise InvalidInput(f"quantity must be between 1 and {remaining}")
    tote_id = row.tote_id or picking_sql.tote_location(connection, row.site_id, row.tote)
    left = picking_sql.write_pick(connection, line_id, row, qty, tote_id, actor, utcnow())
    if left is not None:
        _close_done(session, row.batch_id, row.order_id, left)
    picked = row.qty_picked + qty
    return PickedLine(
        id=line_id,
        seq=row.seq,
        batch_id=row.batch_id,
        location=row.location,
        sku_id=row.sku_id,
        sku=row.sku,
        sku_name=row.sku_name,
        gtin=row.gtin,
        lot=row.lot,
        qty=row.qty,
        qty_picked=picked,
        tote=row.tote,
        status="picked" if left is not None else "open",
    )


def _close_done(session: Session, batch_id: int, order_id: int, left: tuple[int, int]) -> None:
    """A line finished: close its batch and mark its order picked when nothing is left open."""
    connection = session.connection()
    open_in_batch, open_of_order = left
    if not open_in_batch:
        connection.execute(picking_sql.BATCH_DONE, {"batch_id": batch_id})
    if not open_of_order:
        orders.change_status(session, order_id, OrderStatus.RELEASED, OrderStatus.PICKED)


def short_pick(session: Session, line_id: int, found: int, reason: str, actor: str) -> PickLine:
    """Pick what is there; the rest becomes a backorder and the location gets a recount task."""
    line = _line(session, line_id, actor)
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


def skip(session: Session, line_id: int, actor: str = "") -> PickLine:
    """Put a line at the end of its batch (the picker comes back to it)."""
    line = _line(session, line_id, actor)
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
    order_line = session.get(OrderLine, line.order_line_id)
    assert order_line is not None
    session.flush()
    order_id = order_line.order_id
    left = picking_sql.open_counts(session.connection(), line.batch_id, order_id, line.id)
    _close_done(session, line.batch_id, order_id, left)
    for key in (
        Session.identity_key(PickBatch, line.batch_id),
        Session.identity_key(Order, order_line.order_id),
    ):
        loaded = session.identity_map.get(key)
        if loaded is not None:  # changed by Core statements: read again when next used
            session.expire(loaded)


def next_batch_for(session: Session, user: str) -> PickBatch | None:
    """The batch a picker is working on, else the oldest open one (claimed for them).

    Only batches with a line left for people count: lines handed to robot arms are theirs.
    """
    mine = session.scalar(
        select(PickBatch)
        .where(PickBatch.assignee == user, PickBatch.status == "open", has_handheld_lines())
        .limit(1)
    )
    if mine:
        return mine
    batch = session.scalar(
        select(PickBatch)
        .where(PickBatch.assignee.is_(None), PickBatch.status == "open", has_handheld_lines())
        .order_by(PickBatch.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if batch:
        batch.assignee = user
    return batch

"""Allocation: reserve stock for order lines by FEFO/FIFO, never beyond what is there."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.db.tables import Location, Lot, Order, OrderLine, Reservation, Stock
from central.orders.domain import OrderStatus
from central.orders.service import PICKABLE, set_status
from central.outbound.allocation_plan import Decision, decide, take_fefo


@dataclass(frozen=True)
class AllocationResult:
    """What one allocation run did to one order."""

    order_id: int
    status: OrderStatus
    backorder_id: int | None = None


def _candidates(session: Session, site_id: int, sku_id: int) -> list[tuple[int, int]]:
    """(stock id, free qty) in pickable locations: earliest expiry first, then oldest lot."""
    rows = session.execute(
        select(Stock.id, Stock.qty - Stock.reserved)
        .join(Location, Stock.location_id == Location.id)
        .join(Lot, Stock.lot_id == Lot.id)
        .where(
            Stock.sku_id == sku_id,
            Location.site_id == site_id,
            Location.kind.in_(PICKABLE),
            Stock.qty - Stock.reserved > 0,
        )
        .order_by(Lot.expiry.is_(None), Lot.expiry, Lot.id, Stock.id)
    ).tuples()
    return [(stock_id, int(free)) for stock_id, free in rows]


def reserve(session: Session, stock_id: int, qty: int) -> bool:
    """Atomically reserve `qty` at one stock row if that much is still free."""
    result = session.execute(
        update(Stock)
        .where(Stock.id == stock_id, Stock.qty - Stock.reserved >= qty)
        .values(reserved=Stock.reserved + qty)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def allocate_line(session: Session, site_id: int, line: OrderLine) -> int:
    """Reserve what is free for a line, across lots and locations; returns the qty reserved."""
    need = line.qty - line.qty_allocated
    if need <= 0 or line.sku_id is None:
        return 0
    got = 0

    def take(stock_id: int, qty: int) -> bool:
        if not reserve(session, stock_id, qty):
            return False
        session.add(Reservation(order_line_id=line.id, stock_id=stock_id, qty=qty, status="open"))
        return True

    for _attempt in range(3):  # a concurrent reservation can take a candidate first: look again
        taken = take_fefo(need - got, _candidates(session, site_id, line.sku_id), take)
        got += sum(qty for _, qty in taken)
        if got == need:
            break
    line.qty_allocated += got
    return got


def split_backorder(session: Session, order: Order, lines: list[OrderLine]) -> Order:
    """Move the unallocated rest of `lines` into a new backorder (emptied lines keep qty 0)."""
    suffix = 1 + len(
        session.scalars(
            select(Order.id).where(
                Order.channel == order.channel,
                Order.channel_order_id.like(f"{order.channel_order_id}-BO%"),
            )
        ).all()
    )
    now = utcnow()
    backorder = Order(
        channel=order.channel,
        channel_order_id=f"{order.channel_order_id}-BO{suffix}",
        site_id=order.site_id,
        status="new",
        customer_name=order.customer_name,
        customer_email=order.customer_email,
        ship_to=order.ship_to,
        address_key=order.address_key,
        currency=order.currency,
        total_amount=0,
        payment_status=order.payment_status,
        carrier=order.carrier,
        risk_score=order.risk_score,
        problems=[],
        processed_automatically=True,
        ordered_at=order.ordered_at,
        created_at=now,
        updated_at=now,
    )
    session.add(backorder)
    session.flush()
    for line in lines:
        missing = line.qty - line.qty_allocated
        if missing <= 0:
            continue
        session.add(
            OrderLine(
                order_id=backorder.id,
                sku_id=line.sku_id,
                sku_code=line.sku_code,
                qty=missing,
                unit_price=line.unit_price,
            )
        )
        backorder.total_amount += line.unit_price * missing
        order.total_amount -= line.unit_price * missing
        line.qty = line.qty_allocated
    session.flush()
    set_status(session, backorder, OrderStatus.BACKORDERED, f"backorder of order {order.id}")
    return backorder


def allocate_order(session: Session, order: Order) -> AllocationResult:
    """Reserve stock for every line; a short order splits into an allocated part and a backorder."""
    lines = list(
        session.scalars(
            select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)
        )
    )
    for line in lines:
        allocate_line(session, order.site_id, line)
    decision = decide((line.qty, line.qty_allocated) for line in lines)
    if decision is Decision.ALLOCATED:
        set_status(session, order, OrderStatus.ALLOCATED)
        return AllocationResult(order.id, OrderStatus.ALLOCATED)
    if decision is Decision.BACKORDERED:
        if order.status != OrderStatus.BACKORDERED:
            set_status(session, order, OrderStatus.BACKORDERED, "no stock")
        return AllocationResult(order.id, OrderStatus.BACKORDERED)
    backorder = split_backorder(session, order, lines)
    set_status(session, order, OrderStatus.ALLOCATED, f"split: remainder in order {backorder.id}")
    return AllocationResult(order.id, OrderStatus.ALLOCATED, backorder.id)

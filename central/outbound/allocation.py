"""Allocation: reserve stock for order lines by FEFO/FIFO, never beyond what is there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.db.tables import Location, Lot, Order, OrderLine, Reservation, Stock
from central.orders.domain import OrderStatus
from central.orders.service import PICKABLE, set_status, set_statuses


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
    for _attempt in range(3):  # a concurrent reservation can take a candidate first: look again
        for stock_id, free in _candidates(session, site_id, line.sku_id):
            take = min(need - got, free)
            if take > 0 and reserve(session, stock_id, take):
                session.add(
                    Reservation(order_line_id=line.id, stock_id=stock_id, qty=take, status="open")
                )
                got += take
            if got == need:
                break
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
    if all(line.qty_allocated == line.qty for line in lines):
        set_status(session, order, OrderStatus.ALLOCATED)
        return AllocationResult(order.id, OrderStatus.ALLOCATED)
    if not any(line.qty_allocated for line in lines):
        if order.status != OrderStatus.BACKORDERED:
            set_status(session, order, OrderStatus.BACKORDERED, "no stock")
        return AllocationResult(order.id, OrderStatus.BACKORDERED)
    backorder = split_backorder(session, order, lines)
    set_status(session, order, OrderStatus.ALLOCATED, f"split: remainder in order {backorder.id}")
    return AllocationResult(order.id, OrderStatus.ALLOCATED, backorder.id)


class _StaleStock(Exception):
    """A stock row no longer had the free quantity read a moment ago."""


def _free_stock(session: Session, site_id: int, sku_ids: list[int]) -> dict[int, list[list[int]]]:
    """Per SKU, [stock id, free qty] in FEFO order; rows locked in id order on PostgreSQL."""
    query = (
        select(Stock.id, Stock.sku_id, Stock.qty - Stock.reserved, Lot.expiry, Lot.id)
        .join(Location, Stock.location_id == Location.id)
        .join(Lot, Stock.lot_id == Lot.id)
        .where(
            Stock.sku_id.in_(sku_ids),
            Location.site_id == site_id,
            Location.kind.in_(PICKABLE),
            Stock.qty - Stock.reserved > 0,
        )
        .order_by(Stock.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Stock)
    rows = sorted(
        session.execute(query).tuples(),
        key=lambda r: (r[3] is None, r[3] or date.min, r[4], r[0]),
    )
    stock: dict[int, list[list[int]]] = {}
    for stock_id, sku_id, free, _expiry, _lot in rows:
        stock.setdefault(sku_id, []).append([stock_id, int(free)])
    return stock


def _plan(
    lines: list[tuple[int, int, int | None, int, int]], stock: dict[int, list[list[int]]]
) -> tuple[dict[int, int], list[tuple[int, int, int]]]:
    """Allocate in memory, line by line as `allocate_line` would: (got per line, reservations)."""
    got: dict[int, int] = {}
    reservations: list[tuple[int, int, int]] = []  # (line id, stock id, qty)
    for line_id, _order_id, sku_id, qty, allocated in lines:
        need = qty - allocated
        if need <= 0 or sku_id is None:
            continue
        taken = 0
        for cell in stock.get(sku_id, ()):
            take = min(need - taken, cell[1])
            if take > 0:
                cell[1] -= take
                taken += take
                reservations.append((line_id, cell[0], take))
            if taken == need:
                break
        got[line_id] = taken
    return got, reservations


def _write(session: Session, got: dict[int, int], reservations: list[tuple[int, int, int]]) -> None:
    """Conditional bulk reserve (all rows or _StaleStock), then reservations and line totals."""
    per_stock: dict[int, int] = {}
    for _line, stock_id, qty in reservations:
        per_stock[stock_id] = per_stock.get(stock_id, 0) + qty
    if per_stock:
        result = session.connection().execute(
            update(Stock.__table__)
            .where(
                Stock.__table__.c.id == bindparam("sid"),
                Stock.__table__.c.qty - Stock.__table__.c.reserved >= bindparam("take"),
            )
            .values(reserved=Stock.__table__.c.reserved + bindparam("take")),
            [{"sid": s, "take": q} for s, q in per_stock.items()],
        )
        if result.rowcount != len(per_stock):
            raise _StaleStock
        session.execute(
            insert(Reservation),
            [
                {"order_line_id": line, "stock_id": stock_id, "qty": qty, "status": "open"}
                for line, stock_id, qty in reservations
            ],
        )
    changed = [{"lid": line, "add": n} for line, n in got.items() if n]
    if changed:
        table = OrderLine.__table__
        session.connection().execute(
            update(table)
            .where(table.c.id == bindparam("lid"))
            .values(qty_allocated=table.c.qty_allocated + bindparam("add")),
            changed,
        )


def allocate_orders(session: Session, site_id: int, orders: list[Order]) -> list[AllocationResult]:
    """`allocate_order` for many orders in turn, with a fixed number of bulk statements.

    Free stock is read once (locked on PostgreSQL), allocated in memory in the orders' sequence
    and FEFO, and written with conditional updates; if one finds less than was read, the writes
    are undone and the run starts again (after three tries, order by order).
    """
    if not orders:
        return []
    session.flush()
    rank = {o.id: i for i, o in enumerate(orders)}
    lines: list[tuple[int, int, int | None, int, int]] = []
    for part in range(0, len(orders), 500):
        ids = [o.id for o in orders[part : part + 500]]
        lines += session.execute(
            select(
                OrderLine.id,
                OrderLine.order_id,
                OrderLine.sku_id,
                OrderLine.qty,
                OrderLine.qty_allocated,
            ).where(OrderLine.order_id.in_(ids))
        ).tuples()
    lines.sort(key=lambda r: (rank[r[1]], r[0]))
    sku_ids = sorted({r[2] for r in lines if r[2] is not None})
    for _attempt in range(3):
        stock = _free_stock(session, site_id, sku_ids) if sku_ids else {}
        got, reservations = _plan(lines, stock)
        try:
            with session.begin_nested():
                _write(session, got, reservations)
            break
        except _StaleStock:
            continue
    else:
        return [allocate_order(session, order) for order in orders]
    return _finish_orders(session, orders, lines, got)


def _finish_orders(
    session: Session,
    orders: list[Order],
    lines: list[tuple[int, int, int | None, int, int]],
    got: dict[int, int],
) -> list[AllocationResult]:
    """Status changes in bulk; a partly allocated order splits off its backorder as before."""
    state: dict[int, list[tuple[int, int]]] = {o.id: [] for o in orders}  # (allocated, qty)
    for line_id, order_id, _sku, qty, allocated in lines:
        state[order_id].append((allocated + got.get(line_id, 0), qty))
    changes: list[tuple[Order, OrderStatus, str | None]] = []
    partial: list[Order] = []
    results: dict[int, AllocationResult] = {}
    for order in orders:
        done = state[order.id]
        if all(a == q for a, q in done):
            changes.append((order, OrderStatus.ALLOCATED, None))
            results[order.id] = AllocationResult(order.id, OrderStatus.ALLOCATED)
        elif not any(a for a, _ in done):
            if order.status != OrderStatus.BACKORDERED:
                changes.append((order, OrderStatus.BACKORDERED, "no stock"))
            results[order.id] = AllocationResult(order.id, OrderStatus.BACKORDERED)
        else:
            partial.append(order)
    set_statuses(session, changes)
    for order in partial:
        order_lines = list(
            session.scalars(
                select(OrderLine)
                .where(OrderLine.order_id == order.id)
                .order_by(OrderLine.id)
                .execution_options(populate_existing=True)
            )
        )
        backorder = split_backorder(session, order, order_lines)
        set_status(
            session, order, OrderStatus.ALLOCATED, f"split: remainder in order {backorder.id}"
        )
        results[order.id] = AllocationResult(order.id, OrderStatus.ALLOCATED, backorder.id)
    return [results[o.id] for o in orders]

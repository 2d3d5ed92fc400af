"""Bulk allocation: many orders with a fixed number of statements, same outcome as one by one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from central.common.clock import utcnow
from central.db.bulk import insert_rows
from central.db.tables import Location, Lot, Order, OrderLine, Reservation, Stock
from central.orders.domain import OrderStatus
from central.orders.service import PICKABLE, STATUS_TOPIC, set_statuses, status_payload
from central.outbound.allocation import AllocationResult, allocate_order
from central.outbound.allocation_plan import AllocationPlan, Decision, PlanLine, plan_allocation
from central.outbox.service import emit_rows

IN_CHUNK = 500
ORDERS = cast(Table, Order.__table__)
LINES = cast(Table, OrderLine.__table__)
STOCK = cast(Table, Stock.__table__)
RESERVATIONS = cast(Table, Reservation.__table__)


class _Line(NamedTuple):
    id: int
    order_id: int
    sku_id: int | None
    qty: int
    allocated: int
    sku_code: str
    unit_price: Decimal


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
    orders: list[Order], lines: list[_Line], stock: dict[int, list[list[int]]]
) -> AllocationPlan:
    """Allocate in memory with the shared rule (`allocation_plan`), as `allocate_order` would."""
    return plan_allocation(
        [o.id for o in orders],
        [PlanLine(ln.id, ln.order_id, ln.sku_id, ln.qty, ln.allocated) for ln in lines],
        stock,
    )


def _write(
    session: Session,
    lines: list[_Line],
    got: dict[int, int],
    reservations: list[tuple[int, int, int]],
) -> None:
    """Conditional bulk reserve (all rows or _StaleStock), then reservations and line totals."""
    per_stock: dict[int, int] = {}
    for _line, stock_id, qty in reservations:
        per_stock[stock_id] = per_stock.get(stock_id, 0) + qty
    connection = session.connection()
    if per_stock:
        result = connection.execute(
            update(STOCK)
            .where(
                STOCK.c.id == bindparam("sid"),
                STOCK.c.qty - STOCK.c.reserved >= bindparam("take"),
            )
            .values(reserved=STOCK.c.reserved + bindparam("take")),
            [{"sid": s, "take": q} for s, q in per_stock.items()],
        )
        if result.rowcount != len(per_stock):
            raise _StaleStock
        insert_rows(
            session,
            RESERVATIONS,
            [
                {"order_line_id": line, "stock_id": stock_id, "qty": qty, "status": "open"}
                for line, stock_id, qty in reservations
            ],
        )
    full = [ln.id for ln in lines if got.get(ln.id) and ln.allocated + got[ln.id] == ln.qty]
    for start in range(0, len(full), IN_CHUNK):  # most lines: one UPDATE per chunk of ids
        connection.execute(
            update(LINES)
            .where(LINES.c.id.in_(full[start : start + IN_CHUNK]))
            .values(qty_allocated=LINES.c.qty)
        )
    part = [
        {"lid": ln.id, "add": got[ln.id]}
        for ln in lines
        if got.get(ln.id) and ln.allocated + got[ln.id] != ln.qty
    ]
    if part:
        connection.execute(
            update(LINES)
            .where(LINES.c.id == bindparam("lid"))
            .values(qty_allocated=LINES.c.qty_allocated + bindparam("add")),
            part,
        )


def _load_lines(session: Session, orders: list[Order]) -> list[_Line]:
    rank = {o.id: i for i, o in enumerate(orders)}
    lines: list[_Line] = []
    for start in range(0, len(orders), IN_CHUNK):
        ids = [o.id for o in orders[start : start + IN_CHUNK]]
        rows = session.execute(
            select(
                OrderLine.id,
                OrderLine.order_id,
                OrderLine.sku_id,
                OrderLine.qty,
                OrderLine.qty_allocated,
                OrderLine.sku_code,
                OrderLine.unit_price,
            ).where(OrderLine.order_id.in_(ids))
        ).tuples()
        lines += [_Line(*row) for row in rows]
    lines.sort(key=lambda ln: (rank[ln.order_id], ln.id))
    return lines


def allocate_orders(session: Session, site_id: int, orders: list[Order]) -> list[AllocationResult]:
    """`allocate_order` for many orders in turn, with a fixed number of bulk statements.

    Free stock is read once (locked on PostgreSQL, in id order), allocated in memory in the
    orders' sequence and FEFO, and written with conditional updates; if one finds less than
    was read, the writes are undone and the run starts again (after three tries, order by order).
    """
    if not orders:
        return []
    session.flush()
    lines = _load_lines(session, orders)
    sku_ids = sorted({ln.sku_id for ln in lines if ln.sku_id is not None})
    for _attempt in range(3):
        stock = _free_stock(session, site_id, sku_ids) if sku_ids else {}
        plan = _plan(orders, lines, stock)
        try:
            with session.begin_nested():
                _write(session, lines, plan.got, plan.reservations)
            break
        except _StaleStock:
            continue
    else:
        return [allocate_order(session, order) for order in orders]
    results = _finish_orders(session, orders, lines, plan)
    for obj in list(session.identity_map.values()):  # loaded lines: re-read their new totals
        if isinstance(obj, OrderLine):
            session.expire(obj)
    return results


def _finish_orders(
    session: Session, orders: list[Order], lines: list[_Line], plan: AllocationPlan
) -> list[AllocationResult]:
    """Status changes in bulk; partly allocated orders split off their backorders in bulk."""
    got = plan.got
    decisions = {outcome.order_id: outcome.decision for outcome in plan.orders}
    by_order: dict[int, list[_Line]] = {o.id: [] for o in orders}
    for line in lines:
        by_order[line.order_id].append(
            line._replace(allocated=line.allocated + got.get(line.id, 0))
        )
    changes: list[tuple[Order, OrderStatus, str | None]] = []
    partial: list[tuple[Order, list[_Line]]] = []
    results: dict[int, AllocationResult] = {}
    for order in orders:
        done = by_order[order.id]
        decision = decisions[order.id]
        if decision is Decision.ALLOCATED:
            changes.append((order, OrderStatus.ALLOCATED, None))
            results[order.id] = AllocationResult(order.id, OrderStatus.ALLOCATED)
        elif decision is Decision.BACKORDERED:
            if order.status != OrderStatus.BACKORDERED:
                changes.append((order, OrderStatus.BACKORDERED, "no stock"))
            results[order.id] = AllocationResult(order.id, OrderStatus.BACKORDERED)
        else:
            partial.append((order, done))
    set_statuses(session, changes)
    for order_id, backorder_id in split_backorders(session, partial).items():
        results[order_id] = AllocationResult(order_id, OrderStatus.ALLOCATED, backorder_id)
    return [results[o.id] for o in orders]


def _taken_suffixes(session: Session, orders: list[Order]) -> set[tuple[str, str]]:
    channels = sorted({o.channel for o in orders})
    rows = session.execute(
        select(Order.channel, Order.channel_order_id).where(
            Order.channel.in_(channels), Order.channel_order_id.like("%-BO%")
        )
    ).tuples()
    return set(rows)


def split_backorders(session: Session, partial: list[tuple[Order, list[_Line]]]) -> dict[int, int]:
    """`split_backorder` for many orders: backorders, their lines and events in bulk inserts."""
    if not partial:
        return {}
    taken = _taken_suffixes(session, [o for o, _ in partial])
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for order, lines in partial:
        base = f"{order.channel_order_id}-BO"
        suffix = 1 + sum(1 for ch, coid in taken if ch == order.channel and coid.startswith(base))
        code = f"{base}{suffix}"
        taken.add((order.channel, code))
        missing = sum((ln.unit_price * (ln.qty - ln.allocated) for ln in lines), Decimal(0))
        rows.append(
            {
                "channel": order.channel,
                "channel_order_id": code,
                "site_id": order.site_id,
                "status": OrderStatus.BACKORDERED.value,
                "customer_name": order.customer_name,
                "customer_email": order.customer_email,
                "ship_to": order.ship_to,
                "address_key": order.address_key,
                "currency": order.currency,
                "total_amount": missing,
                "payment_status": order.payment_status,
                "carrier": order.carrier,
                "risk_score": order.risk_score,
                "problems": [],
                "processed_automatically": True,
                "ordered_at": order.ordered_at,
                "created_at": now,
                "updated_at": now,
            }
        )
    ids = list(
        session.scalars(insert(ORDERS).returning(ORDERS.c.id, sort_by_parameter_order=True), rows)
    )
    connection = session.connection()
    insert_rows(
        session,
        LINES,
        [
            {
                "order_id": bo_id,
                "sku_id": ln.sku_id,
                "sku_code": ln.sku_code,
                "qty": ln.qty - ln.allocated,
                "unit_price": ln.unit_price,
                "qty_allocated": 0,
                "qty_picked": 0,
                "qty_short": 0,
            }
            for bo_id, (_order, lines) in zip(ids, partial, strict=True)
            for ln in lines
            if ln.qty > ln.allocated
        ],
    )
    connection.execute(
        update(LINES).where(LINES.c.id == bindparam("lid")).values(qty=bindparam("q")),
        [
            {"lid": ln.id, "q": ln.allocated}
            for _, lines in partial
            for ln in lines
            if ln.qty > ln.allocated
        ],
    )
    events: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for bo_id, row, (order, _lines) in zip(ids, rows, partial, strict=True):
        total = order.total_amount - row["total_amount"]
        events.append(
            _event(
                bo_id,
                row["channel"],
                row["channel_order_id"],
                "new",
                OrderStatus.BACKORDERED,
                f"backorder of order {order.id}",
                now,
            )
        )
        events.append(
            _event(
                order.id,
                order.channel,
                order.channel_order_id,
                order.status,
                OrderStatus.ALLOCATED,
                f"split: remainder in order {bo_id}",
                now,
            )
        )
        updates.append(
            {"oid": order.id, "st": OrderStatus.ALLOCATED.value, "at": now, "tot": total}
        )
        set_committed_value(order, "status", OrderStatus.ALLOCATED.value)
        set_committed_value(order, "updated_at", now)
        set_committed_value(order, "total_amount", total)
    connection.execute(
        update(ORDERS)
        .where(ORDERS.c.id == bindparam("oid"))
        .values(status=bindparam("st"), updated_at=bindparam("at"), total_amount=bindparam("tot")),
        updates,
    )
    emit_rows(session, events)
    return {order.id: bo_id for bo_id, (order, _) in zip(ids, partial, strict=True)}


def _event(
    order_id: int,
    channel: str,
    channel_order_id: str,
    previous: str,
    status: OrderStatus,
    detail: str,
    at: Any,
) -> dict[str, Any]:
    return {
        "topic": STATUS_TOPIC,
        "key": str(order_id),
        "payload": status_payload(
            order_id, channel, channel_order_id, previous, status, detail, at
        ),
        "created_at": at,
    }

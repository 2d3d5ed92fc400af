"""Order intake, validation, the exception queue, merging and status changes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from central.common.clock import utcnow
from central.common.errors import Conflict, InvalidInput, NotFound
from central.db.tables import (
    Location,
    Order,
    OrderLine,
    Reservation,
    Site,
    Sku,
    Stock,
)
from central.inventory.domain import LocationKind
from central.orders.domain import (
    OPEN_FOR_CHANGES,
    Address,
    OrderIn,
    OrderStatus,
    RiskRules,
    address_problems,
    assess_risk,
    check_storable,
    order_problems,
)
from central.orders.fx import to_usd
from central.outbox.service import emit, emit_rows

logger = logging.getLogger(__name__)
PICKABLE = (LocationKind.STORAGE.value, LocationKind.PICK_FACE.value)


@dataclass(frozen=True)
class IntakeResult:
    """The stored order and whether this call created it (False: a repeat of the same order)."""

    order: Order
    created: bool


STATUS_TOPIC = "order.status_changed"
ORDERS = cast(Table, Order.__table__)
_CHANGE_STATUS = (
    update(ORDERS)
    .where(ORDERS.c.id == bindparam("oid"), ORDERS.c.status == bindparam("prev"))
    .values(status=bindparam("st"), updated_at=bindparam("at", type_=ORDERS.c.updated_at.type))
    .returning(ORDERS.c.channel, ORDERS.c.channel_order_id)
)
ADDRESS_KEY_LIMIT = 512  # width of orders.address_key


def status_payload(
    order_id: int,
    channel: str,
    channel_order_id: str,
    previous: str,
    status: OrderStatus,
    detail: str | None,
    at: datetime,
) -> dict[str, Any]:
    """The outbox payload of one status change."""
    return {
        "order_id": order_id,
        "channel": channel,
        "channel_order_id": channel_order_id,
        "from": previous,
        "to": status.value,
        "detail": detail,
        "at": at.isoformat(),
    }


def event_row(key: str, payload: dict[str, Any], at: datetime) -> dict[str, Any]:
    """An outbox row of a status change, for `emit_rows`."""
    return {"topic": STATUS_TOPIC, "key": key, "payload": payload, "created_at": at}


def set_status(
    session: Session, order: Order, status: OrderStatus, detail: str | None = None
) -> None:
    """Change an order's status and publish the change through the outbox."""
    previous = order.status
    order.status = status.value
    order.updated_at = utcnow()
    payload = status_payload(
        order.id, order.channel, order.channel_order_id, previous, status, detail, order.updated_at
    )
    emit(session, STATUS_TOPIC, str(order.id), payload)


def change_status(
    session: Session,
    order_id: int,
    previous: OrderStatus,
    status: OrderStatus,
    detail: str | None = None,
) -> bool:
    """`set_status` without loading the order, only if it is in `previous` (False if not).

    Two statements (a conditional UPDATE returning the order's channel ids, the outbox event);
    a loaded `Order` of this session is not refreshed.
    """
    now = utcnow()
    values = {"oid": order_id, "prev": previous.value, "st": status.value, "at": now}
    row = session.connection().execute(_CHANGE_STATUS, values).first()
    if row is None:
        return False
    payload = status_payload(order_id, row[0], row[1], previous.value, status, detail, now)
    emit_rows(session, [event_row(str(order_id), payload, now)])
    return True


def set_statuses(
    session: Session,
    changes: Sequence[tuple[Order, OrderStatus, str | None]],
    **values: Any,
) -> None:
    """`set_status` for many orders: an UPDATE per status (ids in chunks) and one bulk INSERT.

    `values` are further columns set on every changed order (e.g. `wave_id`).
    """
    if not changes:
        return
    now = utcnow()
    table = cast(Table, Order.__table__)
    connection = session.connection()
    by_status: dict[OrderStatus, list[int]] = {}
    for order, status, _ in changes:
        by_status.setdefault(status, []).append(order.id)
    for status, ids in by_status.items():
        for start in range(0, len(ids), 1000):
            connection.execute(
                update(table)
                .where(table.c.id.in_(ids[start : start + 1000]))
                .values(status=status.value, updated_at=now, **values)
            )
    events = [
        event_row(
            str(o.id),
            status_payload(o.id, o.channel, o.channel_order_id, o.status, st, detail, now),
            now,
        )
        for o, st, detail in changes
    ]
    emit_rows(session, events)
    for order, st, _ in changes:  # the loaded objects show the new state without a reload
        set_committed_value(order, "status", st.value)
        set_committed_value(order, "updated_at", now)
        for name, value in values.items():
            set_committed_value(order, name, value)


def available_by_sku(session: Session, site_id: int, sku_codes: Sequence[str]) -> dict[str, int]:
    """Unreserved stock per SKU in pickable locations of a site."""
    rows = session.execute(
        select(Sku.code, func.coalesce(func.sum(Stock.qty - Stock.reserved), 0))
        .join(Stock, Stock.sku_id == Sku.id)
        .join(Location, Stock.location_id == Location.id)
        .where(Sku.code.in_(sku_codes), Location.site_id == site_id, Location.kind.in_(PICKABLE))
        .group_by(Sku.code)
    ).tuples()
    return {code: int(qty) for code, qty in rows}


def receive_order(
    session: Session, site: Site, incoming: OrderIn, rules: RiskRules
) -> IntakeResult:
    """Store a validated order once per (channel, channel order id); a repeat returns it."""
    existing = session.scalar(
        select(Order).where(
            Order.channel == incoming.channel, Order.channel_order_id == incoming.channel_order_id
        )
    )
    if existing is not None:
        return IntakeResult(existing, created=False)
    check_storable(incoming)
    codes = sorted({line.sku for line in incoming.lines})
    skus = {s.code: s for s in session.scalars(select(Sku).where(Sku.code.in_(codes)))}
    since = incoming.ordered_at - timedelta(hours=rules.velocity_window_h)
    recent = 0
    if incoming.customer_email:
        recent = (
            session.scalar(
                select(func.count(Order.id)).where(
                    Order.customer_email == incoming.customer_email.lower(),
                    Order.ordered_at >= since,
                )
            )
            or 0
        )
    risk = assess_risk(incoming, to_usd(incoming.total), recent, rules)
    problems = order_problems(
        incoming, set(skus), available_by_sku(session, site.id, codes), risk, rules
    )
    now = utcnow()
    order = Order(
        channel=incoming.channel,
        channel_order_id=incoming.channel_order_id,
        site_id=site.id,
        status="new",
        customer_name=incoming.customer_name,
        customer_email=incoming.customer_email.lower(),
        ship_to=asdict(incoming.ship_to),
        address_key=incoming.ship_to.key()[:ADDRESS_KEY_LIMIT],
        currency=incoming.total.currency,
        total_amount=incoming.total.amount,
        payment_status=incoming.payment_status.value,
        carrier=incoming.carrier,
        risk_score=risk.score,
        problems=problems,
        processed_automatically=not problems,
        ordered_at=incoming.ordered_at,
        created_at=now,
        updated_at=now,
    )
    session.add(order)
    session.flush()
    for line in incoming.lines:
        sku = skus.get(line.sku)
        session.add(
            OrderLine(
                order_id=order.id,
                sku_id=sku.id if sku else None,
                sku_code=line.sku,
                qty=line.qty,
                unit_price=line.unit_price.amount,
            )
        )
    session.flush()
    if problems:
        set_status(session, order, OrderStatus.EXCEPTION, "; ".join(problems))
    else:
        set_status(session, order, OrderStatus.READY)
    return IntakeResult(order, created=True)


def get_order(session: Session, order_id: int, lock: bool = False) -> Order:
    """The order with id `order_id`."""
    order = session.get(Order, order_id, with_for_update=lock)
    if order is None:
        raise NotFound(f"no order {order_id}")
    return order


def approve(session: Session, order_id: int, actor: str, note: str | None) -> Order:
    """A supervisor lets an order through despite its problems (it still needs its SKUs)."""
    order = get_order(session, order_id, lock=True)
    if order.status != OrderStatus.EXCEPTION:
        raise Conflict(f"order {order_id} is {order.status}, not in the exception queue")
    unknown = session.scalar(
        select(func.count(OrderLine.id)).where(
            OrderLine.order_id == order.id, OrderLine.sku_id.is_(None)
        )
    )
    if unknown:
        raise Conflict("order has lines with unknown SKUs: edit or cancel it")
    set_status(
        session, order, OrderStatus.READY, f"approved by {actor}" + (f": {note}" if note else "")
    )
    return order


def edit_address(
    session: Session, order_id: int, address: Address, actor: str, rules: RiskRules
) -> Order:
    """Correct the delivery address of an order in the exception queue and check it again."""
    order = get_order(session, order_id, lock=True)
    if order.status not in (OrderStatus.EXCEPTION, OrderStatus.READY):
        raise Conflict(f"order {order_id} is {order.status}; its address can no longer change")
    order.ship_to = asdict(address)
    order.address_key = address.key()[:ADDRESS_KEY_LIMIT]
    remaining = [p for p in order.problems if not p.startswith("address:")]
    remaining += [f"address: {p}" for p in address_problems(address)]
    order.problems = remaining
    if not remaining and order.status == OrderStatus.EXCEPTION:
        set_status(session, order, OrderStatus.READY, f"address corrected by {actor}")
    return order


def cancel(session: Session, order_id: int, actor: str, reason: str) -> Order:
    """Cancel an order that is not yet in picking; its reservations are released."""
    order = get_order(session, order_id, lock=True)
    if order.status not in OPEN_FOR_CHANGES:
        raise Conflict(f"order {order_id} is {order.status} and can no longer be cancelled")
    release_reservations(session, order)
    set_status(session, order, OrderStatus.CANCELLED, f"{actor}: {reason}")
    return order


def release_reservations(session: Session, order: Order) -> None:
    """Give an order's open reservations back to available stock."""
    rows = session.execute(
        select(Reservation)
        .join(OrderLine, Reservation.order_line_id == OrderLine.id)
        .where(OrderLine.order_id == order.id, Reservation.status == "open")
    ).scalars()
    for reservation in rows:
        session.execute(
            update(Stock)
            .where(Stock.id == reservation.stock_id)
            .values(reserved=Stock.reserved - reservation.qty)
        )
        reservation.status = "released"
    for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)):
        line.qty_allocated = 0


def merge_candidates(session: Session, site_id: int, window: timedelta) -> list[list[Order]]:
    """Groups of open orders to the same customer and address placed within `window`."""
    orders = session.scalars(
        select(Order)
        .where(Order.site_id == site_id, Order.status == OrderStatus.READY.value)
        .order_by(Order.customer_email, Order.address_key, Order.ordered_at)
    ).all()
    groups: list[list[Order]] = []
    for order in orders:
        last = groups[-1] if groups else None
        if (
            last
            and order.customer_email
            and last[0].customer_email == order.customer_email
            and last[0].address_key == order.address_key
            and last[0].currency == order.currency
            and last[0].carrier == order.carrier
            and order.ordered_at - last[0].ordered_at <= window
        ):
            last.append(order)
        else:
            groups.append([order])
    return [g for g in groups if len(g) > 1]


def merge(session: Session, group: Sequence[Order]) -> Order:
    """Move the lines of later orders into the first one; the others become `merged`."""
    if len(group) < 2:
        raise InvalidInput("merging needs two orders or more")
    target = group[0]
    for other in group[1:]:
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id == other.id)):
            line.order_id = target.id
        target.total_amount += other.total_amount
        other.merged_into_id = target.id
        set_status(session, other, OrderStatus.MERGED, f"merged into order {target.id}")
    session.flush()
    return target

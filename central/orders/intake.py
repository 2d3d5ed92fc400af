"""Bulk intake: many orders in one transaction with a fixed number of queries."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.db.bulk import insert_rows
from central.db.tables import Order, OrderLine, Site, Sku
from central.orders.domain import OrderIn, OrderStatus, RiskRules, assess_risk, order_problems
from central.orders.fx import to_usd
from central.orders.service import (
    ADDRESS_KEY_LIMIT,
    STATUS_TOPIC,
    available_by_sku,
    status_payload,
)
from central.outbox.service import emit_rows

IN_CHUNK = 500  # values per IN (...) list: well under SQLite's and PostgreSQL's limits
ORDERS = cast(Table, Order.__table__)
LINES = cast(Table, OrderLine.__table__)


@dataclass(frozen=True)
class Intake:
    """One order of a bulk intake: its id, status, and whether this call created it."""

    order_id: int
    status: str
    created: bool


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _existing(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Order]:
    """Stored orders among `keys`, by channel and chunks of ids (the unique index serves both)."""
    by_channel: dict[str, list[str]] = defaultdict(list)
    for channel, channel_order_id in keys:
        by_channel[channel].append(channel_order_id)
    found: dict[tuple[str, str], Order] = {}
    for channel, ids in by_channel.items():
        for part in _chunks(ids):
            rows = session.scalars(
                select(Order).where(Order.channel == channel, Order.channel_order_id.in_(part))
            )
            found.update({(o.channel, o.channel_order_id): o for o in rows})
    return found


def _recent_times(
    session: Session, emails: list[str], since: datetime
) -> dict[str, list[datetime]]:
    """Order times per customer e-mail since `since`, sorted (one grouped query per chunk)."""
    times: dict[str, list[datetime]] = defaultdict(list)
    for part in _chunks(emails):
        rows = session.execute(
            select(Order.customer_email, Order.ordered_at).where(
                Order.customer_email.in_(part), Order.ordered_at >= since
            )
        ).tuples()
        for email, at in rows:
            times[email].append(at)
    for values in times.values():
        values.sort()
    return times


def _count_since(times: list[datetime], since: datetime) -> int:
    return len(times) - bisect.bisect_left(times, since)


def receive_orders(
    session: Session, site: Site, incoming: Sequence[OrderIn], rules: RiskRules
) -> list[Intake]:
    """`receive_order` for many orders, with the same outcome as taking them one by one.

    The caller has run `check_storable` on each order. A repeat of a stored order, or of an
    earlier one in `incoming`, returns that order.
    """
    if not incoming:
        return []
    keys = list(dict.fromkeys((o.channel, o.channel_order_id) for o in incoming))
    existing = _existing(session, keys)
    codes = sorted({line.sku for o in incoming for line in o.lines})
    skus: dict[str, int] = {}
    for part in _chunks(codes):
        skus.update(
            dict(session.execute(select(Sku.code, Sku.id).where(Sku.code.in_(part))).tuples().all())
        )
    available = available_by_sku(session, site.id, codes) if codes else {}
    window = timedelta(hours=rules.velocity_window_h)
    emails = sorted({o.customer_email.lower() for o in incoming if o.customer_email})
    earliest = min(o.ordered_at for o in incoming) - window
    recent = _recent_times(session, emails, earliest) if emails else {}

    now = utcnow()
    new: list[tuple[OrderIn, list[str], dict[str, Any]]] = []
    position: dict[tuple[str, str], int] = {}
    plan: list[tuple[str, Any]] = []  # ("old", Order) or ("new", index into `new`)
    for order in incoming:
        key = (order.channel, order.channel_order_id)
        if key in existing:
            plan.append(("old", existing[key]))
            continue
        if key in position:
            plan.append(("again", position[key]))
            continue
        email = order.customer_email.lower()
        count = _count_since(recent.get(email, []), order.ordered_at - window) if email else 0
        risk = assess_risk(order, to_usd(order.total), count, rules)
        problems = order_problems(order, set(skus), available, risk, rules)
        if email:  # later orders of this customer count this one, as if it were stored first
            bisect.insort(recent.setdefault(email, []), order.ordered_at)
        total = order.total
        row = {
            "channel": order.channel,
            "channel_order_id": order.channel_order_id,
            "site_id": site.id,
            "status": (OrderStatus.EXCEPTION if problems else OrderStatus.READY).value,
            "customer_name": order.customer_name,
            "customer_email": email,
            "ship_to": asdict(order.ship_to),
            "address_key": order.ship_to.key()[:ADDRESS_KEY_LIMIT],
            "currency": total.currency,
            "total_amount": total.amount,
            "payment_status": order.payment_status.value,
            "carrier": order.carrier,
            "risk_score": risk.score,
            "problems": problems,
            "processed_automatically": not problems,
            "ordered_at": order.ordered_at,
            "created_at": now,
            "updated_at": now,
        }
        position[key] = len(new)
        plan.append(("new", len(new)))
        new.append((order, problems, row))
    ids = _insert(session, new, skus, now)
    result = []
    for kind, ref in plan:
        if kind == "old":
            result.append(Intake(ref.id, ref.status, created=False))
        else:
            status = new[ref][2]["status"]
            result.append(Intake(ids[ref], status, created=kind == "new"))
    return result


def _reserve_ids(session: Session, count: int) -> list[int]:
    """`count` new order ids from PostgreSQL's sequence, ascending (empty on other databases).

    A multi-row INSERT ... RETURNING costs psycopg more client time than the insert itself.
    """
    if session.get_bind().dialect.name != "postgresql":
        return []
    sequence = session.scalar(text("SELECT pg_get_serial_sequence('orders', 'id')"))
    if sequence is None:
        return []
    rows = session.scalars(
        text("SELECT nextval(:seq) FROM generate_series(1, :n)"), {"seq": sequence, "n": count}
    )
    return sorted(int(i) for i in rows)


def _insert(
    session: Session,
    new: list[tuple[OrderIn, list[str], dict[str, Any]]],
    skus: dict[str, int],
    now: datetime,
) -> list[int]:
    """Insert orders (RETURNING their ids), their lines and their status events."""
    if not new:
        return []
    ids = _reserve_ids(session, len(new))
    if ids:  # PostgreSQL: COPY with ids taken from the sequence up front
        insert_rows(
            session, ORDERS, [{**row, "id": i} for i, (_, _, row) in zip(ids, new, strict=True)]
        )
    else:
        ids = list(
            session.scalars(
                insert(ORDERS).returning(ORDERS.c.id, sort_by_parameter_order=True),
                [row for _, _, row in new],
            )
        )
    lines = [
        {
            "order_id": order_id,
            "sku_id": skus.get(line.sku),
            "sku_code": line.sku,
            "qty": line.qty,
            "unit_price": line.unit_price.amount,
            "qty_allocated": 0,
            "qty_picked": 0,
            "qty_short": 0,
        }
        for order_id, (order, _, _) in zip(ids, new, strict=True)
        for line in order.lines
    ]
    insert_rows(session, LINES, lines)
    events = [
        {
            "topic": STATUS_TOPIC,
            "key": str(order_id),
            "payload": status_payload(
                order_id,
                order.channel,
                order.channel_order_id,
                "new",
                OrderStatus(row["status"]),
                "; ".join(problems) if problems else None,
                now,
            ),
            "created_at": now,
        }
        for order_id, (order, problems, row) in zip(ids, new, strict=True)
    ]
    emit_rows(session, events)
    return ids

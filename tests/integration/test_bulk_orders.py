"""Bulk intake and allocation store the same orders, lines, reservations, events as one by one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from benchmarks import orders_setup as setup
from central.db.tables import Order, OrderLine, OutboxEvent, Reservation
from central.deps import Container
from central.inventory import service as inventory
from central.orders import intake, service
from central.orders.domain import RiskRules
from central.outbound import allocate_bulk, allocation

pytestmark = pytest.mark.integration
RULES = RiskRules()


def _snapshot(container: Container) -> dict[str, Any]:
    with container.sessions() as s:
        orders = [
            (o.channel_order_id, o.status, o.risk_score, o.problems, str(o.total_amount))
            for o in s.scalars(select(Order).order_by(Order.channel_order_id))
        ]
        lines = sorted(
            s.execute(
                select(
                    Order.channel_order_id,
                    OrderLine.sku_code,
                    OrderLine.qty,
                    OrderLine.qty_allocated,
                ).join(Order, OrderLine.order_id == Order.id)
            )
            .tuples()
            .all()
        )
        reservations = sorted(
            s.execute(
                select(Order.channel_order_id, Reservation.stock_id, Reservation.qty)
                .join(OrderLine, Reservation.order_line_id == OrderLine.id)
                .join(Order, OrderLine.order_id == Order.id)
            )
            .tuples()
            .all()
        )
        events = sorted(
            (e.payload["channel_order_id"], e.payload["from"], e.payload["to"], e.payload["detail"])
            for e in s.scalars(select(OutboxEvent))
        )
    return {"orders": orders, "lines": lines, "reservations": reservations, "events": events}


def _run(url: str, bulk: bool) -> dict[str, Any]:
    container = setup.build(url, stock_factor=0.03)
    items = setup.orders(300)
    items += items[:5]  # repeats
    with container.sessions.begin() as s:
        site = inventory.get_site(s, setup.SITE)
        if bulk:
            intake.receive_orders(s, site, items, RULES)
        else:
            for item in items:
                service.receive_order(s, site, item, RULES)
    for _round in range(2):  # the second round finds the backorders and no new stock
        with container.sessions.begin() as s:
            site = inventory.get_site(s, setup.SITE)
            pending = list(
                s.scalars(
                    select(Order)
                    .where(Order.status.in_(["ready", "backordered"]))
                    .order_by(Order.ordered_at, Order.id)
                )
            )
            if bulk:
                allocate_bulk.allocate_orders(s, site.id, pending)
            else:
                for order in pending:
                    allocation.allocate_order(s, order)
    snapshot = _snapshot(container)
    container.sessions.kw["bind"].dispose()
    return snapshot


def test_bulk_paths_match_one_by_one(database_url: str) -> None:
    bulk = _run(database_url, bulk=True)
    with setup.database("sqlite" if database_url.startswith("sqlite") else "postgresql") as other:
        one = _run(other, bulk=False)
    assert {s for _, s, *_ in one["orders"]} >= {"allocated", "backordered", "exception"}
    for key in ("orders", "lines", "reservations", "events"):
        assert bulk[key] == one[key], key

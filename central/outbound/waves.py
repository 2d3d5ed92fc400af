"""Waves: release allocated orders, batch them under cart capacity, give each batch its path."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.common.errors import Conflict
from central.db.bulk import insert_rows
from central.db.tables import Order, OrderLine, PickBatch, PickLine, Reservation, Sku, Stock, Wave
from central.orders import service as orders
from central.orders.domain import OrderStatus
from central.outbound.allocate_bulk import allocate_orders
from central.outbound.layout import SiteLayout, site_layout
from central.outbound.wave_plan import (
    EXACT_BATCHING_MAX,
    IMPROVE_MAX,
    WaveCandidate,
    path,
    plan_batches,
    select_wave,
    tour_length,
)
from optimization import batching

PACK_STATION = "PACK-01"


@dataclass(frozen=True)
class WavePolicy:
    """How a wave is cut and batched."""

    carrier: str | None = None
    cutoff: datetime | None = None
    max_orders: int = 200
    cart: batching.Capacity = field(default_factory=lambda: batching.Capacity(items=40, totes=8))
    method: str = "exact"
    merge_window: timedelta = timedelta(hours=2)


def prepare_orders(session: Session, site_id: int, merge_window: timedelta) -> int:
    """Merge same-customer orders, then allocate ready and backordered ones; returns allocated."""
    for group in orders.merge_candidates(session, site_id, merge_window):
        orders.merge(session, group)
    allocated = 0
    pending = session.scalars(
        select(Order)
        .where(
            Order.site_id == site_id,
            Order.status.in_([OrderStatus.READY.value, OrderStatus.BACKORDERED.value]),
        )
        .order_by(Order.ordered_at, Order.id)
        .with_for_update()
    ).all()
    for result in allocate_orders(session, site_id, list(pending)):
        allocated += result.status is OrderStatus.ALLOCATED
    return allocated


def release_wave(session: Session, site_id: int, policy: WavePolicy, actor: str) -> Wave:
    """Release allocated orders (by carrier and cut-off) into a wave of optimised pick batches."""
    query = select(Order).where(
        Order.site_id == site_id, Order.status == OrderStatus.ALLOCATED.value
    )
    if policy.carrier:
        query = query.where(Order.carrier == policy.carrier)
    if policy.cutoff:
        query = query.where(Order.ordered_at <= policy.cutoff)
    locked = session.scalars(
        query.order_by(Order.ordered_at, Order.id).limit(policy.max_orders).with_for_update()
    ).all()
    by_id = {o.id: o for o in locked}
    chosen = [  # the query narrows and locks; the shared rule decides (as in the simulation)
        by_id[i]
        for i in select_wave(
            [WaveCandidate(o.id, o.ordered_at, o.carrier) for o in locked],
            policy.carrier,
            policy.cutoff,
            policy.max_orders,
        )
    ]
    if not chosen:
        raise Conflict("no allocated order matches the wave's carrier and cut-off")
    site = site_layout(session, site_id, PACK_STATION)
    now = utcnow()
    wave = Wave(
        site_id=site_id,
        code=f"W{now:%Y%m%d%H%M%S%f}",
        carrier=policy.carrier,
        cutoff=policy.cutoff,
        status="released",
        created_at=now,
        created_by=actor,
    )
    session.add(wave)
    session.flush()
    picks = _picks_by_order(session, [o.id for o in chosen])
    opt_orders = [
        batching.Order(
            picks=tuple(site.points[p.location_id] for p in picks[o.id]),
            items=float(sum(p.qty for p in picks[o.id])),
            weight=float(sum(p.weight for p in picks[o.id])),
            totes=1,
        )
        for o in chosen
    ]
    batches = plan_batches(
        opt_orders,
        policy.cart,
        tour_length(site.layout, site.depot, policy.method),
        site.layout,
        site.depot,
        exact_max=EXACT_BATCHING_MAX,
        improve_max=IMPROVE_MAX,
    )
    _create_batches(session, wave, [[chosen[i] for i in b] for b in batches], picks, site, policy)
    orders.set_statuses(
        session,
        [(order, OrderStatus.RELEASED, f"wave {wave.code}") for order in chosen],
        wave_id=wave.id,
    )
    return wave


def release_waves(session: Session, site_id: int, policy: WavePolicy, actor: str) -> list[Wave]:
    """Release waves of up to `policy.max_orders` orders until no allocated order matches."""
    released: list[Wave] = []
    while True:
        try:
            released.append(release_wave(session, site_id, policy, actor))
        except Conflict:
            if released:
                return released
            raise


@dataclass(frozen=True)
class _Pick:
    reservation_id: int
    order_line_id: int
    location_id: int
    sku_id: int
    lot_id: int
    qty: int
    weight: float


def _picks_by_order(session: Session, order_ids: list[int]) -> dict[int, list[_Pick]]:
    rows = session.execute(
        select(
            OrderLine.order_id,
            Reservation.id,
            OrderLine.id,
            Stock.location_id,
            Stock.sku_id,
            Stock.lot_id,
            Reservation.qty,
            Sku.unit_weight_kg,
        )
        .join(Reservation, Reservation.order_line_id == OrderLine.id)
        .join(Stock, Reservation.stock_id == Stock.id)
        .join(Sku, Stock.sku_id == Sku.id)
        .where(OrderLine.order_id.in_(order_ids), Reservation.status == "open")
        .order_by(Reservation.id)
    ).tuples()
    result: dict[int, list[_Pick]] = defaultdict(list)
    for order_id, res_id, line_id, loc, sku, lot, qty, unit_kg in rows:
        result[order_id].append(_Pick(res_id, line_id, loc, sku, lot, qty, float(unit_kg) * qty))
    return result


def _create_batches(
    session: Session,
    wave: Wave,
    members: list[list[Order]],
    picks: dict[int, list[_Pick]],
    site: SiteLayout,
    policy: WavePolicy,
) -> None:
    """One exact path per batch, then the batches and their lines in two bulk inserts."""
    flats = [[(order, pick) for order in group for pick in picks[order.id]] for group in members]
    routes = [
        path(site.layout, site.depot, [site.points[p.location_id] for _, p in flat], policy.method)
        for flat in flats
    ]
    table = cast(Table, PickBatch.__table__)
    batch_ids = list(
        session.scalars(
            insert(table).returning(table.c.id, sort_by_parameter_order=True),
            [
                {
                    "wave_id": wave.id,
                    "status": "open",
                    "path_length": route.length,
                    "path_method": route.method,
                }
                for route in routes
            ],
        )
    )
    rows = []
    for number, (batch_id, group, flat, route) in enumerate(
        zip(batch_ids, members, flats, routes, strict=True), start=1
    ):
        totes = {order.id: f"T{wave.id}-{number}-{k}" for k, order in enumerate(group, start=1)}
        for seq, index in enumerate(route.order, start=1):
            order, pick = flat[index]
            rows.append(
                {
                    "batch_id": batch_id,
                    "seq": seq,
                    "reservation_id": pick.reservation_id,
                    "order_line_id": pick.order_line_id,
                    "location_id": pick.location_id,
                    "sku_id": pick.sku_id,
                    "lot_id": pick.lot_id,
                    "qty": pick.qty,
                    "qty_picked": 0,
                    "tote": totes[order.id],
                    "status": "open",
                }
            )
    insert_rows(session, cast(Table, PickLine.__table__), rows)

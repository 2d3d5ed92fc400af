"""Waves: release allocated orders, batch them under cart capacity, give each batch its path."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.common.errors import Conflict
from central.db.tables import Order, OrderLine, PickBatch, PickLine, Reservation, Sku, Stock, Wave
from central.orders import service as orders
from central.orders.domain import OrderStatus
from central.outbound.allocation import allocate_order
from central.outbound.layout import SiteLayout, site_layout
from optimization import batching
from optimization.layout import Point
from optimization.routing.problem import PickingProblem
from optimization.routing.solve import pick_path

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


def _tour(site: SiteLayout, method: str) -> batching.TourLength:
    def length(points: Sequence[Point]) -> float:
        if not points:
            return 0.0
        return pick_path(PickingProblem(site.layout, site.depot, tuple(points)), method).length

    return length


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
    for order in pending:
        if allocate_order(session, order).status is OrderStatus.ALLOCATED:
            allocated += 1
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
    chosen = session.scalars(
        query.order_by(Order.ordered_at, Order.id).limit(policy.max_orders).with_for_update()
    ).all()
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
    batches = batching.seed_batches(
        opt_orders, policy.cart, _tour(site, policy.method), improve=len(chosen) <= 60
    )
    for number, batch in enumerate(batches, start=1):
        _create_batch(session, wave, number, [chosen[i] for i in batch], picks, site, policy.method)
    for order in chosen:
        order.wave_id = wave.id
        orders.set_status(session, order, OrderStatus.RELEASED, f"wave {wave.code}")
    return wave


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


def _create_batch(
    session: Session,
    wave: Wave,
    number: int,
    members: list[Order],
    picks: dict[int, list[_Pick]],
    site: SiteLayout,
    method: str,
) -> PickBatch:
    flat = [(order, pick) for order in members for pick in picks[order.id]]
    problem = PickingProblem(
        site.layout, site.depot, tuple(site.points[p.location_id] for _, p in flat)
    )
    route = pick_path(problem, method)
    batch = PickBatch(
        wave_id=wave.id, status="open", path_length=route.length, path_method=route.method
    )
    session.add(batch)
    session.flush()
    totes = {order.id: f"T{wave.id}-{number}-{k}" for k, order in enumerate(members, start=1)}
    for seq, index in enumerate(route.order, start=1):
        order, pick = flat[index]
        session.add(
            PickLine(
                batch_id=batch.id,
                seq=seq,
                reservation_id=pick.reservation_id,
                order_line_id=pick.order_line_id,
                location_id=pick.location_id,
                sku_id=pick.sku_id,
                lot_id=pick.lot_id,
                qty=pick.qty,
                tote=totes[order.id],
                status="open",
            )
        )
    session.flush()
    return batch

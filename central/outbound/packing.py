"""Packing and shipping: weigh a tote's contents, close the parcel, ship it to the customer."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.common.clock import utcnow
from central.common.errors import Conflict, NotFound
from central.db.tables import (
    Device,
    Location,
    Lot,
    Order,
    OrderLine,
    Parcel,
    PickLine,
    Sku,
    Stock,
    StockMove,
    Weighing,
)
from central.inbound.domain import WeightTolerance
from central.inventory import service as inventory
from central.inventory.domain import Move, MoveReason, VirtualLocation
from central.orders import service as orders
from central.orders.domain import OrderStatus

PACK_STATION = "PACK-01"
PACKAGING_KG = Decimal("0.150")
SCALE_READING_MAX_AGE = timedelta(minutes=5)


class WeightMismatch(Conflict):
    """The parcel does not weigh what its contents should: something is missing or extra."""


@dataclass(frozen=True)
class ToteItem:
    """One SKU lot in a tote."""

    sku: str
    name: str
    lot: str
    qty: int
    unit_weight_kg: Decimal


@dataclass(frozen=True)
class ToteContents:
    """What a tote holds for which order, and what the parcel should weigh."""

    tote: str
    order: Order
    items: list[ToteItem]

    @property
    def expected_kg(self) -> Decimal:
        """Contents plus packaging."""
        return PACKAGING_KG + sum((i.unit_weight_kg * i.qty for i in self.items), Decimal(0))


def tote_contents(session: Session, site_id: int, tote: str) -> ToteContents:
    """The order and items of a tote (from the stock in the tote's location)."""
    line = session.scalar(select(PickLine).where(PickLine.tote == tote).limit(1))
    location = session.scalar(
        select(Location).where(Location.site_id == site_id, Location.code == tote)
    )
    if line is None or location is None:
        raise NotFound(f"tote {tote} holds nothing picked")
    order_line = session.get(OrderLine, line.order_line_id)
    assert order_line is not None
    order = session.get(Order, order_line.order_id)
    assert order is not None
    rows = session.execute(
        select(Sku.code, Sku.name, Lot.code, Stock.qty, Sku.unit_weight_kg)
        .join(Sku, Stock.sku_id == Sku.id)
        .join(Lot, Stock.lot_id == Lot.id)
        .where(Stock.location_id == location.id, Stock.qty > 0)
        .order_by(Sku.code)
    ).tuples()
    return ToteContents(tote, order, [ToteItem(*row) for row in rows])


def latest_pack_weight(session: Session, site_id: int) -> Decimal | None:
    """The newest stable weight of a scale at the pack station, if recent."""
    station = session.scalar(
        select(Location.id).where(Location.site_id == site_id, Location.code == PACK_STATION)
    )
    scales = select(Device.device_id).where(Device.location_id == station, Device.kind == "scale")
    weighing = session.scalar(
        select(Weighing).where(Weighing.scale_id.in_(scales)).order_by(Weighing.id.desc()).limit(1)
    )
    if weighing is None or weighing.settled_at < utcnow() - SCALE_READING_MAX_AGE:
        return None
    return weighing.kg


def close_parcel(
    session: Session,
    site_id: int,
    tote: str,
    measured_kg: Decimal | None,
    tolerance: WeightTolerance,
    actor: str,
) -> Parcel:
    """Check the weight, move the tote's stock to the pack station and close the parcel."""
    contents = tote_contents(session, site_id, tote)
    order = contents.order
    if order.status != OrderStatus.PICKED:
        raise Conflict(f"order {order.id} is {order.status}: pick it completely before packing")
    if measured_kg is None:
        measured_kg = latest_pack_weight(session, site_id)
        if measured_kg is None:
            raise Conflict(
                "no recent weight from the pack station's scale: put the parcel on the scale"
            )
    expected = contents.expected_kg
    allowed = tolerance.allowed(expected)
    if abs(measured_kg - expected) > allowed:
        raise WeightMismatch(
            f"parcel weighs {measured_kg} kg, expected {expected} kg"
            f" (± {allowed.quantize(Decimal('0.001'))}):"
            " check the tote for missing or extra items"
        )
    tote_location = inventory.get_location(session, site_id, tote)
    station = inventory.get_location(session, site_id, PACK_STATION)
    stock_rows = session.scalars(
        select(Stock).where(Stock.location_id == tote_location.id, Stock.qty > 0)
    ).all()
    moves = [
        Move(
            s.sku_id,
            s.lot_id,
            s.qty,
            tote_location.id,
            station.id,
            MoveReason.PACK,
            "order",
            str(order.id),
        )
        for s in stock_rows
    ]
    inventory.post_moves(session, moves, actor)
    parcel = Parcel(
        order_id=order.id,
        tote=tote,
        expected_kg=expected,
        measured_kg=measured_kg,
        status="closed",
        packed_by=actor,
        closed_at=utcnow(),
    )
    session.add(parcel)
    session.flush()
    orders.set_status(session, order, OrderStatus.PACKED, f"parcel {parcel.id}")
    return parcel


def ship(session: Session, site_id: int, parcel_id: int, actor: str) -> Parcel:
    """Hand the parcel to the carrier: its stock leaves for the customer."""
    parcel = session.get(Parcel, parcel_id, with_for_update=True)
    if parcel is None:
        raise NotFound(f"no parcel {parcel_id}")
    if parcel.status != "closed":
        raise Conflict(f"parcel {parcel_id} is {parcel.status}")
    order = session.get(Order, parcel.order_id)
    assert order is not None
    station = inventory.get_location(session, site_id, PACK_STATION)
    customer = inventory.virtual_location(session, site_id, VirtualLocation.CUSTOMER)
    picked: dict[tuple[int, int], int] = defaultdict(int)
    for move in session.scalars(
        select(StockMove).where(
            StockMove.ref_type == "order",
            StockMove.ref_id == str(order.id),
            StockMove.reason == MoveReason.PACK.value,
        )
    ):
        picked[(move.sku_id, move.lot_id)] += move.qty
    moves = [
        Move(sku, lot, qty, station.id, customer.id, MoveReason.SHIP, "order", str(order.id))
        for (sku, lot), qty in picked.items()
    ]
    inventory.post_moves(session, moves, actor)
    parcel.status = "shipped"
    parcel.shipped_at = utcnow()
    orders.set_status(session, order, OrderStatus.SHIPPED, f"parcel {parcel.id}")
    return parcel

"""Outbound endpoints: allocation, waves, picking and packing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.auth.domain import OPERATE, READ, SUPERVISE, Principal
from central.common.errors import NotFound
from central.db.tables import Location, Lot, Order, Parcel, PickBatch, PickLine, Sku, Wave
from central.deps import ContainerDep, SessionDep, require
from central.inventory import service as inventory
from central.orders.domain import OrderStatus
from central.outbound import packing, picking, waves
from central.outbound.schemas import (
    AllocateIn,
    AllocatePublic,
    BatchPublic,
    CloseIn,
    ConfirmIn,
    ParcelPublic,
    PickLinePublic,
    ShortIn,
    ToteItemPublic,
    TotePublic,
    WaveCreate,
    WavePublic,
)
from optimization.batching import Capacity

router = APIRouter(prefix="/api/v1", tags=["outbound"])
Reader = Annotated[Principal, Depends(require(READ))]
Operator = Annotated[Principal, Depends(require(OPERATE))]
Supervisor = Annotated[Principal, Depends(require(SUPERVISE))]


def batch_public(session: Session, batch: PickBatch) -> BatchPublic:
    """A batch with its lines in walking order."""
    wave = session.get(Wave, batch.wave_id)
    rows = session.execute(
        select(PickLine, Location.code, Sku.code, Sku.name, Sku.gtin, Lot.code)
        .join(Location, PickLine.location_id == Location.id)
        .join(Sku, PickLine.sku_id == Sku.id)
        .join(Lot, PickLine.lot_id == Lot.id)
        .where(PickLine.batch_id == batch.id)
        .order_by(PickLine.seq)
    ).tuples()
    lines = [
        PickLinePublic(
            id=ln.id,
            seq=ln.seq,
            location=loc,
            sku=sku,
            sku_name=name,
            gtin=gtin,
            lot=lot,
            qty=ln.qty,
            qty_picked=ln.qty_picked,
            tote=ln.tote,
            status=ln.picker if ln.picker and ln.status == "open" else ln.status,  # arm:<id>
        )
        for ln, loc, sku, name, gtin, lot in rows
    ]
    return BatchPublic(
        id=batch.id,
        wave=wave.code if wave else "",
        status=batch.status,
        assignee=batch.assignee,
        path_length=batch.path_length,
        path_method=batch.path_method,
        lines=lines,
    )


@router.post("/outbound/allocate", response_model=AllocatePublic)
def allocate(body: AllocateIn, container: ContainerDep, _: Supervisor) -> AllocatePublic:
    """Merge same-customer orders, then reserve stock for ready and backordered ones (FEFO)."""
    with container.sessions.begin() as session:
        site = inventory.get_site(session, body.site)
        allocated = waves.prepare_orders(session, site.id, waves.WavePolicy().merge_window)
        backordered = (
            session.scalar(
                select(func.count(Order.id)).where(
                    Order.site_id == site.id, Order.status == OrderStatus.BACKORDERED.value
                )
            )
            or 0
        )
    return AllocatePublic(allocated=allocated, backordered=backordered)


@router.post("/outbound/waves", response_model=WavePublic, status_code=201)
def release_wave(body: WaveCreate, session: SessionDep, principal: Supervisor) -> WavePublic:
    """Release allocated orders into a wave: batches under cart capacity, each with a path."""
    site = inventory.get_site(session, body.site)
    policy = waves.WavePolicy(
        carrier=body.carrier,
        cutoff=body.cutoff,
        max_orders=body.max_orders,
        cart=Capacity(items=body.cart_items, totes=body.cart_totes),
        method=body.method,
    )
    wave = waves.release_wave(session, site.id, policy, principal.name)
    return wave_public(session, wave)


def wave_public(session: Session, wave: Wave) -> WavePublic:
    """A wave with its batches."""
    batches = session.scalars(
        select(PickBatch).where(PickBatch.wave_id == wave.id).order_by(PickBatch.id)
    )
    count = session.scalar(select(func.count(Order.id)).where(Order.wave_id == wave.id)) or 0
    return WavePublic(
        id=wave.id,
        code=wave.code,
        carrier=wave.carrier,
        orders=count,
        batches=[batch_public(session, b) for b in batches],
    )


@router.get("/outbound/waves/{wave_id}", response_model=WavePublic)
def get_wave(wave_id: int, session: SessionDep, _: Reader) -> WavePublic:
    """One wave with its batches and lines."""
    wave = session.get(Wave, wave_id)
    if wave is None:
        raise NotFound(f"no wave {wave_id}")
    return wave_public(session, wave)


@router.get("/picking/next", response_model=BatchPublic | None)
def my_batch(session: SessionDep, principal: Operator) -> BatchPublic | None:
    """The caller's pick batch (claims the oldest open one when they have none)."""
    batch = picking.next_batch_for(session, principal.name)
    return batch_public(session, batch) if batch else None


@router.post("/picking/lines/{line_id}/confirm", response_model=PickLinePublic)
def confirm(
    line_id: int, body: ConfirmIn, session: SessionDep, principal: Operator
) -> PickLinePublic:
    """Confirm a pick with the scanned location and item."""
    line = picking.confirm_pick(
        session, line_id, body.location, body.item, body.qty, principal.name
    )
    return PickLinePublic(
        id=line.id,
        seq=line.seq,
        location=line.location,
        sku=line.sku,
        sku_name=line.sku_name,
        gtin=line.gtin,
        lot=line.lot,
        qty=line.qty,
        qty_picked=line.qty_picked,
        tote=line.tote,
        status=line.status,
    )


@router.post("/picking/lines/{line_id}/short", response_model=PickLinePublic)
def short(line_id: int, body: ShortIn, session: SessionDep, principal: Operator) -> PickLinePublic:
    """Short pick: what was found is picked, the rest is backordered and the location recounted."""
    return _line_public(
        session, picking.short_pick(session, line_id, body.found, body.reason, principal.name)
    )


@router.post("/picking/lines/{line_id}/skip", response_model=PickLinePublic)
def skip(line_id: int, session: SessionDep, principal: Operator) -> PickLinePublic:
    """Move a line to the end of its batch."""
    return _line_public(session, picking.skip(session, line_id, principal.name))


def _line_public(session: Session, line: PickLine) -> PickLinePublic:
    """One pick line as `batch_public` shows it (without rendering its whole batch)."""
    location, sku, name, gtin, lot = session.execute(
        select(Location.code, Sku.code, Sku.name, Sku.gtin, Lot.code)
        .select_from(Location)
        .join(Sku, Sku.id == line.sku_id)
        .join(Lot, Lot.id == line.lot_id)
        .where(Location.id == line.location_id)
    ).one()
    return PickLinePublic(
        id=line.id,
        seq=line.seq,
        location=location,
        sku=sku,
        sku_name=name,
        gtin=gtin,
        lot=lot,
        qty=line.qty,
        qty_picked=line.qty_picked,
        tote=line.tote,
        status=line.status,
    )


@router.get("/packing/totes/{tote}", response_model=TotePublic)
def tote(tote: str, session: SessionDep, _: Operator, site: str = "wh1") -> TotePublic:
    """What a tote holds, what the parcel should weigh, and what the pack scale reads now."""
    site_row = inventory.get_site(session, site)
    contents = packing.tote_contents(session, site_row.id, tote)
    return TotePublic(
        tote=tote,
        order_id=contents.order.id,
        order_status=contents.order.status,
        items=[
            ToteItemPublic(sku=i.sku, name=i.name, lot=i.lot, qty=i.qty) for i in contents.items
        ],
        expected_kg=contents.expected_kg,
        scale_kg=packing.latest_pack_weight(session, site_row.id),
    )


@router.post("/packing/totes/{tote}/close", response_model=ParcelPublic, status_code=201)
def close(
    tote: str, body: CloseIn, session: SessionDep, container: ContainerDep, principal: Operator
) -> ParcelPublic:
    """Close the parcel if its weight matches (taken from the pack scale unless given)."""
    site = inventory.get_site(session, body.site)
    parcel = packing.close_parcel(
        session, site.id, tote, body.measured_kg, container.pack_tolerance, principal.name
    )
    return _parcel_public(parcel)


@router.post("/parcels/{parcel_id}/ship", response_model=ParcelPublic)
def ship(
    parcel_id: int, session: SessionDep, principal: Operator, site: str = "wh1"
) -> ParcelPublic:
    """Hand a closed parcel to the carrier."""
    site_row = inventory.get_site(session, site)
    return _parcel_public(packing.ship(session, site_row.id, parcel_id, principal.name))


def _parcel_public(parcel: Parcel) -> ParcelPublic:
    return ParcelPublic(
        id=parcel.id,
        order_id=parcel.order_id,
        tote=parcel.tote,
        expected_kg=parcel.expected_kg,
        measured_kg=parcel.measured_kg,
        status=parcel.status,
    )

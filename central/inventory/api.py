"""Inventory endpoints: master data, stock on hand, the stock ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select
from sqlalchemy.orm import aliased

from central.auth.domain import ADMINISTER, READ, SUPERVISE, Principal
from central.common.errors import InvalidInput
from central.db.tables import Location, Lot, Sku, StockMove
from central.deps import SessionDep, require
from central.inventory import service
from central.inventory.domain import Move, MoveReason
from central.inventory.schemas import (
    LocationCreate,
    LocationPublic,
    MoveCreate,
    MovePublic,
    SiteCreate,
    SitePublic,
    SkuCreate,
    SkuPublic,
    StockPublic,
)

router = APIRouter(prefix="/api/v1", tags=["inventory"])
Reader = Annotated[Principal, Depends(require(READ))]
Supervisor = Annotated[Principal, Depends(require(SUPERVISE))]
Admin = Annotated[Principal, Depends(require(ADMINISTER))]


@router.post("/sites", response_model=SitePublic, status_code=201)
def create_site(body: SiteCreate, session: SessionDep, _: Admin) -> SitePublic:
    """Create a site with its virtual locations."""
    site = service.create_site(session, body.code, body.name, body.timezone)
    return SitePublic(code=site.code, name=site.name, timezone=site.timezone)


@router.post("/sites/{site}/locations", response_model=LocationPublic, status_code=201)
def create_location(
    site: str, body: LocationCreate, session: SessionDep, _: Admin
) -> LocationPublic:
    """Create a physical location in a site."""
    site_row = service.get_site(session, site)
    zone = None
    if body.zone:
        zone = service.get_zone(session, site_row, body.zone)
    address = body.model_dump(include={"aisle", "bay", "level", "slot", "capacity"})
    location = service.create_location(
        session, site_row, body.code, body.kind, zone, body.x, body.y, **address
    )
    return LocationPublic(code=location.code, kind=location.kind, x=location.x, y=location.y)


@router.get("/sites/{site}/locations", response_model=list[LocationPublic])
def list_locations(site: str, session: SessionDep, _: Reader) -> list[LocationPublic]:
    """Every location of a site, virtual ones included."""
    site_row = service.get_site(session, site)
    rows = session.scalars(
        select(Location).where(Location.site_id == site_row.id).order_by(Location.code)
    )
    return [LocationPublic(code=r.code, kind=r.kind, x=r.x, y=r.y) for r in rows]


@router.post("/skus", response_model=SkuPublic, status_code=201)
def create_sku(body: SkuCreate, session: SessionDep, _: Supervisor) -> SkuPublic:
    """Create a SKU."""
    attributes = body.model_dump(exclude={"code", "name", "unit_weight_kg", "gtin"})
    gtin = service.checked_gtin(body.gtin) if body.gtin else None
    sku = service.create_sku(session, body.code, body.name, body.unit_weight_kg, gtin, **attributes)
    return SkuPublic(code=sku.code, name=sku.name, gtin=sku.gtin, unit_weight_kg=sku.unit_weight_kg)


@router.get("/skus", response_model=list[SkuPublic])
def list_skus(session: SessionDep, _: Reader) -> list[SkuPublic]:
    """Every SKU."""
    rows = session.scalars(select(Sku).order_by(Sku.code))
    return [
        SkuPublic(code=r.code, name=r.name, gtin=r.gtin, unit_weight_kg=r.unit_weight_kg)
        for r in rows
    ]


@router.get("/stock", response_model=list[StockPublic])
def list_stock(
    session: SessionDep,
    _: Reader,
    site: str | None = None,
    location: str | None = None,
    sku: str | None = None,
    include_virtual: bool = False,
) -> list[StockPublic]:
    """Stock on hand per location, SKU and lot (virtual locations on request)."""
    site_id = service.get_site(session, site).id if site else None
    rows = session.execute(service.stock_query(site_id, location, sku, include_virtual)).tuples()
    return [
        StockPublic(location=loc.code, sku=s.code, lot=lot.code, expiry=lot.expiry, qty=stock.qty)
        for stock, loc, s, lot in rows
    ]


@router.get("/stock/moves", response_model=list[MovePublic])
def list_moves(
    session: SessionDep,
    _: Reader,
    sku: str | None = None,
    ref_id: str | None = None,
    reason: MoveReason | None = None,
    after_id: Annotated[int, Query(ge=0, description="only moves with a larger id (paging)")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[MovePublic]:
    """The stock ledger, oldest first, paged by id."""
    source, target = aliased(Location), aliased(Location)
    query = (
        select(StockMove, Sku.code, Lot.code, source.code, target.code)
        .join(Sku, StockMove.sku_id == Sku.id)
        .join(Lot, StockMove.lot_id == Lot.id)
        .join(source, StockMove.from_location_id == source.id)
        .join(target, StockMove.to_location_id == target.id)
        .where(StockMove.id > after_id)
        .order_by(StockMove.id)
        .limit(limit)
    )
    if sku:
        query = query.where(Sku.code == sku)
    if ref_id:
        query = query.where(StockMove.ref_id == ref_id)
    if reason:
        query = query.where(StockMove.reason == reason.value)
    return [
        MovePublic(
            id=m.id,
            ts=m.ts,
            sku=sku_code,
            lot=lot_code,
            qty=m.qty,
            from_location=src,
            to_location=dst,
            reason=m.reason,
            ref_type=m.ref_type,
            ref_id=m.ref_id,
            actor=m.actor,
        )
        for m, sku_code, lot_code, src, dst in session.execute(query).tuples()
    ]


@router.post("/stock/moves", response_model=list[MovePublic], status_code=201)
def post_move(body: MoveCreate, session: SessionDep, principal: Supervisor) -> list[MovePublic]:
    """Move stock by hand (transfer, putaway, adjustment); physical stock never goes negative."""
    if body.reason in (MoveReason.RECEIPT, MoveReason.PICK, MoveReason.SHIP):
        raise InvalidInput(f"{body.reason} moves are made by their own flows, not by hand")
    site = service.get_site(session, body.site)
    sku = service.get_sku(session, body.sku)
    lot = service.lot_for(session, sku.id, body.lot)
    source = service.get_location(session, site.id, body.from_location)
    target = service.get_location(session, site.id, body.to_location)
    move = Move(
        sku.id, lot.id, body.qty, source.id, target.id, body.reason, "manual", None, body.note
    )
    rows = service.post_moves(session, [move], principal.name)
    return [
        MovePublic(
            id=r.id,
            ts=r.ts,
            sku=sku.code,
            lot=lot.code,
            qty=r.qty,
            from_location=source.code,
            to_location=target.code,
            reason=r.reason,
            ref_type=r.ref_type,
            ref_id=r.ref_id,
            actor=r.actor,
        )
        for r in rows
    ]

"""Putaway endpoints: stock waiting at the docks, and moving it into storage (operators)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from central.auth.domain import OPERATE, READ, Principal
from central.db.tables import Location, Lot, Sku
from central.deps import SessionDep, require
from central.inbound import putaway
from central.inventory import service as inventory

router = APIRouter(prefix="/api/v1/inbound", tags=["inbound"])
Reader = Annotated[Principal, Depends(require(READ))]
Operator = Annotated[Principal, Depends(require(OPERATE))]


class PutawayIn(BaseModel):
    site: str = "wh1"
    item: str = Field(min_length=1, max_length=64, description="SKU code, GTIN or SGTIN-96 EPC")
    location: str = Field(min_length=1, max_length=64, description="target storage location")
    qty: int = Field(gt=0, le=1_000_000)
    dock: str | None = Field(default=None, max_length=64, description="take from this dock")
    lot: str | None = Field(default=None, max_length=64, description="take this lot")


class PutawayPublic(BaseModel):
    move_id: int
    sku: str
    lot: str
    qty: int
    from_location: str
    to_location: str


class DockStockPublic(BaseModel):
    dock: str
    sku: str
    name: str
    lot: str
    expiry: date | None
    qty: int


@router.get("/putaway", response_model=list[DockStockPublic])
def waiting(session: SessionDep, _: Reader, site: str = "wh1") -> list[DockStockPublic]:
    """Stock at the docks, waiting to be put away."""
    site_row = inventory.get_site(session, site)
    return [
        DockStockPublic(dock=s.dock, sku=s.sku, name=s.name, lot=s.lot, expiry=s.expiry, qty=s.qty)
        for s in putaway.stock_at_docks(session, site_row.id)
    ]


@router.post("/putaway", response_model=PutawayPublic, status_code=201)
def put_away(body: PutawayIn, session: SessionDep, principal: Operator) -> PutawayPublic:
    """Move received stock from a dock into a storage location (ledger reason `putaway`)."""
    site = inventory.get_site(session, body.site)
    move = putaway.put_away(
        session, site.id, body.item, body.location, body.qty, principal.name, body.dock, body.lot
    )
    sku, lot = session.get(Sku, move.sku_id), session.get(Lot, move.lot_id)
    source = session.get(Location, move.from_location_id)
    target = session.get(Location, move.to_location_id)
    assert sku and lot and source and target
    return PutawayPublic(
        move_id=move.id,
        sku=sku.code,
        lot=lot.code,
        qty=move.qty,
        from_location=source.code,
        to_location=target.code,
    )

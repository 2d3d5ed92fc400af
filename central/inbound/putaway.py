"""Putaway: received stock moves from a dock to a storage location through the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from firmware_interfaces.epc import EpcError, decode_sgtin96
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.common.errors import InsufficientStock, InvalidInput, NotFound
from central.db.tables import Location, Lot, Sku, Stock, StockMove
from central.inventory import service as inventory
from central.inventory.domain import LocationKind, Move, MoveReason

PUTAWAY_TARGETS = (LocationKind.STORAGE.value, LocationKind.PICK_FACE.value)


class WrongTarget(InvalidInput):
    """The scanned location cannot take putaway stock (a dock, a tote, a virtual location)."""


@dataclass(frozen=True)
class DockStock:
    """Stock waiting at a dock to be put away."""

    dock: str
    sku: str
    name: str
    gtin: str | None
    lot: str
    expiry: date | None
    qty: int


def sku_for_scan(session: Session, scanned: str) -> Sku:
    """The SKU a scan names: its code, its GTIN (8-14 digits) or an SGTIN-96 EPC of it."""
    code = scanned.strip()
    if not code:
        raise InvalidInput("scan an item first")
    sku = session.scalar(select(Sku).where(func.upper(Sku.code) == code.upper()).limit(1))
    gtin: str | None = None
    if sku is None and code.isdigit() and 8 <= len(code) <= 14:
        gtin = code.zfill(14)
    elif sku is None and len(code) == 24:
        try:
            gtin = decode_sgtin96(code).gtin
        except EpcError:
            gtin = None
    if sku is None and gtin:
        sku = session.scalar(select(Sku).where(Sku.gtin == gtin))
    if sku is None:
        raise NotFound(f"unknown item: {code!r} is no SKU code, GTIN or SGTIN EPC")
    return sku


def stock_at_docks(session: Session, site_id: int) -> list[DockStock]:
    """What stands at the site's docks, oldest expiry first within a SKU."""
    rows = session.execute(
        select(Location.code, Sku.code, Sku.name, Sku.gtin, Lot.code, Lot.expiry, Stock.qty)
        .join(Location, Stock.location_id == Location.id)
        .join(Sku, Stock.sku_id == Sku.id)
        .join(Lot, Stock.lot_id == Lot.id)
        .where(
            Location.site_id == site_id,
            Location.kind == LocationKind.DOCK.value,
            Stock.qty > 0,
        )
        .order_by(Location.code, Sku.code, Lot.expiry, Lot.code)
    ).tuples()
    return [DockStock(*row) for row in rows]


def dock_source(
    session: Session, site_id: int, sku: Sku, dock: str | None, lot: str | None
) -> tuple[Stock, Location]:
    """The dock stock row to take from: the given dock and lot, else the earliest expiry."""
    query = (
        select(Stock, Location)
        .join(Location, Stock.location_id == Location.id)
        .join(Lot, Stock.lot_id == Lot.id)
        .where(
            Location.site_id == site_id,
            Location.kind == LocationKind.DOCK.value,
            Stock.sku_id == sku.id,
            Stock.qty > 0,
        )
        .order_by(Lot.expiry, Lot.code, Location.code)
    )
    if dock:
        query = query.where(Location.code == dock)
    if lot is not None:
        query = query.where(Lot.code == lot)
    found = session.execute(query.limit(1)).tuples().first()
    if found is None:
        where = f"dock {dock}" if dock else "any dock"
        raise NotFound(f"no {sku.code} waiting at {where}")
    return found


def target_location(session: Session, site_id: int, scanned: str) -> Location:
    """The storage location a scan names; dock, tote and virtual locations are refused."""
    target = session.scalar(
        select(Location).where(
            Location.site_id == site_id, func.upper(Location.code) == scanned.strip().upper()
        )
    )
    if target is None:
        raise NotFound(f"unknown location {scanned.strip()!r}")
    if target.kind not in PUTAWAY_TARGETS:
        raise WrongTarget(f"location {target.code} is a {target.kind}: put away into storage")
    return target


def put_away(
    session: Session,
    site_id: int,
    item_scan: str,
    target_code: str,
    qty: int,
    actor: str,
    dock: str | None = None,
    lot: str | None = None,
) -> StockMove:
    """Move `qty` of the scanned item from a dock to a storage location (reason putaway)."""
    if qty <= 0:
        raise InvalidInput(f"quantity must be at least 1, got {qty}")
    sku = sku_for_scan(session, item_scan)
    target = target_location(session, site_id, target_code)
    stock, source = dock_source(session, site_id, sku, dock, lot)
    if qty > stock.qty:
        raise InsufficientStock(f"{source.code} holds only {stock.qty} of {sku.code}")
    move = Move(sku.id, stock.lot_id, qty, source.id, target.id, MoveReason.PUTAWAY, "putaway")
    return inventory.post_moves(session, [move], actor)[0]

"""Inventory use cases: master data, posting moves to the ledger, stock queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from firmware_interfaces.epc import EpcError, normalise_gtin
from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from central.common.clock import utcnow
from central.common.errors import Conflict, InsufficientStock, InvalidInput, NotFound
from central.db.tables import Location, Lot, Site, Sku, Stock, StockMove, Zone
from central.inventory import ledger
from central.inventory.domain import LocationKind, Move, VirtualLocation

NO_LOT = ""


def create_site(session: Session, code: str, name: str, timezone: str = "UTC") -> Site:
    """A site with its virtual locations (supplier, customer, adjustment, scrap, in-transit)."""
    if session.scalar(select(Site).where(Site.code == code)):
        raise Conflict(f"site {code!r} exists already")
    site = Site(code=code, name=name, timezone=timezone)
    session.add(site)
    session.flush()
    for virtual in VirtualLocation:
        session.add(Location(site_id=site.id, code=virtual.code, kind=LocationKind.VIRTUAL))
    session.flush()
    return site


def get_site(session: Session, code: str) -> Site:
    """The site called `code`."""
    site = session.scalar(select(Site).where(Site.code == code))
    if site is None:
        raise NotFound(f"no site {code!r}")
    return site


def create_zone(session: Session, site: Site, code: str, name: str, kind: str = "storage") -> Zone:
    """A zone of a site."""
    if session.scalar(select(Zone).where(Zone.site_id == site.id, Zone.code == code)):
        raise Conflict(f"zone {code!r} exists already in site {site.code!r}")
    zone = Zone(site_id=site.id, code=code, name=name, kind=kind)
    session.add(zone)
    session.flush()
    return zone


def create_location(
    session: Session,
    site: Site,
    code: str,
    kind: LocationKind,
    zone: Zone | None = None,
    x: float | None = None,
    y: float | None = None,
    **address: str | int | None,
) -> Location:
    """A physical location (storage, pick face, dock, staging) with coordinates."""
    if kind is LocationKind.VIRTUAL:
        raise Conflict("virtual locations come with the site and cannot be added")
    if session.scalar(select(Location).where(Location.site_id == site.id, Location.code == code)):
        raise Conflict(f"location {code!r} exists already in site {site.code!r}")
    location = Location(
        site_id=site.id,
        zone_id=zone.id if zone else None,
        code=code,
        kind=kind,
        x=x,
        y=y,
        **address,
    )
    session.add(location)
    session.flush()
    return location


def get_location(session: Session, site_id: int, code: str) -> Location:
    """The location called `code` in a site."""
    location = session.scalar(
        select(Location).where(Location.site_id == site_id, Location.code == code)
    )
    if location is None:
        raise NotFound(f"no location {code!r}")
    return location


def virtual_location(session: Session, site_id: int, which: VirtualLocation) -> Location:
    """One of the site's virtual locations."""
    return get_location(session, site_id, which.code)


def create_sku(
    session: Session,
    code: str,
    name: str,
    unit_weight_kg: Decimal,
    gtin: str | None = None,
    **attributes: str | int | None,
) -> Sku:
    """A stock-keeping unit; its GTIN links it to the SGTIN EPCs on its tags."""
    if session.scalar(select(Sku).where(Sku.code == code)):
        raise Conflict(f"SKU {code!r} exists already")
    if gtin and session.scalar(select(Sku).where(Sku.gtin == gtin)):
        raise Conflict(f"GTIN {gtin} belongs to another SKU already")
    sku = Sku(code=code, name=name, unit_weight_kg=unit_weight_kg, gtin=gtin, **attributes)
    session.add(sku)
    session.flush()
    return sku


def get_sku(session: Session, code: str) -> Sku:
    """The SKU called `code`."""
    sku = session.scalar(select(Sku).where(Sku.code == code))
    if sku is None:
        raise NotFound(f"no SKU {code!r}")
    return sku


def lot_for(session: Session, sku_id: int, code: str = NO_LOT, expiry: date | None = None) -> Lot:
    """The lot `code` of a SKU, created on first use ("" is the SKU's unlotted stock)."""
    lot = session.scalar(select(Lot).where(Lot.sku_id == sku_id, Lot.code == code))
    if lot is None:
        lot = Lot(sku_id=sku_id, code=code, expiry=expiry)
        session.add(lot)
        session.flush()
    return lot


def _take_from_stock(
    session: Session, location_id: int, sku_id: int, lot_id: int, qty: int
) -> None:
    """Remove `qty` from a physical location, only if it holds that much (no negative stock)."""
    result = session.execute(
        update(Stock)
        .where(
            Stock.location_id == location_id,
            Stock.sku_id == sku_id,
            Stock.lot_id == lot_id,
            Stock.qty >= qty,
        )
        .values(qty=Stock.qty - qty)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise InsufficientStock(
            f"location {location_id} does not hold {qty} of SKU {sku_id} lot {lot_id}"
        )


def post_moves(session: Session, moves: Sequence[Move], actor: str) -> list[StockMove]:
    """Write moves to the ledger and to stock in the caller's transaction (all or nothing)."""
    if not moves:
        return []
    location_ids = {m.from_location_id for m in moves} | {m.to_location_id for m in moves}
    found = session.execute(select(Location.id, Location.kind).where(Location.id.in_(location_ids)))
    kinds = {location_id: kind for location_id, kind in found.tuples()}
    missing = location_ids - kinds.keys()
    if missing:
        raise NotFound(f"no location with id {sorted(missing)}")
    connection = session.connection()

    def take(move: Move) -> None:
        if kinds[move.from_location_id] == LocationKind.VIRTUAL:
            ledger.add_to_stock(
                connection, move.from_location_id, move.sku_id, move.lot_id, -move.qty
            )
        else:
            _take_from_stock(session, move.from_location_id, move.sku_id, move.lot_id, move.qty)

    rows = [StockMove(**row) for row in ledger.book(connection, moves, actor, utcnow(), take)]
    for row in rows:  # written already: into the session as loaded rows, not as new ones
        make_transient_to_detached(row)
        session.add(row)
    session.flush()
    return rows


def stock_query(
    site_id: int | None = None,
    location_code: str | None = None,
    sku_code: str | None = None,
    include_virtual: bool = False,
) -> Select[tuple[Stock, Location, Sku, Lot]]:
    """Stock rows with their location, SKU and lot, filtered; zero rows left out."""
    query = (
        select(Stock, Location, Sku, Lot)
        .join(Location, Stock.location_id == Location.id)
        .join(Sku, Stock.sku_id == Sku.id)
        .join(Lot, Stock.lot_id == Lot.id)
        .where(Stock.qty != 0)
        .order_by(Location.code, Sku.code, Lot.code)
    )
    if site_id is not None:
        query = query.where(Location.site_id == site_id)
    if location_code:
        query = query.where(Location.code == location_code)
    if sku_code:
        query = query.where(Sku.code == sku_code)
    if not include_virtual:
        query = query.where(Location.kind != LocationKind.VIRTUAL.value)
    return query


def get_zone(session: Session, site: Site, code: str) -> Zone:
    """The zone called `code` in a site."""
    zone = session.scalar(select(Zone).where(Zone.site_id == site.id, Zone.code == code))
    if zone is None:
        raise NotFound(f"no zone {code!r} in site {site.code!r}")
    return zone


def checked_gtin(gtin: str) -> str:
    """A GTIN as GTIN-14 with a verified check digit; InvalidInput otherwise."""
    try:
        return normalise_gtin(gtin)
    except EpcError as exc:
        raise InvalidInput(str(exc)) from exc

"""The putaway screen: scan an item waiting at a dock, scan the storage location, move it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from central.auth.domain import OPERATE
from central.common.errors import DomainError
from central.db.tables import Location, Lot, Sku
from central.deps import ContainerDep, SessionDep
from central.inbound import putaway
from central.inventory import service as inventory
from central.web.access import Csrf, User, must
from central.web.messages import attempt, error, flash_for, ok
from central.web.render import page, redirect

router = APIRouter(prefix="/h/putaway", include_in_schema=False)


def _url(item: str = "", dock: str = "", lot: str | None = None, loc: str = "") -> str:
    params = {"item": item, "dock": dock, "loc": loc}
    query = {k: v for k, v in params.items() if v}
    if item and lot is not None:
        query["lot"] = lot
    return "/h/putaway" + (f"?{urlencode(query)}" if query else "")


def _lot(value: str | None) -> str | None:
    """A lot from a form field, sent as "=CODE" because an empty form value reads as missing."""
    return value[1:] if value and value.startswith("=") else None


@router.get("", response_class=HTMLResponse)
def putaway_page(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    user: User,
    item: str = "",
    dock: str = "",
    lot: str | None = None,
    loc: str = "",
) -> HTMLResponse:
    """Stock waiting at the docks and the scan steps."""
    site = inventory.get_site(session, container.settings.site)
    source = None
    if item:
        try:
            sku = putaway.sku_for_scan(session, item)
            stock, location = putaway.dock_source(session, site.id, sku, dock or None, lot)
            lot_row = session.get(Lot, stock.lot_id)
            source = {
                "sku": sku.code,
                "name": sku.name,
                "dock": location.code,
                "lot": lot_row.code if lot_row else "",
                "qty": stock.qty,
            }
        except DomainError:
            source = None
    if source is None:
        loc = ""
    step = "item" if source is None else "location" if not loc else "qty"
    return page(
        request,
        "h_putaway.html",
        user,
        waiting=putaway.stock_at_docks(session, site.id),
        source=source,
        step=step,
        loc=loc,
    )


@router.post("/item")
def scan_item(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    user: User,
    _: Csrf,
    scan: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Find the scanned item at the docks."""
    must(user, OPERATE)
    try:
        site = inventory.get_site(session, container.settings.site)
        sku = putaway.sku_for_scan(session, scan)
        putaway.dock_source(session, site.id, sku, None, None)
    except DomainError as exc:
        return redirect(request, "/h/putaway", flash_for(exc))
    return redirect(request, _url(sku.code))


@router.post("/location")
def scan_location(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    user: User,
    _: Csrf,
    item: Annotated[str, Form()] = "",
    dock: Annotated[str, Form()] = "",
    lot: Annotated[str | None, Form()] = None,
    scan: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Check that the scanned location exists and takes storage."""
    must(user, OPERATE)
    site = inventory.get_site(session, container.settings.site)
    code, lot = scan.strip(), _lot(lot)
    try:
        target = putaway.target_location(session, site.id, code)
    except DomainError as exc:
        return redirect(request, _url(item, dock, lot), flash_for(exc))
    return redirect(request, _url(item, dock, lot, target.code))


@router.post("/confirm")
def confirm(
    request: Request,
    container: ContainerDep,
    user: User,
    _: Csrf,
    item: Annotated[str, Form()] = "",
    dock: Annotated[str, Form()] = "",
    lot: Annotated[str | None, Form()] = None,
    loc: Annotated[str, Form()] = "",
    qty: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Move the quantity from the dock into the location (ledger reason putaway)."""
    must(user, OPERATE)
    lot = _lot(lot)
    back = _url(item, dock, lot, loc)
    if not qty.strip().isdigit():
        return redirect(request, back, error("error.bad_number"))

    def work(session: Session) -> dict[str, object]:
        site = inventory.get_site(session, container.settings.site)
        move = putaway.put_away(session, site.id, item, loc, int(qty), user.name, dock or None, lot)
        source = session.get(Location, move.from_location_id)
        target = session.get(Location, move.to_location_id)
        sku = session.get(Sku, move.sku_id)
        return {
            "qty": move.qty,
            "sku": sku.code if sku else item,
            "src": source.code if source else "",
            "dst": target.code if target else loc,
        }

    done, flash = attempt(container, work)
    if done is None:
        return redirect(request, back, flash)
    return redirect(request, "/h/putaway", ok("putaway.done", **done))

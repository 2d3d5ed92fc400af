"""The pick flow: go to the location, scan it, scan the item, confirm the quantity."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from central.auth.domain import OPERATE
from central.db.tables import Location, PickLine, Sku
from central.deps import ContainerDep, SessionDep
from central.outbound import picking
from central.web import queries
from central.web.access import Csrf, User, must
from central.web.messages import attempt, error, ok
from central.web.render import page, redirect

router = APIRouter(prefix="/h/pick", include_in_schema=False)
SHORT_REASONS = ("damaged", "not_found", "wrong_item")


def _step_url(line_id: int, loc: str = "", item: str = "") -> str:
    params = {"line": str(line_id)}
    if loc:
        params["loc"] = loc
    if item:
        params["item"] = item
    return "/h/pick?" + urlencode(params)


def _sku_of(session: Session, line_id: int) -> Sku:
    line = session.get(PickLine, line_id)
    sku = session.get(Sku, line.sku_id) if line else None
    assert sku is not None
    return sku


@router.post("/start")
def start(request: Request, container: ContainerDep, user: User, _: Csrf) -> RedirectResponse:
    """Claim the oldest open batch (or keep the one already assigned)."""
    must(user, OPERATE)
    batch, flash = attempt(container, lambda s: picking.next_batch_for(s, user.name))
    if batch is None and flash is None:
        return redirect(request, "/h/pick")
    return redirect(request, "/h/pick", flash)


@router.get("", response_class=HTMLResponse)
def pick_page(
    request: Request,
    session: SessionDep,
    user: User,
    line: int | None = None,
    loc: str = "",
    item: str = "",
) -> HTMLResponse:
    """The current line of the user's batch, at the step its scans have reached."""
    batch = queries.my_batch(session, user.name) or queries.last_batch(session, user.name)
    current = queries.current_line(session, batch.id) if batch else None
    if current is None or line != current.id:
        loc = item = ""  # scans of another line do not carry over
    if loc.strip().upper() != (current.location.upper() if current else ""):
        loc = item = ""
    if item and current and not picking.scan_matches_item(item, _sku_of(session, current.id)):
        item = ""
    step = "location" if not loc else "item" if not item else "qty"
    return page(
        request,
        "h_pick.html",
        user,
        batch=batch,
        line=current,
        progress=queries.progress(session, batch.id) if batch else None,
        unclaimed=queries.unclaimed_batches(session),
        step=step,
        loc=loc,
        item=item,
    )


@router.post("/{line_id}/location")
def scan_location(
    request: Request,
    line_id: int,
    session: SessionDep,
    user: User,
    _: Csrf,
    scan: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Check the scanned location against the line's."""
    must(user, OPERATE)
    line = session.get(PickLine, line_id)
    location = session.get(Location, line.location_id) if line else None
    if line is None or location is None or line.status != "open":
        return redirect(request, "/h/pick")
    if scan.strip().upper() != location.code.upper():
        flash = error("error.wrong_location", expected=location.code, scanned=scan.strip())
        return redirect(request, _step_url(line_id), flash)
    return redirect(request, _step_url(line_id, location.code))


@router.post("/{line_id}/item")
def scan_item(
    request: Request,
    line_id: int,
    session: SessionDep,
    user: User,
    _: Csrf,
    loc: Annotated[str, Form()] = "",
    scan: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Check the scanned SKU code, GTIN or EPC against the line's SKU."""
    must(user, OPERATE)
    line = session.get(PickLine, line_id)
    sku = session.get(Sku, line.sku_id) if line else None
    if line is None or sku is None or line.status != "open":
        return redirect(request, "/h/pick")
    if not picking.scan_matches_item(scan, sku):
        flash = error("error.wrong_item", expected=sku.code, name=sku.name, scanned=scan.strip())
        return redirect(request, _step_url(line_id, loc), flash)
    return redirect(request, _step_url(line_id, loc, scan.strip()))


@router.post("/{line_id}/confirm")
def confirm(
    request: Request,
    line_id: int,
    container: ContainerDep,
    user: User,
    _: Csrf,
    loc: Annotated[str, Form()] = "",
    item: Annotated[str, Form()] = "",
    qty: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Confirm the pick: stock moves from the location into the tote."""
    must(user, OPERATE)
    if not qty.strip().isdigit():
        return redirect(request, _step_url(line_id, loc, item), error("error.bad_number"))

    def work(session: Session) -> tuple[int, str, str]:
        done = picking.confirm_pick(session, line_id, loc, item, int(qty), user.name)
        sku = session.get(Sku, done.sku_id)
        return int(qty), sku.code if sku else "", done.tote

    result, flash = attempt(container, work)
    if result is None:
        return redirect(request, _step_url(line_id, loc, item), flash)
    count, sku_code, tote = result
    return redirect(request, "/h/pick", ok("pick.picked", qty=count, sku=sku_code, tote=tote))


@router.post("/{line_id}/skip")
def skip(
    request: Request, line_id: int, container: ContainerDep, user: User, _: Csrf
) -> RedirectResponse:
    """Move the line to the end of the batch."""
    must(user, OPERATE)

    def work(session: Session) -> str:
        line = picking.skip(session, line_id, user.name)
        location = session.get(Location, line.location_id)
        return location.code if location else ""

    code, flash = attempt(container, work)
    return redirect(request, "/h/pick", flash or ok("pick.skipped", loc=code))


@router.get("/{line_id}/short", response_model=None)
def short_page(
    request: Request, line_id: int, session: SessionDep, user: User
) -> HTMLResponse | RedirectResponse:
    """Record a short pick: what was found and why the rest is missing."""
    batch = queries.my_batch(session, user.name)
    current = queries.current_line(session, batch.id) if batch else None
    if current is None or current.id != line_id:
        return redirect(request, "/h/pick")
    return page(
        request,
        "h_short.html",
        user,
        line=current,
        reasons=SHORT_REASONS,
    )


@router.post("/{line_id}/short")
def short(
    request: Request,
    line_id: int,
    container: ContainerDep,
    user: User,
    _: Csrf,
    found: Annotated[str, Form()] = "0",
    reason: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Pick what was found; the rest is backordered and the location gets a recount task."""
    must(user, OPERATE)
    back = f"/h/pick/{line_id}/short"
    if not found.strip().isdigit():
        return redirect(request, back, error("error.bad_number"))
    if reason not in SHORT_REASONS:
        return redirect(request, back, error("error.generic", message="choose a reason"))

    def work(session: Session) -> tuple[int, str]:
        line = session.get(PickLine, line_id)
        missing = (line.qty - line.qty_picked - int(found)) if line else 0
        done = picking.short_pick(session, line_id, int(found), reason.replace("_", " "), user.name)
        location = session.get(Location, done.location_id)
        return missing, location.code if location else ""

    result, flash = attempt(container, work)
    if result is None:
        return redirect(request, back, flash)
    missing, code = result
    return redirect(request, "/h/pick", ok("pick.shorted", missing=missing, loc=code))

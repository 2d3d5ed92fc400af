"""The pack station: scan a tote, compare the scale's weight with the expected, close, ship."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from central.auth.domain import OPERATE
from central.common.errors import DomainError
from central.db.tables import Order, Parcel
from central.deps import ContainerDep, SessionDep
from central.inbound.domain import WeightTolerance
from central.inventory import service as inventory
from central.orders.domain import OrderStatus
from central.outbound import packing
from central.web import queries
from central.web.access import Csrf, User, must
from central.web.messages import attempt, error, flash_for, ok
from central.web.render import page, redirect

router = APIRouter(prefix="/h/pack", include_in_schema=False)
REFRESH_SECONDS = 3
GRAMS = Decimal("0.001")


@dataclass(frozen=True)
class WeightCheck:
    """The measured weight against the expected one."""

    measured: Decimal
    source: str  # "scale" or "manual"
    expected: Decimal
    allowed: Decimal

    @property
    def difference(self) -> Decimal:
        """Measured minus expected, in grams' precision."""
        return (self.measured - self.expected).quantize(GRAMS)

    @property
    def within(self) -> bool:
        """True when the parcel weighs what its contents should."""
        return abs(self.measured - self.expected) <= self.allowed


def parse_kg(text: str) -> Decimal | None:
    """A positive weight in kg from what the user typed ("1,25" works too), else None."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    return value.quantize(GRAMS) if value.is_finite() and value > 0 else None


def check_weight(
    expected: Decimal, tolerance: WeightTolerance, manual: Decimal | None, scale: Decimal | None
) -> WeightCheck | None:
    """Compare the entered weight, else the scale's, with the expected weight."""
    allowed = tolerance.allowed(expected).quantize(GRAMS)
    if manual is not None:
        return WeightCheck(manual, "manual", expected, allowed)
    if scale is not None:
        return WeightCheck(scale, "scale", expected, allowed)
    return None


@router.get("", response_class=HTMLResponse)
def pack_page(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    user: User,
    tote: str = "",
    kg: str = "",
) -> HTMLResponse:
    """Scan a tote; then its contents, the expected weight and the scale's reading."""
    site = inventory.get_site(session, container.settings.site)
    contents, problem = None, None
    if tote:
        try:
            contents = packing.tote_contents(session, site.id, tote.strip())
        except DomainError as exc:
            problem = flash_for(exc)
    check = None
    if contents is not None:
        manual = parse_kg(kg) if kg else None
        if kg and manual is None:
            problem = error("error.bad_number")
        check = check_weight(
            contents.expected_kg,
            container.pack_tolerance,
            manual,
            None if manual else packing.latest_pack_weight(session, site.id),
        )
    packable = contents is not None and contents.order.status == OrderStatus.PICKED
    if contents is not None and not packable:
        problem = error("error.not_picked", order=contents.order.id)
    return page(
        request,
        "h_pack.html",
        user,
        tote=tote.strip(),
        contents=contents,
        check=check,
        problem=problem,
        packable=packable,
        waiting=packable and check is None,
        refresh=packable and (check is None or (check.source == "scale" and not check.within)),
        refresh_seconds=REFRESH_SECONDS,
        ready=queries.totes_ready(session, site.id),
    )


@router.post("/tote")
def scan_tote(
    request: Request,
    session: SessionDep,
    container: ContainerDep,
    user: User,
    _: Csrf,
    scan: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Open the scanned tote."""
    must(user, OPERATE)
    site = inventory.get_site(session, container.settings.site)
    try:
        contents = packing.tote_contents(session, site.id, scan.strip())
    except DomainError as exc:
        return redirect(request, "/h/pack", flash_for(exc))
    return redirect(request, "/h/pack?" + urlencode({"tote": contents.tote}))


@router.post("/close")
def close(
    request: Request,
    container: ContainerDep,
    user: User,
    _: Csrf,
    tote: Annotated[str, Form()] = "",
    kg: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Close the parcel with the weight shown on screen."""
    must(user, OPERATE)
    measured = parse_kg(kg)
    back = "/h/pack?" + urlencode({"tote": tote})
    if measured is None:
        return redirect(request, back, error("error.bad_number"))

    def work(session: Session) -> int:
        site = inventory.get_site(session, container.settings.site)
        parcel = packing.close_parcel(
            session, site.id, tote, measured, container.pack_tolerance, user.name
        )
        return parcel.id

    parcel_id, flash = attempt(container, work)
    if parcel_id is None:
        return redirect(request, back, flash)
    return redirect(request, f"/h/pack/parcels/{parcel_id}", ok("pack.closed", parcel=parcel_id))


@router.get("/parcels/{parcel_id}", response_model=None)
def parcel_page(
    request: Request, parcel_id: int, session: SessionDep, user: User
) -> HTMLResponse | RedirectResponse:
    """A closed parcel, ready to ship."""
    parcel = session.get(Parcel, parcel_id)
    if parcel is None:
        return redirect(request, "/h/pack")
    order = session.get(Order, parcel.order_id)
    return page(request, "h_parcel.html", user, parcel=parcel, order=order)


@router.post("/parcels/{parcel_id}/ship")
def ship(
    request: Request, parcel_id: int, container: ContainerDep, user: User, _: Csrf
) -> RedirectResponse:
    """Hand the parcel to the carrier."""
    must(user, OPERATE)

    def work(session: Session) -> int:
        site = inventory.get_site(session, container.settings.site)
        return packing.ship(session, site.id, parcel_id, user.name).id

    shipped, flash = attempt(container, work)
    if shipped is None:
        return redirect(request, f"/h/pack/parcels/{parcel_id}", flash)
    return redirect(request, "/h/pack", ok("pack.shipped", parcel=shipped))

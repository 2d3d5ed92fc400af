"""The supervisor dashboard: order counts, the exception queue, discrepancies, waves."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from central.auth.domain import READ, SUPERVISE
from central.deps import ContainerDep, SessionDep
from central.inbound import service as inbound
from central.inbound.domain import Resolution
from central.inventory import service as inventory
from central.orders import api as orders_api
from central.orders import service as orders
from central.orders.domain import OrderStatus
from central.web import queries
from central.web.access import Csrf, User, must
from central.web.fleet_views import supervision
from central.web.messages import attempt, error, ok
from central.web.render import page, redirect

router = APIRouter(prefix="/dash", include_in_schema=False)
STATUS_ORDER = [s.value for s in OrderStatus]


@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def dashboard(
    request: Request, session: SessionDep, container: ContainerDep, user: User
) -> HTMLResponse:
    """Everything a supervisor watches, on one page."""
    must(user, READ)
    site = inventory.get_site(session, container.settings.site)
    stats = orders_api.stats(session, user)
    return page(
        request,
        "dash.html",
        user,
        stats=stats,
        statuses=[s for s in STATUS_ORDER if stats.by_status.get(s)],
        exceptions=queries.exception_orders(session),
        discrepancies=queries.open_discrepancies(session),
        waves=queries.recent_waves(session, site.id),
        fleet=supervision(request),
        can_act=user.role in SUPERVISE,
    )


@router.post("/orders/{order_id}/approve")
def approve(
    request: Request,
    order_id: int,
    container: ContainerDep,
    user: User,
    _: Csrf,
    note: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Let an order out of the exception queue."""
    must(user, SUPERVISE)
    done, flash = attempt(
        container, lambda s: orders.approve(s, order_id, user.name, note.strip() or None).id
    )
    return redirect(request, "/dash", flash or ok("dash.approved", order=done))


@router.post("/orders/{order_id}/cancel")
def cancel(
    request: Request,
    order_id: int,
    container: ContainerDep,
    user: User,
    _: Csrf,
    reason: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Cancel an order from the exception queue."""
    must(user, SUPERVISE)
    if not reason.strip():
        return redirect(request, "/dash", error("error.generic", message="give a reason"))
    done, flash = attempt(
        container, lambda s: orders.cancel(s, order_id, user.name, reason.strip()).id
    )
    return redirect(request, "/dash", flash or ok("dash.cancelled", order=done))


@router.post("/discrepancies/{discrepancy_id}/resolve")
def resolve(
    request: Request,
    discrepancy_id: int,
    container: ContainerDep,
    user: User,
    _: Csrf,
    resolution: Annotated[str, Form()] = "",
) -> RedirectResponse:
    """Accept what was counted (books it) or reject the delivery."""
    must(user, SUPERVISE)
    try:
        decision = Resolution(resolution)
    except ValueError:
        return redirect(request, "/dash", error("error.generic", message="unknown resolution"))

    def work(session: Session) -> int:
        item = inbound.resolve_discrepancy(
            session, discrepancy_id, decision, user.name, container.tolerance
        )
        return item.id

    done, flash = attempt(container, work)
    return redirect(request, "/dash", flash or ok("dash.resolved", id=done))

"""The dashboard's live map (the AGV layout once, then fleet snapshots as server-sent events)
and the supervisor's fleet actions (vehicle removed, obstacle cleared, held load recovered)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import RedirectResponse, StreamingResponse

from central.auth.domain import READ, SUPERVISE
from central.fleet.manager import FleetManager, FleetStateError
from central.web.access import Csrf, User, must
from central.web.cookies import Flash
from central.web.messages import error, ok
from central.web.render import redirect

router = APIRouter(prefix="/dash/fleet", include_in_schema=False)

PERIOD_S = 0.25  # how often the stream looks for a change
KEEPALIVE_S = 15.0  # a comment line so proxies keep an idle stream open


def _fleet(request: Request) -> FleetManager:
    fleet: FleetManager | None = getattr(request.app.state, "fleet", None)
    if fleet is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no fleet manager is running")
    return fleet


@router.get("/map")
def fleet_map(request: Request, user: User) -> dict[str, Any]:
    """The grid rows and cell size (the map script draws walls, lanes and stations from it)."""
    must(user, READ)
    layout = _fleet(request).layout
    return {"rows": list(layout.rows), "cell_m": layout.cell_m}


def live_view(request: Request) -> dict[str, Any]:
    """What the map shows: vehicles with planned paths, transport tasks, pick stations."""
    view = _fleet(request).snapshot()
    stations = getattr(request.app.state, "stations", None)
    if stations is not None:
        view["pick_stations"] = stations.snapshot()["stations"]
    return view


@router.get("/stream")
async def fleet_stream(request: Request, user: User) -> StreamingResponse:
    """Server-sent events: one `fleet` event with the whole view whenever it changes."""
    must(user, READ)
    _fleet(request)  # 503 before the stream starts when there is no fleet

    async def events() -> AsyncIterator[str]:
        last, quiet = "", 0.0
        while not await request.is_disconnected():
            try:
                body = json.dumps(jsonable_encoder(live_view(request)), separators=(",", ":"))
            except HTTPException:  # the fleet went away
                yield "event: gone\ndata: {}\n\n"
                return
            if body != last:
                last, quiet = body, 0.0
                yield f"event: fleet\ndata: {body}\n\n"
            elif (quiet := quiet + PERIOD_S) >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"
            await asyncio.sleep(PERIOD_S)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def supervision(request: Request) -> dict[str, Any] | None:
    """What the dashboard's fleet actions need: alarms and blocked nodes (None: no fleet)."""
    fleet: FleetManager | None = getattr(request.app.state, "fleet", None)
    if fleet is None:
        return None
    view = fleet.supervision()
    held = sorted({b["vehicle"] for b in view["blocked"] if b["kind"] == "vehicle"})
    obstacles = [b for b in view["blocked"] if b["kind"] == "obstacle"]
    loads = [a for a in view["alarms"] if a["kind"] == "load_on_vehicle"]
    return {"loads": loads, "held_by": held, "obstacles": obstacles}


def _act(
    request: Request, user: User, action: Callable[[FleetManager], object], done: Flash
) -> RedirectResponse:
    """Run one supervisor action on the fleet and go back to the dashboard with its outcome."""
    must(user, SUPERVISE)
    try:
        action(_fleet(request))
    except (KeyError, FleetStateError) as exc:
        message = str(exc.args[0]) if exc.args else str(exc)  # KeyError's str() adds quotes
        return redirect(request, "/dash", error("error.generic", message=message))
    return redirect(request, "/dash", done)


@router.post("/vehicles/{serial}/removed")
def vehicle_removed(request: Request, serial: str, user: User, _: Csrf) -> RedirectResponse:
    """The vehicle was taken off the floor: the nodes it held are free."""
    return _act(
        request, user, lambda f: f.vehicle_removed(serial), ok("fleet.removed", vehicle=serial)
    )


@router.post("/nodes/{node}/clear")
def clear_node(request: Request, node: str, user: User, _: Csrf) -> RedirectResponse:
    """The obstacle on the node is gone."""
    return _act(request, user, lambda f: f.clear_node(node), ok("fleet.cleared", node=node))


@router.post("/tasks/{task_id}/recover")
def recover(
    request: Request, task_id: str, user: User, _: Csrf, node: Annotated[str, Form()] = ""
) -> RedirectResponse:
    """The load of a held task is at `node` now: a vehicle fetches it there."""
    must(user, SUPERVISE)
    node = node.strip()
    if not node:
        return redirect(request, "/dash", error("fleet.node_needed"))
    return _act(
        request,
        user,
        lambda f: f.recover(task_id, node),
        ok("fleet.recovered", task=task_id, node=node),
    )


@router.post("/tasks/{task_id}/cancel")
def cancel(request: Request, task_id: str, user: User, _: Csrf) -> RedirectResponse:
    """Drop a held or pending task (its load is dealt with by hand)."""
    return _act(
        request, user, lambda f: f.cancel(task_id), ok("fleet.task_cancelled", task=task_id)
    )

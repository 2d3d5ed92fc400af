"""The dashboard's live map: the AGV layout once, then fleet snapshots as server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import StreamingResponse

from central.auth.domain import READ
from central.fleet.manager import FleetManager
from central.web.access import User, must

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

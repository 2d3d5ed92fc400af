"""Fleet endpoints: vehicles (positions, planned paths), tasks, pause-all and emergency stop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from central.auth.domain import OPERATE, READ, SUPERVISE, Principal
from central.deps import require
from central.fleet.domain import TaskKind, TaskStatus
from central.fleet.manager import FleetManager, FleetStateError

router = APIRouter(prefix="/api/v1/fleet", tags=["fleet"])


def get_fleet(request: Request) -> FleetManager:
    """The running fleet manager; 503 when this deployment runs none."""
    fleet: FleetManager | None = getattr(request.app.state, "fleet", None)
    if fleet is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no fleet manager is running")
    return fleet


FleetDep = Annotated[FleetManager, Depends(get_fleet)]


class TaskCreate(BaseModel):
    kind: TaskKind
    source: str = Field(description="nodeId of the pick station or dock")
    dest: str = Field(description="nodeId of the pack station or reserve location")
    load_id: str = Field(default="", max_length=64)


@router.get("")
def overview(fleet: FleetDep, _: Annotated[Principal, Depends(require(READ))]) -> dict[str, Any]:
    """Vehicles (node, x/y, battery, planned path), tasks and the fleet flags: a live map's feed."""
    return fleet.snapshot()


@router.get("/map")
def site_map(fleet: FleetDep, _: Annotated[Principal, Depends(require(READ))]) -> dict[str, Any]:
    """The AGV grid: rows of map characters, cell size, and every node with its position."""
    layout = fleet.layout
    nodes = [
        {
            "id": layout.node_id(c),
            "x": layout.position(c)[0],
            "y": layout.position(c)[1],
            "kind": layout.kind(c),
        }
        for c in range(layout.grid.width * layout.grid.height)
        if layout.grid.free.ravel()[c]
    ]
    return {"rows": list(layout.rows), "cell_m": layout.cell_m, "nodes": nodes}


@router.get("/vehicles")
def vehicles(
    fleet: FleetDep, _: Annotated[Principal, Depends(require(READ))]
) -> list[dict[str, Any]]:
    """Every vehicle with position, status and planned path."""
    return list(fleet.snapshot()["vehicles"])


class Recovered(BaseModel):
    node: str = Field(description="nodeId where the load is now (taken off the vehicle)")


@router.get("/tasks")
def tasks(
    fleet: FleetDep,
    response: Response,
    _: Annotated[Principal, Depends(require(READ))],
    task_status: TaskStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Transport tasks newest first, across restarts (the stored history); the total matching
    is in the `X-Total-Count` header."""
    total, page = fleet.history(task_status.value if task_status else None, limit, offset)
    response.headers["X-Total-Count"] = str(total)
    return page


@contextmanager
def supervisor_action(missing: str) -> Iterator[None]:
    """A supervisor's action on the fleet: an unknown id is a 404 saying `missing`, an action
    the fleet's state does not allow a 409 saying why."""
    try:
        yield
    except KeyError as exc:
        raise HTTPException(404, missing) from exc
    except FleetStateError as exc:
        raise HTTPException(409, str(exc)) from exc


@router.post("/tasks/{task_id}/recover")
def recover(
    task_id: str,
    body: Recovered,
    fleet: FleetDep,
    _: Annotated[Principal, Depends(require(SUPERVISE))],
) -> dict[str, Any]:
    """The load of a task that needs recovery is at `node` now: a vehicle fetches it there."""
    try:
        fleet.layout.cell_of(body.node)
    except KeyError as exc:
        raise HTTPException(422, f"node {body.node!r} is not a free cell of the AGV map") from exc
    with supervisor_action(f"no fleet task {task_id}"):
        return fleet.task_view(fleet.recover(task_id, body.node))


@router.post("/tasks/{task_id}/cancel")
def cancel(
    task_id: str, fleet: FleetDep, _: Annotated[Principal, Depends(require(SUPERVISE))]
) -> dict[str, Any]:
    """Drop a task that is pending or needs recovery (its load is dealt with by hand)."""
    with supervisor_action(f"no fleet task {task_id}"):
        return fleet.task_view(fleet.cancel(task_id))


@router.post("/vehicles/{serial}/removed")
def vehicle_removed(
    serial: str, fleet: FleetDep, _: Annotated[Principal, Depends(require(SUPERVISE))]
) -> dict[str, Any]:
    """A vehicle out of service (offline, stale, error) was taken off the floor: the nodes it
    held are free again; it comes back when it reports standing still without an order."""
    with supervisor_action(f"no vehicle {serial}"):
        return fleet.vehicle_view(fleet.vehicle_removed(serial))


@router.post("/nodes/{node}/clear")
def clear_node(
    node: str, fleet: FleetDep, _: Annotated[Principal, Depends(require(SUPERVISE))]
) -> dict[str, Any]:
    """The obstacle a vehicle reported on a node is gone: plans may use the node again."""
    with supervisor_action(f"node {node!r} is not a free cell of the AGV map"):
        fleet.clear_node(node)
    return {"node": node, "blocked": False}


@router.post("/tasks", status_code=201)
def create_task(
    body: TaskCreate, fleet: FleetDep, _: Annotated[Principal, Depends(require(OPERATE))]
) -> dict[str, Any]:
    """Queue a transport task (tote: pick -> pack station; pallet: dock -> reserve)."""
    try:
        task = fleet.submit(body.kind, body.source, body.dest, body.load_id)
    except (KeyError, ValueError) as exc:
        raise HTTPException(422, str(exc)) from exc
    return fleet.task_view(task)


@router.post("/pause")
def pause(fleet: FleetDep, _: Annotated[Principal, Depends(require(OPERATE))]) -> dict[str, Any]:
    """Pause every vehicle."""
    fleet.pause_all()
    return {"paused": True}


@router.post("/resume")
def resume(fleet: FleetDep, _: Annotated[Principal, Depends(require(OPERATE))]) -> dict[str, Any]:
    """Resume every vehicle."""
    fleet.resume_all()
    return {"paused": False}


@router.post("/emergency-stop")
def emergency_stop(
    fleet: FleetDep, _: Annotated[Principal, Depends(require(OPERATE))]
) -> dict[str, Any]:
    """Every vehicle cancels its order and stops; dispatch halts (anyone who operates may)."""
    fleet.emergency_stop()
    return {"emergency_stop": True}


@router.post("/emergency-stop/release")
def release_emergency_stop(
    fleet: FleetDep, _: Annotated[Principal, Depends(require(SUPERVISE))]
) -> dict[str, Any]:
    """Restart after an emergency stop (supervisors only)."""
    fleet.release_emergency_stop()
    return {"emergency_stop": False}

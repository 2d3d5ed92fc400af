"""Pick-station endpoints: queue pick tasks for robot arms, see them, handle exceptions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from central.auth.domain import OPERATE, READ, SUPERVISE, Principal
from central.deps import require
from central.stations.manager import StationManager, TaskStateError, UnknownTask

router = APIRouter(prefix="/api/v1/stations", tags=["stations"])

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


def get_stations(request: Request) -> StationManager:
    """The running station manager; 503 when this deployment runs none."""
    stations: StationManager | None = getattr(request.app.state, "stations", None)
    if stations is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "no station manager is running")
    return stations


StationsDep = Annotated[StationManager, Depends(get_stations)]


class PickTaskCreate(BaseModel):
    station: str = Field(min_length=1, max_length=64, pattern=_ID, description="arm device id")
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(ge=1, le=10_000)
    tote: str = Field(min_length=1, max_length=64)


@router.get("")
def overview(
    stations: StationsDep, _: Annotated[Principal, Depends(require(READ))]
) -> dict[str, Any]:
    """Stations (running task, queue length) and every pick task with its attempts."""
    return stations.snapshot()


@router.get("/tasks")
def list_tasks(
    stations: StationsDep,
    _: Annotated[Principal, Depends(require(READ))],
    task_status: str | None = None,
) -> list[dict[str, Any]]:
    """Pick tasks in queue order; `?task_status=exception` for those waiting for a supervisor."""
    return [t.public() for t in stations.tasks(task_status)]


@router.post("/tasks", status_code=201)
def add_task(
    body: PickTaskCreate,
    stations: StationsDep,
    _: Annotated[Principal, Depends(require(OPERATE))],
) -> dict[str, Any]:
    """Queue a pick task at a robot-arm station."""
    return stations.add_task(body.station, body.sku, body.qty, body.tote).public()


def _change(stations: StationManager, task_id: str, retry: bool) -> dict[str, Any]:
    try:
        task = stations.retry(task_id) if retry else stations.cancel(task_id)
    except UnknownTask:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no pick task {task_id!r}") from None
    except TaskStateError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    return task.public()


@router.post("/tasks/{task_id}/retry")
def retry_task(
    task_id: str, stations: StationsDep, _: Annotated[Principal, Depends(require(SUPERVISE))]
) -> dict[str, Any]:
    """Send a task that ran out of attempts back to the queue (supervisor)."""
    return _change(stations, task_id, retry=True)


@router.post("/tasks/{task_id}/cancel")
def cancel_task(
    task_id: str, stations: StationsDep, _: Annotated[Principal, Depends(require(SUPERVISE))]
) -> dict[str, Any]:
    """Drop a pending or exception task (supervisor)."""
    return _change(stations, task_id, retry=False)

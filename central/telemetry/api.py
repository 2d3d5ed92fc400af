"""Device registry endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import select

from central.auth.domain import ADMINISTER, READ, Principal
from central.db.tables import Device, Location
from central.deps import SessionDep, require
from central.inventory import service as inventory
from central.telemetry import service

router = APIRouter(prefix="/api/v1/devices", tags=["devices"])


class DeviceCreate(BaseModel):
    device_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    kind: str
    site: str
    location: str | None = None
    edge_id: str | None = Field(
        default=None, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
    )


class DevicePublic(BaseModel):
    device_id: str
    kind: str
    location: str | None
    online: bool | None
    last_seen: datetime | None
    edge_id: str | None


def _public(device: Device, location: str | None) -> DevicePublic:
    return DevicePublic(
        device_id=device.device_id,
        kind=device.kind,
        location=location,
        online=device.online,
        last_seen=device.last_seen,
        edge_id=device.edge_id,
    )


@router.post("", response_model=DevicePublic, status_code=201)
def register(
    body: DeviceCreate, session: SessionDep, _: Annotated[Principal, Depends(require(ADMINISTER))]
) -> DevicePublic:
    """Register a device (admin)."""
    site = inventory.get_site(session, body.site)
    device = service.register_device(session, site, body.device_id, body.kind, body.location)
    device.edge_id = body.edge_id
    return _public(device, body.location)


@router.get("", response_model=list[DevicePublic])
def list_devices(
    session: SessionDep, _: Annotated[Principal, Depends(require(READ))]
) -> list[DevicePublic]:
    """Every registered device with its last status."""
    rows = session.execute(
        select(Device, Location.code)
        .outerjoin(Location, Device.location_id == Location.id)
        .order_by(Device.device_id)
    ).tuples()
    return [_public(device, code) for device, code in rows]

"""Device registry and twin: which device sits where, and whether it is online."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.common.errors import Conflict, InvalidInput, NotFound
from central.db.tables import Device, Site
from central.inventory import service as inventory

DEVICE_KINDS = ("rfid_gate", "scale", "agv", "robot_arm", "plc", "edge")


def register_device(
    session: Session, site: Site, device_id: str, kind: str, location_code: str | None
) -> Device:
    """Register a device, optionally at a location (a gate or scale at its dock)."""
    if kind not in DEVICE_KINDS:
        raise InvalidInput(f"unknown device kind {kind!r}; one of {', '.join(DEVICE_KINDS)}")
    if session.scalar(select(Device.id).where(Device.device_id == device_id)):
        raise Conflict(f"device {device_id!r} is registered already")
    location = inventory.get_location(session, site.id, location_code) if location_code else None
    device = Device(
        device_id=device_id,
        site_id=site.id,
        kind=kind,
        location_id=location.id if location else None,
    )
    session.add(device)
    session.flush()
    return device


def record_status(
    session: Session, device_id: str, online: bool, ts: datetime, edge_id: str | None = None
) -> Device:
    """Update a device's twin with a status report (older reports do not overwrite newer).

    The edge that reported it is remembered as the one serving the device (for commands).
    """
    device = session.scalar(select(Device).where(Device.device_id == device_id))
    if device is None:
        raise NotFound(f"device {device_id!r} is not registered")
    if edge_id is not None and device.edge_id != edge_id:
        device.edge_id = edge_id
    if device.last_seen is None or ts >= device.last_seen:
        device.online = online
        device.last_seen = ts
    return device

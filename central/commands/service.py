"""Commands to devices: create (idempotent by id), wire form, results, expiry."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.common.errors import Conflict, NotFound
from central.db.tables import Command, Device

OPEN = ("pending", "sent")
FINAL = ("ok", "error", "timeout", "rejected")
# Central gives up on a result this long after the deadline (the edge answers by the deadline).
GRACE = timedelta(seconds=3)
EXPIRED = "no result from the edge by the deadline"


def _stamp(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def create_command(
    session: Session,
    *,
    target: str,
    action: str,
    params: dict[str, Any],
    deadline_s: float,
    actor: str,
    now: datetime,
    command_id: str | None = None,
) -> tuple[Command, bool]:
    """A new pending command for the edge serving `target`; (existing, False) for a known id."""
    if command_id is not None:
        existing = session.get(Command, command_id)
        if existing is not None:
            if (existing.target, existing.action) != (target, action):
                raise Conflict(f"command id {command_id!r} was used for another command")
            return existing, False
    device = session.scalar(select(Device).where(Device.device_id == target))
    if device is None:
        raise NotFound(f"device {target!r} is not registered")
    if not device.edge_id:
        raise Conflict(f"no edge is known to serve device {target!r} yet")
    command = Command(
        id=command_id or uuid.uuid4().hex,
        edge_id=device.edge_id,
        target=target,
        action=action,
        params=params,
        deadline=now + timedelta(seconds=deadline_s),
        status="pending",
        created_by=actor,
        created_at=now,
    )
    session.add(command)
    session.flush()
    return command, True


def wire(command: Command) -> dict[str, Any]:
    """The command document published on edges/{edge}/cmd."""
    return {
        "id": command.id,
        "edge_id": command.edge_id,
        "target": command.target,
        "action": command.action,
        "params": command.params,
        "deadline": _stamp(command.deadline),
        "issued_at": _stamp(command.created_at),
    }


def mark_sent(session: Session, command_id: str, now: datetime) -> None:
    """Note that a command went out (first send only)."""
    command = session.get(Command, command_id)
    if command is not None and command.status == "pending":
        command.status = "sent"
        command.sent_at = now


def record_result(session: Session, result: dict[str, Any], finished_at: datetime) -> bool:
    """Apply a command_result from an edge; False when it changes nothing (unknown, repeat)."""
    command = session.get(Command, result["id"])
    if command is None or command.edge_id != result["edge_id"]:
        return False
    expired_here = command.status == "timeout" and command.detail == EXPIRED
    if command.status not in OPEN and not expired_here:
        return False
    command.status = result["status"]
    command.detail = result.get("detail")
    command.result = result.get("result")
    command.finished_at = finished_at
    return True


def expire(command: Command, now: datetime) -> Command:
    """Time out an open command whose deadline (plus grace) has passed without a result."""
    if command.status in OPEN and now > command.deadline + GRACE:
        command.status = "timeout"
        command.detail = EXPIRED
        command.finished_at = now
    return command


def get_command(session: Session, command_id: str, now: datetime) -> Command:
    """One command, expired if its time is up; NotFound otherwise."""
    command = session.get(Command, command_id)
    if command is None:
        raise NotFound(f"no command {command_id!r}")
    return expire(command, now)


def open_commands(session: Session, now: datetime) -> list[Command]:
    """Commands still waiting for a result whose deadline has not passed (to send again)."""
    return list(
        session.scalars(
            select(Command)
            .where(Command.status.in_(OPEN), Command.deadline > now)
            .order_by(Command.created_at)
        )
    )

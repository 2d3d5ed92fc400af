"""Command endpoints: send a command to a device through its edge, read its result."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from central.auth.domain import READ, SUPERVISE, Principal
from central.commands import service
from central.common.clock import utcnow
from central.db.engine import transaction
from central.db.tables import Command
from central.deps import ContainerDep, SessionDep, require

router = APIRouter(prefix="/api/v1/commands", tags=["commands"])

_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


class CommandCreate(BaseModel):
    target: str = Field(min_length=1, max_length=64, pattern=_ID)
    action: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    deadline_s: float = Field(default=30.0, gt=0, le=86400)
    id: str | None = Field(default=None, min_length=1, max_length=64, pattern=_ID)


class CommandPublic(BaseModel):
    id: str
    edge_id: str
    target: str
    action: str
    params: dict[str, Any]
    deadline: datetime
    status: str
    detail: str | None
    result: dict[str, Any] | None
    created_by: str
    created_at: datetime
    sent_at: datetime | None
    finished_at: datetime | None


def _public(command: Command) -> CommandPublic:
    return CommandPublic.model_validate(command, from_attributes=True)


@router.post("", response_model=CommandPublic, status_code=201)
def send_command(
    body: CommandCreate,
    request: Request,
    response: Response,
    container: ContainerDep,
    principal: Annotated[Principal, Depends(require(SUPERVISE))],
) -> CommandPublic:
    """Store a command and publish it to the edge serving the target (supervisor, admin).

    A known `id` returns the stored command (200) and sends nothing again.
    """
    now = utcnow()
    with transaction(container.sessions) as session:
        command, created = service.create_command(
            session,
            target=body.target,
            action=body.action,
            params=body.params,
            deadline_s=body.deadline_s,
            actor=principal.name,
            now=now,
            command_id=body.id,
        )
        doc, public = service.wire(command), _public(command)
    if not created:
        response.status_code = 200
        return public
    link = getattr(request.app.state, "edge_link", None)
    if link is not None and link.send(container.settings.site, doc):
        with transaction(container.sessions) as session:
            service.mark_sent(session, public.id, now)
            public = _public(service.get_command(session, public.id, now))
    return public


@router.get("/{command_id}", response_model=CommandPublic)
def get_command(
    command_id: str, session: SessionDep, _: Annotated[Principal, Depends(require(READ))]
) -> CommandPublic:
    """A command with its status and result (open past its deadline: timeout)."""
    return _public(service.get_command(session, command_id, utcnow()))

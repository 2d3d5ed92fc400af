"""Station commands through central's command table and the MQTT edge link."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from central.commands import service
from central.commands.mqtt import EdgeLink
from central.common.clock import utcnow
from central.db.engine import transaction
from central.stations.manager import Outcome

ACTOR = "stations"


class CommandArmLink:
    """Stores each command like POST /api/v1/commands does and publishes it to the edge."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        link: Callable[[], EdgeLink | None],
        site: str,
        actor: str = ACTOR,
    ) -> None:
        self._sessions = sessions
        self._link = link
        self._site = site
        self._actor = actor  # created_by of the commands: stations, fleet

    def send(self, target: str, action: str, params: dict[str, Any], deadline_s: float) -> str:
        """A new command for the arm `target`; NotFound/Conflict when no edge serves it."""
        now = utcnow()
        with transaction(self._sessions) as session:
            command, _ = service.create_command(
                session,
                target=target,
                action=action,
                params=params,
                deadline_s=deadline_s,
                actor=self._actor,
                now=now,
            )
            doc, command_id = service.wire(command), command.id
        link = self._link()
        if link is not None and link.send(self._site, doc):
            with transaction(self._sessions) as session:
                service.mark_sent(session, command_id, now)
        return command_id

    def outcome(self, command_id: str) -> Outcome | None:
        """The command's final status, or None while it is open (expired ones time out)."""
        with transaction(self._sessions) as session:
            command = service.get_command(session, command_id, utcnow())
            if command.status in service.OPEN:
                return None
            return Outcome(command.status, command.detail, command.result)

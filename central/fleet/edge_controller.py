"""A vendor's fleet controller reached through the edge: device commands down, events back.

Every call of `ControllerLink` (GoTo, Cancel, Pause, Charge, SetLoaded) becomes a command to
the controller's device (`kind: opcua_agv` on an edge agent), stored and published like
`POST /api/v1/commands` does (`central/stations/link.py`); the edge calls the OPC UA method and
answers with the command result. Calls of one vehicle go one after the other (the next is sent
when the previous one has its result); vehicles do not wait for each other. State comes back as
the `agv.state` events the edge uplinks: central's ingest keeps them in `device_events` and,
once a batch is committed, hands them to this module's listener (`central.ingest.handlers.
listen`), which passes its vehicles' states to the link at once, as it does the controller's
`device.status` (offline: its vehicles are CONNECTIONBROKEN). At start the newest stored ones
are read once (what came before this process listened).
Slower than calling the controller from this process (a command round trip, the uplink batch
delay and the ingest commit), which the fleet's release rule absorbs: vehicles only wait longer.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.db.engine import transaction
from central.db.tables import DeviceEvent
from central.fleet.controller_link import ConnectionHandler, ControllerLink, StateHandler
from central.ingest.handlers import listen
from central.stations.manager import ArmCommands

logger = logging.getLogger(__name__)

AGV_STATE = "agv.state"
DEVICE_STATUS = "device.status"
_Item = tuple[str, dict[str, Any], Callable[[bool], None]] | None


class EdgeController:
    """The vehicles of controller `device`, driven with commands through its edge."""

    def __init__(
        self,
        device: str,
        serials: list[str],
        commands: ArmCommands,
        sessions: sessionmaker[Session],
        on_state: StateHandler,
        on_connection: ConnectionHandler | None = None,
        *,
        poll_s: float = 0.05,
        deadline_s: float = 10.0,
    ) -> None:
        self.device, self.serials = device, list(serials)
        self._serials = frozenset(serials)
        self._commands, self._sessions = commands, sessions
        self.poll_s, self.deadline_s = poll_s, deadline_s
        self.link = ControllerLink(self._enqueue, on_state, on_connection)
        self.failed_calls: list[tuple[str, str]] = []
        self._queues: dict[str, queue.Queue[_Item]] = {}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._online: bool | None = None  # the controller, as its edge last reported it
        self._events = threading.Lock()  # ingest threads and the catch-up read take turns
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> None:
        """Listen to ingest, then catch up from the event log (call workers start with their
        first call)."""
        self._stop.clear()
        self._unsubscribe = [
            listen(AGV_STATE, self._on_event),
            listen(DEVICE_STATUS, self._on_event),
        ]
        try:
            self._read_states()
        except Exception:
            logger.exception("reading the stored agv.state events of %s failed", self.device)

    def stop(self) -> None:
        """Stop listening and calling."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._stop.set()
        with self._lock:
            for q in self._queues.values():
                q.put(None)
        for thread in self._threads:
            thread.join(5)
        self._threads = []

    def _enqueue(self, method: str, params: dict[str, Any], done: Callable[[bool], None]) -> None:
        serial = str(params.get("serial", ""))
        with self._lock:
            q = self._queues.get(serial)
            if q is None:
                q = self._queues[serial] = queue.Queue()
                worker = threading.Thread(
                    target=self._work, args=(q,), name=f"{self.device}-{serial}", daemon=True
                )
                self._threads.append(worker)
                worker.start()
        q.put((method, params, done))

    def _work(self, q: queue.Queue[_Item]) -> None:
        while (item := q.get()) is not None:
            method, params, done = item
            ok, why = False, "stopped"
            try:
                command_id = self._commands.send(self.device, method, params, self.deadline_s)
                while not self._stop.is_set():
                    outcome = self._commands.outcome(command_id)
                    if outcome is not None:
                        ok, why = outcome.status == "ok", outcome.detail or outcome.status
                        break
                    self._stop.wait(self.poll_s)
            except Exception as exc:  # no edge serves it, unknown device
                why = str(exc)
            if not ok and not self._stop.is_set():
                logger.warning(
                    "%s(%s) on %s failed: %s", method, params.get("serial"), self.device, why
                )
                self.failed_calls.append((method, why))
            done(ok)

    def _on_event(self, edge_id: str, event: dict[str, Any]) -> None:
        """A committed event from ingest: our vehicles' states, our controller's status."""
        data = event.get("data")
        if not isinstance(data, dict) or self._stop.is_set():
            return
        if event["type"] == AGV_STATE and event.get("source") in self._serials:
            with self._events:
                self.link.on_agv_state(dict(data))
        elif event["type"] == DEVICE_STATUS and event.get("source") == self.device:
            with self._events:
                self._controller_online(bool(data.get("online")))

    def _controller_online(self, online: bool) -> None:
        if online != self._online:
            changed = self._online is not None or not online
            self._online = online
            if changed:
                self.link.on_controller(online)

    def _read_states(self) -> None:
        fresh: list[dict[str, Any]] = []
        with transaction(self._sessions) as session:
            status = session.scalars(
                select(DeviceEvent.data)
                .where(DeviceEvent.type == DEVICE_STATUS, DeviceEvent.source == self.device)
                .order_by(DeviceEvent.ts.desc(), DeviceEvent.seq.desc(), DeviceEvent.idx.desc())
                .limit(1)
            ).first()
            for serial in self.serials:
                row = session.execute(
                    select(
                        DeviceEvent.data,
                        DeviceEvent.ts,
                        DeviceEvent.edge_id,
                        DeviceEvent.epoch,
                        DeviceEvent.seq,
                        DeviceEvent.idx,
                    )
                    .where(DeviceEvent.type == AGV_STATE, DeviceEvent.source == serial)
                    .order_by(DeviceEvent.ts.desc(), DeviceEvent.seq.desc(), DeviceEvent.idx.desc())
                    .limit(1)
                ).first()
                if row is not None:
                    fresh.append(dict(row[0]))
        with self._events:
            if isinstance(status, dict):
                self._controller_online(bool(status.get("online")))
            for data in fresh:
                self.link.on_agv_state(data)

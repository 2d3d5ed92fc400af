"""A vendor's fleet controller reached through the edge: device commands down, events back.

Every call of `ControllerLink` (GoTo, Cancel, Pause, Charge, SetLoaded) becomes a command to
the controller's device (`kind: opcua_agv` on an edge agent), stored and published like
`POST /api/v1/commands` does (`central/stations/link.py`); the edge calls the OPC UA method and
answers with the command result. Calls of one vehicle go one after the other (the next is sent
when the previous one has its result); vehicles do not wait for each other. State comes back as
the `agv.state` events the edge uplinks: central's ingest keeps them in `device_events`, and
this module reads the newest one of every vehicle every `poll_s` and hands it to the link,
and the newest `device.status` of the controller (offline: its vehicles are CONNECTIONBROKEN).
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
        self._commands, self._sessions = commands, sessions
        self.poll_s, self.deadline_s = poll_s, deadline_s
        self.link = ControllerLink(self._enqueue, on_state, on_connection)
        self.failed_calls: list[tuple[str, str]] = []
        self._queues: dict[str, queue.Queue[_Item]] = {}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[Any, ...]] = {}
        self._online: bool | None = None  # the controller, as its edge last reported it

    def start(self) -> None:
        """Start reading states (call workers start with their first call)."""
        self._stop.clear()
        poller = threading.Thread(target=self._poll, name=f"{self.device}-states", daemon=True)
        self._threads.append(poller)
        poller.start()

    def stop(self) -> None:
        """Stop reading and calling."""
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

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self._read_states()
            except Exception:
                logger.exception("reading agv.state events of %s failed", self.device)

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
                if row is None:
                    continue
                key = tuple(row[1:])
                if self._seen.get(serial) != key:
                    self._seen[serial] = key
                    fresh.append(dict(row[0]))
        online = bool(status.get("online")) if isinstance(status, dict) else None
        if online is not None and online != self._online:
            changed = self._online is not None or not online
            self._online = online
            if changed:
                self.link.on_controller(online)
        for data in fresh:
            self.link.on_agv_state(data)

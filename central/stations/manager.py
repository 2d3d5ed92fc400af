"""Pick tasks for robot-arm stations: one cycle at a time per station, bounded retries.

Every task becomes a command to the station's arm (action `PickAndPlace`, params sku, qty,
tote), sent through `ArmCommands` (in production: central's command table and the MQTT edge
link, see `central/stations/link.py`). The edge calls the OPC UA method and answers with a
command result. A result other than `ok` (a failed grasp, a dropped item, a refused call, a
timeout) is a failed attempt: it is recorded with its reason and the task is tried again, up to
`max_attempts`; then the task becomes an `exception` that waits for a supervisor (`retry`
queues it again, `cancel` drops it). With a store (`central/stations/store.py`) every change
is saved; after a restart `restore()` brings back unfinished tasks, a running one still waiting
for the outcome of its command.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from central.stations.store import PickTaskStore

logger = logging.getLogger(__name__)

TaskStatus = Literal["pending", "running", "done", "exception", "cancelled"]
ACTION = "PickAndPlace"


@dataclass(frozen=True)
class Outcome:
    """A finished command: status (`ok`, `error`, `timeout`, `rejected`), detail, result."""

    status: str
    detail: str | None = None
    result: dict[str, Any] | None = None


class ArmCommands(Protocol):
    """How the manager reaches the arms: send a command, read its outcome (None while open)."""

    def send(self, target: str, action: str, params: dict[str, Any], deadline_s: float) -> str: ...

    def outcome(self, command_id: str) -> Outcome | None: ...


class UnknownTask(KeyError):
    """No pick task with that id."""


class TaskStateError(ValueError):
    """The task is not in a state that allows the request."""


@dataclass
class Attempt:
    """One command sent for a task and how it ended."""

    command_id: str
    started_at: datetime
    status: str = "running"
    detail: str | None = None
    cycle_ms: float | None = None

    def record(self) -> dict[str, Any]:
        """The attempt as JSON (stored with its task)."""
        return {
            "command_id": self.command_id,
            "started_at": self.started_at.isoformat(),
            "status": self.status,
            "detail": self.detail,
            "cycle_ms": self.cycle_ms,
        }

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> Attempt:
        """An attempt read back from the store."""
        return cls(
            r["command_id"],
            datetime.fromisoformat(r["started_at"]),
            r.get("status", "running"),
            r.get("detail"),
            r.get("cycle_ms"),
        )


@dataclass
class PickTask:
    """Pick `qty` of `sku` into `tote` at station (arm device) `station`."""

    id: str
    station: str
    sku: str
    qty: int
    tote: str
    status: TaskStatus = "pending"
    attempts: list[Attempt] = field(default_factory=list)
    reason: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    source: str | None = None  # what created it, e.g. "pick_line:42" (unique)
    transport_task: str | None = None  # the fleet task that takes the tote on

    def _fields(self) -> dict[str, Any]:
        """The fields the stored row and the API view share."""
        return {
            "id": self.id,
            "station": self.station,
            "sku": self.sku,
            "qty": self.qty,
            "tote": self.tote,
            "status": self.status,
        }

    def record(self) -> dict[str, Any]:
        """The task as a `station_tasks` row."""
        return {
            **self._fields(),
            "attempts": [a.record() for a in self.attempts],
            "reason": self.reason,
            "source": self.source,
            "transport_task": self.transport_task,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
        }

    def public(self) -> dict[str, Any]:
        """The task as the API shows it."""
        return {
            **self._fields(),
            "reason": self.reason,
            "attempts": [
                {
                    "command_id": a.command_id,
                    "status": a.status,
                    "detail": a.detail,
                    "cycle_ms": a.cycle_ms,
                }
                for a in self.attempts
            ],
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "source": self.source,
            "transport_task": self.transport_task,
        }


class StationManager:
    """Pick tasks per station, sent one at a time; failed attempts retried, then escalated."""

    def __init__(
        self,
        commands: ArmCommands,
        *,
        max_attempts: int = 3,
        deadline_s: float = 60.0,
        poll_s: float = 0.1,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        store: PickTaskStore | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._commands = commands
        self.max_attempts = max_attempts
        self.deadline_s = deadline_s
        self.poll_s = poll_s
        self._clock = clock
        self.store = store
        self._tasks: dict[str, PickTask] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- requests -------------------------------------------------------------------------

    def add_task(
        self, station: str, sku: str, qty: int, tote: str, source: str | None = None
    ) -> PickTask:
        """Queue a pick task at a station (saved before it is returned)."""
        with self._lock:
            task = PickTask(f"pick-{next(self._ids):06d}", station, sku, qty, tote, source=source)
            task.created_at = self._clock()
            self._save(task)
            self._tasks[task.id] = task
            return task

    def restore(self) -> int:
        """Reload the store's unfinished tasks (after a restart); how many came back."""
        if self.store is None:
            return 0
        with self._lock:
            self._ids = itertools.count(self.store.highest_number() + 1)
            rows = self.store.load_unfinished()
            for r in rows:
                task = PickTask(
                    r["id"],
                    r["station"],
                    r["sku"],
                    r["qty"],
                    r["tote"],
                    status=r["status"],
                    attempts=[Attempt.from_record(a) for a in r["attempts"] or []],
                    reason=r["reason"],
                    created_at=r["created_at"],
                    finished_at=r["finished_at"],
                    source=r["source"],
                    transport_task=r["transport_task"],
                )
                if task.status == "running" and not task.attempts:
                    task.status = "pending"  # it never got a command: send it now
                self._tasks[task.id] = task
            return len(rows)

    def note_transport(self, task_ids: list[str], transport_task: str) -> None:
        """Remember the fleet task that carries these tasks' tote on (already stored)."""
        with self._lock:
            for task_id in task_ids:
                if task_id in self._tasks:
                    self._tasks[task_id].transport_task = transport_task

    def _save(self, task: PickTask) -> None:
        if self.store is not None:
            self.store.save([task.record()])

    def tasks(self, status: str | None = None) -> list[PickTask]:
        """Tasks in the order they were queued (optionally of one status)."""
        with self._lock:
            return [t for t in self._tasks.values() if status is None or t.status == status]

    def task(self, task_id: str) -> PickTask:
        """One task (UnknownTask if there is none)."""
        with self._lock:
            try:
                return self._tasks[task_id]
            except KeyError:
                raise UnknownTask(task_id) from None

    def retry(self, task_id: str) -> PickTask:
        """A supervisor sends an exception task back to the queue with fresh attempts."""
        with self._lock:
            task = self.task(task_id)
            if task.status != "exception":
                raise TaskStateError(f"task {task_id} is {task.status}, not an exception")
            task.status, task.reason, task.attempts = "pending", None, []
            self._save(task)
            return task

    def cancel(self, task_id: str) -> PickTask:
        """Drop a task that is not running."""
        with self._lock:
            task = self.task(task_id)
            if task.status not in ("pending", "exception"):
                raise TaskStateError(f"task {task_id} is {task.status}")
            task.status, task.finished_at = "cancelled", self._clock()
            self._save(task)
            return task

    def snapshot(self) -> dict[str, Any]:
        """Stations with their running task and queue length, and every task."""
        with self._lock:
            stations: dict[str, dict[str, Any]] = {}
            for task in self._tasks.values():
                entry = stations.setdefault(
                    task.station, {"station": task.station, "running": None, "queued": 0}
                )
                if task.status == "running":
                    entry["running"] = task.id
                elif task.status == "pending":
                    entry["queued"] += 1
            return {
                "stations": list(stations.values()),
                "tasks": [t.public() for t in self._tasks.values()],
            }

    # -- the work loop --------------------------------------------------------------------

    def start(self) -> None:
        """Work in a background thread until stop()."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stations", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """End the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.step()
            except Exception:  # keep serving the other stations
                logger.exception("station step failed")

    def step(self) -> None:
        """Collect finished attempts, then start the next task at every idle station."""
        with self._lock:
            running = [t for t in self._tasks.values() if t.status == "running"]
        for task in running:
            attempt = task.attempts[-1]
            outcome = self._commands.outcome(attempt.command_id)
            if outcome is not None:
                self._finish(task, attempt, outcome)
        with self._lock:
            busy = {t.station for t in self._tasks.values() if t.status == "running"}
            starting: list[PickTask] = []
            for task in self._tasks.values():
                if task.status == "pending" and task.station not in busy:
                    busy.add(task.station)
                    task.status = "running"
                    starting.append(task)
        for task in starting:
            self._send(task)

    def _send(self, task: PickTask) -> None:
        params = {"sku": task.sku, "qty": task.qty, "tote": task.tote}
        try:
            command_id = self._commands.send(task.station, ACTION, params, self.deadline_s)
        except Exception as exc:  # no edge, unknown device: a failed attempt as well
            with self._lock:
                attempt = Attempt(f"unsent-{len(task.attempts) + 1}", self._clock())
                task.attempts.append(attempt)
            self._finish(task, attempt, Outcome("rejected", str(exc)))
            return
        with self._lock:
            task.attempts.append(Attempt(command_id, self._clock()))
            self._save(task)

    def _finish(self, task: PickTask, attempt: Attempt, outcome: Outcome) -> None:
        with self._lock:
            attempt.status, attempt.detail = outcome.status, outcome.detail
            cycle = (outcome.result or {}).get("cycle_ms")
            attempt.cycle_ms = float(cycle) if isinstance(cycle, int | float) else None
            if task.status != "running":
                return
            if outcome.status == "ok":
                task.status, task.reason, task.finished_at = "done", None, self._clock()
                self._save(task)
                return
            reason = outcome.detail or outcome.status
            logger.warning(
                "pick %s at %s failed (attempt %d/%d): %s",
                task.id,
                task.station,
                len(task.attempts),
                self.max_attempts,
                reason,
            )
            if len(task.attempts) < self.max_attempts:
                task.status = "pending"  # tried again next step, ahead of later tasks
            else:
                task.status, task.reason = "exception", reason
                logger.error("pick %s at %s needs a supervisor: %s", task.id, task.station, reason)
            self._save(task)

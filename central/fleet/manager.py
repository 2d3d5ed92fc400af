"""The fleet manager: assigns tasks, plans conflict-free paths, releases them stepwise, reacts.

It runs `tick()` on a clock of simulated (or real) seconds; vehicle reports arrive through
`on_state` / `on_connection` from any thread and are applied at the next tick.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from central.fleet.domain import (
    FleetNode,
    Leg,
    TaskKind,
    TaskStatus,
    TransportTask,
    Vehicle,
    VehicleLink,
    VehicleStatus,
)
from central.fleet.layout import DOCK, LANE, PACK, PICK, RESERVE, Layout
from central.fleet.traffic import Traffic
from optimization.agv_assignment import assign_tasks

if TYPE_CHECKING:
    from central.fleet.store import TaskStore

logger = logging.getLogger(__name__)


class FleetStateError(Exception):
    """The fleet is not in a state that allows this action (an HTTP 409)."""


class TaskStateError(FleetStateError):
    """The task is not in a state that allows this action."""


class BlockStateError(FleetStateError):
    """The vehicle or node is not in a state that allows this action."""


@dataclass(frozen=True)
class FleetConfig:
    """Timing and policies of the fleet."""

    step_s: float = 1.0  # simulated seconds per plan step (cell length / speed)
    lookahead: int = 2  # steps before its planned time a node may be released
    max_base: int = 3  # released nodes ahead of the vehicle at most
    low_battery_pct: float = 25.0  # below this a vehicle goes home to charge
    resume_pct: float = 80.0  # charged enough to work again
    top_up_pct: float = 95.0  # idle vehicles at home charge below this
    stale_state_s: float = 75.0  # online but no state for this long: stale (0: off)
    no_progress_s: float = 30.0  # driving without reaching a node for this long: stale (0: off)


class FleetManager:
    """Vehicles, tasks, traffic and their VDA 5050 orders."""

    def __init__(
        self,
        layout: Layout,
        link: VehicleLink,
        clock: Callable[[], float],
        homes: dict[str, str],
        config: FleetConfig | None = None,
        store: TaskStore | None = None,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.layout, self.link, self.clock = layout, link, clock
        self.store, self.wall = store, wall
        self._dirty: set[str] = set()  # tasks changed since the last save
        # order ids differ from an earlier run's: a vehicle still holding `agv01-1` from before
        # a restart would take a new `agv01-1` for an update of it and refuse it
        self._run = format(int(wall().timestamp()) % 36**4, "x")
        self.config = config or FleetConfig()
        self.traffic = Traffic(layout.grid, lookahead=self.config.lookahead)
        self.vehicles: dict[str, Vehicle] = {}
        self.tasks: dict[str, TransportTask] = {}
        self.locked: dict[int, str] = {}  # station cell -> task id
        self.paused = False
        self.estopped = False
        self._resetting = False
        self._inbox: list[tuple[str, str, Any]] = []
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self.plan_ms: list[float] = []
        self.plan_failures = 0
        self.events: list[tuple[float, str, str]] = []  # (t, vehicle or task, what)
        self._blocked_by: dict[str, set[int]] = {}  # out-of-service vehicle -> cells it holds
        self._obstacles: dict[int, str] = {}  # blocked cell -> the vehicle that reported it
        self._sent: dict[str, tuple[Any, ...]] = {}
        now = self._step()
        for serial, node in homes.items():
            cell = layout.cell_of(node)
            self.vehicles[serial] = Vehicle(serial, cell, cell, position=layout.position(cell))
            self.traffic.park(serial, cell, now)

    # --- inputs (any thread) ---------------------------------------------------------------
    def on_state(self, serial: str, state: dict[str, Any]) -> None:
        """A VDA 5050 state message arrived."""
        with self._lock:
            self._inbox.append((serial, "state", state))

    def on_connection(self, serial: str, connection_state: str) -> None:
        """A VDA 5050 connection message arrived (ONLINE, OFFLINE, CONNECTIONBROKEN)."""
        with self._lock:
            self._inbox.append((serial, "connection", connection_state))

    def submit(
        self,
        kind: TaskKind,
        source: str,
        dest: str,
        load_id: str = "",
        origin: str | None = None,
    ) -> TransportTask:
        """Queue a transport task between two station nodes (saved at the next tick)."""
        src, dst = self.layout.cell_of(source), self.layout.cell_of(dest)
        expected = {TaskKind.TOTE: (PICK, PACK), TaskKind.PALLET: (DOCK, RESERVE)}[kind]
        if (self.layout.kind(src), self.layout.kind(dst)) != expected:
            raise ValueError(f"a {kind} task goes from a {expected[0]} to a {expected[1]} node")
        with self._lock:
            task = TransportTask(
                f"T{next(self._ids):05d}",
                kind,
                src,
                dst,
                load_id or "",
                created_s=self.clock(),
                origin=origin,
                created_at=self.wall(),
            )
            if not task.load_id:
                task.load_id = task.id
            self.tasks[task.id] = task
            self._dirty.add(task.id)
            self._flush()  # stored before anyone is told it exists
            return task

    def save(self) -> None:
        """Store the tasks changed since the last tick (at shutdown)."""
        with self._lock:
            self._flush()

    def restore(self) -> int:
        """Reload the store's unfinished tasks and queue them again (after a restart)."""
        if self.store is None:
            return 0
        with self._lock:
            self._ids = itertools.count(self.store.highest_number() + 1)
            restored = 0
            for r in self.store.load_unfinished():
                try:
                    src, dst = self.layout.cell_of(r["source"]), self.layout.cell_of(r["dest"])
                except KeyError:  # the layout changed under it: it cannot run any more
                    self.store.save([{**r, "status": TaskStatus.FAILED.value, "vehicle": None}])
                    self._log(r["id"], "not restored: its stations are not on the map")
                    continue
                task = TransportTask(
                    r["id"],
                    TaskKind(r["kind"]),
                    src,
                    dst,
                    r["load_id"],
                    attempts=r["attempts"],
                    created_s=self.clock(),
                    vehicles=list(r["vehicles"] or []),
                    origin=r["origin"],
                    created_at=r["created_at"],
                )
                self.tasks[task.id] = task
                self._dirty.add(task.id)
                restored += 1
                if r["status"] == TaskStatus.NEEDS_RECOVERY.value:  # the load is still out there
                    task.status, task.vehicle = TaskStatus.NEEDS_RECOVERY, r["vehicle"]
                    task.alarm = f"load {task.load_id} was left on vehicle {r['vehicle']}"
                    self._log(task.id, "restored, still needs recovery")
                    continue
                self._log(task.id, f"restored (was {r['status']}), queued again")
            self._flush()
            return restored

    def recover(self, task_id: str, node: str) -> TransportTask:
        """The load of a task that needs recovery is at `node` now: carry it on from there."""
        cell = self.layout.cell_of(node)  # KeyError: not on the map
        with self._lock:
            task = self._needing_recovery(task_id)
            task.source, task.status, task.vehicle, task.alarm = (
                cell,
                TaskStatus.PENDING,
                None,
                None,
            )
            task.created_s = self.clock()
            self._dirty.add(task.id)
            self._log(task.id, f"load {task.load_id} recovered at {node}: a new leg from there")
            self._flush()
            return task

    def cancel(self, task_id: str) -> TransportTask:
        """Drop a task that is pending or needs recovery (the load is dealt with by hand)."""
        with self._lock:
            task = self.tasks.get(task_id)
            if task is None:
                raise KeyError(f"no task {task_id}")
            if task.status not in (TaskStatus.PENDING, TaskStatus.NEEDS_RECOVERY):
                raise TaskStateError(
                    f"task {task_id} is {task.status.value}: it cannot be cancelled"
                )
            task.status, task.vehicle, task.alarm = TaskStatus.CANCELLED, None, None
            task.done_s, task.done_at = self.clock(), self.wall()
            self._unlock(task)
            self._dirty.add(task.id)
            self._log(task.id, "cancelled by a supervisor")
            self._flush()
            return task

    def vehicle_removed(self, serial: str) -> Vehicle:
        """An out-of-service vehicle was taken off the floor: the nodes it held are free again."""
        with self._lock:
            v = self.vehicles.get(serial)
            if v is None:
                raise KeyError(f"no vehicle {serial}")
            if v.online and not v.stale:
                raise BlockStateError(
                    f"vehicle {serial} is in service ({v.status.value}): only a vehicle that is "
                    "offline, stale or in error can be reported removed"
                )
            cells = self._blocked_by.pop(serial, set())
            self._unblock(cells)
            self._log(serial, f"removed from the floor by a supervisor: {len(cells)} node(s) free")
            return v

    def clear_node(self, node: str) -> None:
        """The obstacle a vehicle reported on `node` is gone: plans may use it again."""
        cell = self.layout.cell_of(node)  # KeyError: not on the map
        with self._lock:
            if cell not in self._obstacles:
                holder = next((s for s, c in self._blocked_by.items() if cell in c), None)
                if holder is not None:
                    raise BlockStateError(
                        f"{node} is held by vehicle {holder} ({self.vehicles[holder].status.value})"
                        f": report the vehicle removed instead"
                    )
                raise BlockStateError(f"{node} is not blocked by an obstacle")
            del self._obstacles[cell]
            self._unblock({cell})
            self._log(node, "obstacle cleared by a supervisor")

    def _unblock(self, cells: set[int]) -> None:
        """Free cells, except those an obstacle or another vehicle out of service still holds."""
        held = set(self._obstacles).union(*self._blocked_by.values())
        self.traffic.blocked -= cells - held

    def _needing_recovery(self, task_id: str) -> TransportTask:
        task = self.tasks.get(task_id)
        if task is None:
            raise KeyError(f"no task {task_id}")
        if task.status != TaskStatus.NEEDS_RECOVERY:
            raise TaskStateError(f"task {task_id} is {task.status.value}, not needs_recovery")
        return task

    def pause_all(self) -> None:
        """Every vehicle pauses (startPause); nothing new is released."""
        with self._lock:
            self.paused = True
            for v in self._online():
                self.link.instant(v.serial, "startPause")

    def resume_all(self) -> None:
        """Every vehicle resumes (stopPause)."""
        with self._lock:
            self.paused = False
            for v in self._online():
                self.link.instant(v.serial, "stopPause")

    def emergency_stop(self) -> None:
        """Every vehicle cancels its order and stops at its next node; dispatch halts."""
        with self._lock:
            self.estopped = True
            for v in self._online():
                self.link.instant(v.serial, "cancelOrder")
                self.link.forget_order(v.serial)

    def release_emergency_stop(self) -> None:
        """Start again: once every vehicle stands still, plans restart from where they are."""
        with self._lock:
            self.estopped = False
            self._resetting = True

    # --- the loop --------------------------------------------------------------------------
    def tick(self) -> None:
        """Apply reports, handle upsets, assign, plan, release, send order updates, save tasks."""
        with self._lock:
            try:
                self._tick()
            finally:
                self._flush()

    def _tick(self) -> None:
        inbox, self._inbox = self._inbox, []
        for serial, kind, body in inbox:
            if serial not in self.vehicles:
                continue
            if kind == "state":
                self._apply_state(self.vehicles[serial], body)
            else:
                self._apply_connection(self.vehicles[serial], body)
        self._check_stuck()
        if self.estopped:
            return
        if self._resetting:
            if any(v.driving for v in self._online()):
                return
            self._reset()
        now = self._step()
        self._resume_held_loads()
        self._assign()
        self._charging_policy()
        for v in self.vehicles.values():
            if v.online and v.needs_plan and v.legs and not v.await_stop:
                self._plan(v, now)
        if not self.paused:
            for v in self.vehicles.values():
                if v.online and v.serial in self.traffic.plans:
                    self._release(v, now)

    def run(self, stop: threading.Event, period_s: float = 0.01) -> None:
        """Tick until `stop` is set (the real-time loop of a deployment or a test)."""
        while not stop.is_set():
            try:
                self.tick()
            except Exception:
                logger.exception("fleet tick failed")
            stop.wait(period_s)

    # --- views (API) -----------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Vehicles with positions and planned paths, tasks, and fleet flags (for a live map)."""
        with self._lock:
            return {
                "paused": self.paused,
                "emergency_stop": self.estopped,
                "vehicles": [self.vehicle_view(v) for v in self.vehicles.values()],
                "tasks": [self.task_view(t) for t in self.tasks.values()],
                "alarms": self._alarms(),
                "blocked": self._blocks(),
            }

    def history(
        self, status: str | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[int, list[dict[str, Any]]]:
        """Tasks newest first, from the store (every run) when there is one, else this run's:
        how many match and one page; tasks of this run show their live state."""
        self.save()
        page = getattr(self.store, "page", None)
        if page is None:
            with self._lock:
                views = [self.task_view(t) for t in reversed(list(self.tasks.values()))]
            views = [v for v in views if not status or v["status"] == status]
            return len(views), views[offset : offset + limit]
        total, rows = page(status, limit, offset)
        with self._lock:
            live = {
                r["id"]: self.task_view(self.tasks[r["id"]]) for r in rows if r["id"] in self.tasks
            }
        return total, [live.get(r["id"], {**r, "alarm": None}) for r in rows]

    def supervision(self) -> dict[str, list[dict[str, Any]]]:
        """What waits for a supervisor (`alarms`) and the blocked nodes (`blocked`), without
        the rest of a snapshot."""
        with self._lock:
            return {"alarms": self._alarms(), "blocked": self._blocks()}

    def _alarms(self) -> list[dict[str, Any]]:
        """Loads left on vehicles that dropped out (`load_on_vehicle`), and tasks whose stations
        a stopped vehicle or an obstacle cuts off (`blocked_way`, one per reason)."""
        alarms: list[dict[str, Any]] = [
            {
                "kind": "load_on_vehicle",
                "task_id": t.id,
                "vehicle": t.vehicle,
                "load_id": t.load_id,
                "message": t.alarm,
            }
            for t in self.tasks.values()
            if t.status == TaskStatus.NEEDS_RECOVERY
        ]
        if not self.traffic.blocked:
            return alarms
        waiting: dict[str, list[str]] = {}
        for t in self._pending():
            reason = self._blocked_way(t)
            if reason is not None:
                waiting.setdefault(reason, []).append(t.id)
        for reason, ids in waiting.items():
            alarms.append(
                {
                    "kind": "blocked_way",
                    "task_id": ids[0],
                    "task_ids": ids,
                    "message": f"{len(ids)} task(s) wait: {reason}",
                }
            )
        return alarms

    def _blocks(self) -> list[dict[str, Any]]:
        """Blocked nodes and what holds them (a vehicle out of service or an obstacle)."""
        node = self.layout.node_id
        held = [
            {"node": node(c), "vehicle": serial, "kind": "vehicle"}
            for serial, cells in self._blocked_by.items()
            for c in sorted(cells)
        ]
        obstacles = [
            {"node": node(c), "vehicle": serial, "kind": "obstacle"}
            for c, serial in sorted(self._obstacles.items())
        ]
        return held + obstacles

    def _waiting(self, t: TransportTask) -> str | None:
        """Why a pending task is not under way (None: it only waits for a free vehicle)."""
        if (reason := self._blocked_way(t)) is not None:
            return reason
        for cell in (t.source, t.dest):
            user = self.locked.get(cell)
            if user is not None and user != t.id:
                return f"{self.layout.node_id(cell)} is in use by task {user}"
        return None

    def _blocked_way(self, t: TransportTask) -> str | None:
        """How blocked nodes keep a pending task from running, if they do."""
        if not self.traffic.blocked:
            return None
        node = self.layout.node_id
        for cell in (t.source, t.dest):
            if cell in self.traffic.blocked:
                return f"{node(cell)} is blocked by {self._holder(cell)}"
        dist = self.traffic.distances(t.source)
        if dist[t.dest] < 0:
            return f"{node(t.dest)} cannot be reached from {node(t.source)}: {self._cut_by(dist)}"
        if not any(dist[v.cell] >= 0 for v in self._online()):
            return f"no vehicle in service can reach {node(t.source)}: {self._cut_by(dist)}"
        return None

    def _cut_by(self, dist: list[int]) -> str:
        """Who holds the blocked cells that border the region `dist` reaches."""
        nbrs = self.layout.grid.neighbours
        border = [c for c in self.traffic.blocked if any(dist[n] >= 0 for n in nbrs[c])]
        return "the way is blocked by " + ", ".join(sorted({self._holder(c) for c in border}))

    def _holder(self, cell: int) -> str:
        if cell in self._obstacles:
            return (
                f"an obstacle at {self.layout.node_id(cell)} (reported by {self._obstacles[cell]})"
            )
        for serial, cells in self._blocked_by.items():
            if cell in cells:
                return f"{serial} ({self.vehicles[serial].status.value})"
        return "a block"

    def vehicle_view(self, v: Vehicle) -> dict[str, Any]:
        """One vehicle as JSON."""
        return {
            "serial": v.serial,
            "status": v.status.value,
            "online": v.online,
            "node": self.layout.node_id(v.cell),
            "x": v.position[0],
            "y": v.position[1],
            "battery_pct": v.battery,
            "charging": v.charging,
            "loaded": v.loaded,
            "task_id": v.task_id,
            "order_id": v.order_id,
            "path": [self.layout.node_id(c) for c in self.traffic.route(v.serial)],
            "errors": list(v.errors),
        }

    def _task_fields(self, t: TransportTask) -> dict[str, Any]:
        """The fields a task's JSON view and its `fleet_tasks` row share."""
        return {
            "id": t.id,
            "kind": t.kind.value,
            "source": self.layout.node_id(t.source),
            "dest": self.layout.node_id(t.dest),
            "load_id": t.load_id,
            "status": t.status.value,
            "vehicle": t.vehicle,
            "vehicles": list(t.vehicles),
            "attempts": t.attempts,
            "origin": t.origin,
        }

    def task_view(self, t: TransportTask) -> dict[str, Any]:
        """One task as JSON (`waiting`: why a pending task is not under way yet)."""
        return {
            **self._task_fields(t),
            "created_s": t.created_s,
            "done_s": t.done_s,
            "created_at": t.created_at,
            "done_at": t.done_at,
            "alarm": t.alarm,
            "waiting": self._waiting(t) if t.status == TaskStatus.PENDING else None,
        }

    def task_record(self, t: TransportTask) -> dict[str, Any]:
        """One task as a `fleet_tasks` row."""
        return {
            **self._task_fields(t),
            "created_at": t.created_at or self.wall(),
            "assigned_at": t.assigned_at,
            "done_at": t.done_at,
        }

    # --- internals -------------------------------------------------------------------------
    def _step(self) -> int:
        return int(self.clock() / self.config.step_s)

    def _online(self) -> list[Vehicle]:
        return [v for v in self.vehicles.values() if v.online and not v.stale]

    def _flush(self) -> None:
        """Save the tasks changed since the last save (kept for the next tick if that fails)."""
        if self.store is None or not self._dirty:
            return
        records = [self.task_record(self.tasks[i]) for i in sorted(self._dirty) if i in self.tasks]
        try:
            self.store.save(records)
        except Exception:
            logger.exception("could not save %d fleet task(s); retrying", len(records))
            return
        self._dirty.clear()

    def _check_stuck(self) -> None:
        """Take silent vehicles and vehicles driving without progress out of service.

        Time is measured up to the freshest state of the whole fleet, not the clock: when our
        own intake lags (a busy host, a slow broker) every vehicle looks silent at once, and
        that is not their fault. So one vehicle alone is never found stale, and detection can
        take up to one state interval of the others longer than the threshold.
        """
        cfg = self.config
        reports = [v.last_state_s for v in self.vehicles.values() if v.online and v.seen]
        if not reports:
            return
        now = max(reports)
        for v in self.vehicles.values():
            if not v.online or v.stale or not v.seen:
                continue
            if cfg.stale_state_s > 0 and now - v.last_state_s > cfg.stale_state_s:
                self._take_out_stale(v, f"no state for {now - v.last_state_s:.0f} s")
            elif (
                cfg.no_progress_s > 0
                and v.driving
                and not v.paused
                and not self.paused
                and now - v.last_progress_s > cfg.no_progress_s
            ):
                stuck_s = now - v.last_progress_s
                self._take_out_stale(v, f"driving without progress for {stuck_s:.0f} s")

    def _take_out_stale(self, v: Vehicle, why: str) -> None:
        v.stale = True
        self._out_of_service(v, VehicleStatus.STALE, f"stale: {why}")
        self._cancel_stale(v)

    def _cancel_stale(self, v: Vehicle) -> None:
        v.stale_cancel_s = self.clock()
        try:
            self.link.instant(v.serial, "cancelOrder")
        except Exception as exc:  # it may not hear us anyway; tried again on its next state
            logger.warning("could not cancel the order of stale %s: %s", v.serial, exc)
        self.link.forget_order(v.serial)

    def _out_of_service(self, v: Vehicle, status: VehicleStatus, why: str) -> None:
        """Its node and released nodes are blocked, its task goes to another vehicle."""
        v.status = status
        self._log(v.serial, why)
        released = self.traffic.drop(v.serial)
        cells = {v.cell, *(x.cell for x in released)}
        self._blocked_by.setdefault(v.serial, set()).update(cells)
        self.traffic.blocked |= cells
        self._requeue(v, f"vehicle {v.serial} is {status.value}")
        v.order_id, v.action_id, v.await_stop = "", None, False
        for other in self.traffic.touching(cells):
            self.vehicles[other].needs_plan = True

    def _back_in_service(self, v: Vehicle, cell: int) -> None:
        v.status, v.stale, v.cell = VehicleStatus.IDLE, False, cell
        self._unblock(self._blocked_by.pop(v.serial, set()))
        self.traffic.park(v.serial, cell, self._step())
        self.link.forget_order(v.serial)

    def _log(self, who: str, what: str) -> None:
        self.events.append((self.clock(), who, what))
        logger.info("%s: %s", who, what)

    def _apply_connection(self, v: Vehicle, state: str) -> None:
        if state == "ONLINE":
            if not v.online:
                v.online = True
                v.seen = False  # it may have driven on: its next state places it again
                v.last_state_s = v.last_progress_s = self.clock()
                self._back_in_service(v, v.cell)
                self._log(v.serial, "back online")
            if not v.seen:  # its last state went out before we listened: ask for one
                self.link.instant(v.serial, "stateRequest")
            return
        if not v.online:
            return
        v.online = False
        v.stale = False
        self._out_of_service(v, VehicleStatus.OFFLINE, f"connection {state}")

    def _requeue(self, v: Vehicle, why: str) -> None:
        task = self.tasks.get(v.task_id or "")
        picking = (
            task is not None
            and task.status == TaskStatus.ASSIGNED
            and (task.load_id in v.load_ids or (v.action_running and v.cell == task.source))
        )
        if task is not None and (task.status == TaskStatus.CARRYING or picking):
            # the load is (or may be) on the vehicle: restarting at the source may fetch nothing
            task.status = TaskStatus.NEEDS_RECOVERY
            task.alarm = (
                f"load {task.load_id} may be on vehicle {v.serial} or still at "
                f"{self.layout.node_id(task.source)} (it dropped out during the pick): {why}"
                if picking
                else f"load {task.load_id} is on vehicle {v.serial}: {why}"
            )
            v.held_load = True
            self._dirty.add(task.id)
            self._unlock(task)
            self._log(task.id, f"needs recovery: {task.alarm}")
        elif task is not None and task.status not in (TaskStatus.DONE, TaskStatus.FAILED):
            task.status = TaskStatus.PENDING
            task.vehicle = None
            self._dirty.add(task.id)
            self._unlock(task)
            self._log(task.id, f"reassigning: {why}")
        v.task_id = None
        v.legs = []
        v.needs_plan = False

    def _unlock(self, task: TransportTask) -> None:
        for cell in (task.source, task.dest):
            if self.locked.get(cell) == task.id:
                del self.locked[cell]

    def _apply_state(self, v: Vehicle, s: dict[str, Any]) -> None:
        now = self.clock()
        first, v.seen = not v.seen, True
        v.last_state_s = now
        v.battery = float(s["batteryState"]["batteryCharge"])
        v.charging = bool(s["batteryState"]["charging"])
        v.driving = bool(s["driving"])
        v.paused = bool(s.get("paused", False))
        if not v.driving or v.paused:
            v.last_progress_s = now  # the no-progress timer runs only while it drives
        pos = s.get("agvPosition")
        if pos:
            v.position = (float(pos["x"]), float(pos["y"]))
        v.errors = [e["errorType"] for e in s.get("errors", [])]
        v.load_ids = tuple(str(load.get("loadId", "")) for load in s.get("loads") or ())
        v.held_load = v.held_load and v.loaded
        if not v.online:
            return
        fatal = [e["errorType"] for e in s.get("errors", []) if e.get("errorLevel") == "FATAL"]
        if fatal and not v.stale:
            v.stale = True  # out of service like a stale vehicle, shown as `error`
            self._out_of_service(v, VehicleStatus.ERROR, f"FATAL error {', '.join(fatal)}")
            self._cancel_stale(v)
            return
        if v.stale:
            self._stale_state(v, s)
            return
        if first:
            self._first_state(v, s)
        try:
            cell = self.layout.cell_of(s["lastNodeId"])
        except KeyError:
            return
        if v.await_stop:
            if v.driving or s["nodeStates"]:
                return
            v.await_stop = False
            v.cell = cell
            self.traffic.park(v.serial, cell, self._step())
            v.order_id, v.action_id = "", None  # its order was cancelled: the next one is new
            if v.legs:  # a new order from where it stopped
                v.needs_plan = True
            for other in self.traffic.touching({cell}, but=v.serial):
                self.vehicles[other].needs_plan = True
            return
        if s["orderId"] == v.order_id and v.order_id:
            passed = self.traffic.reached(v.serial, cell)
            if passed is not None:
                v.route_passed += passed
                if cell != v.cell:
                    v.last_progress_s = self.clock()
                v.cell = cell
        if v.action_id:
            for a in s.get("actionStates", []):
                if a["actionId"] == v.action_id and a["actionStatus"] in ("FINISHED", "FAILED"):
                    v.action_done = True
                if a["actionId"] == v.action_id:
                    v.action_running = a["actionStatus"] in ("INITIALIZING", "RUNNING")
        blocked = [e for e in s.get("errors", []) if e["errorType"] == "pathBlocked"]
        if blocked and v.status != VehicleStatus.BLOCKED and s["orderId"] == v.order_id:
            self._on_blocked(v, blocked[0])
        elif not blocked and v.status == VehicleStatus.BLOCKED:
            v.status = VehicleStatus.BUSY if v.legs else VehicleStatus.IDLE
        self._advance(v)

    def _first_state(self, v: Vehicle, s: dict[str, Any]) -> None:
        """The first word of a vehicle (at start, or after a central restart): it stands where
        it says, and an order of an earlier run is cancelled before it gets a new one."""
        try:
            cell = self.layout.cell_of(s["lastNodeId"])
        except KeyError:
            return
        if cell != v.cell and not v.legs:
            v.cell = cell
            self.traffic.park(v.serial, cell, self._step())
        if s["orderId"] and s["orderId"] != v.order_id and (v.driving or s["nodeStates"]):
            self._log(v.serial, f"still runs order {s['orderId']} of an earlier run: cancelling")
            self.link.instant(v.serial, "cancelOrder")
            self.link.forget_order(v.serial)
            v.await_stop = True

    def _stale_state(self, v: Vehicle, s: dict[str, Any]) -> None:
        """A stale vehicle reports: back in service once it stands still without an order
        (and without a FATAL error)."""
        if v.driving or s["nodeStates"]:
            if self.clock() - v.stale_cancel_s >= 1.0:
                self._cancel_stale(v)  # it may have missed the first cancelOrder
            return
        if any(e.get("errorLevel") == "FATAL" for e in s.get("errors", [])):
            return
        try:
            cell = self.layout.cell_of(s["lastNodeId"])
        except KeyError:
            return
        self._back_in_service(v, cell)
        for other in self.traffic.touching({cell}, but=v.serial):
            self.vehicles[other].needs_plan = True
        self._log(v.serial, f"reports again, standing at {s['lastNodeId']}: back in service")

    def _on_blocked(self, v: Vehicle, error: dict[str, Any]) -> None:
        refs = {r["referenceKey"]: r["referenceValue"] for r in error.get("errorReferences", [])}
        try:
            cell = self.layout.cell_of(refs.get("nodeId", ""))
        except KeyError:
            return
        self._log(v.serial, f"path blocked at {refs.get('nodeId')}; re-planning around it")
        v.status = VehicleStatus.BLOCKED
        self.traffic.blocked.add(cell)
        self._obstacles[cell] = v.serial  # until a supervisor clears it
        self._cancel_order(v)
        for other in self.traffic.touching({cell}, but=v.serial):
            self.vehicles[other].needs_plan = True
        if v.legs and v.legs[0].goal == cell:
            self._requeue(v, "its station is blocked")
        elif v.legs:
            v.needs_plan = True
            v.order_id = ""

    def _cancel_order(self, v: Vehicle) -> None:
        """Cancel the vehicle's order; once it stands still it is placed there (`await_stop`)."""
        self.link.instant(v.serial, "cancelOrder")
        self.link.forget_order(v.serial)
        v.await_stop = True

    def _advance(self, v: Vehicle) -> None:
        """Finish the current leg when the vehicle rests at its goal and its action is done."""
        if not v.legs or v.needs_plan or v.order_id == "":
            return
        leg = v.legs[0]
        plan = self.traffic.plans.get(v.serial)
        if plan is None or len(plan.visits) != 1 or v.cell != leg.goal:
            return
        if leg.action and not v.action_done:
            return
        v.legs.pop(0)
        v.action_id, v.action_done, v.action_running = None, False, False
        task = self.tasks.get(leg.task_id or "")
        now = self.clock()
        if task is not None and leg.action == "pick":
            task.status = TaskStatus.CARRYING
            self._dirty.add(task.id)
            self.locked.pop(task.source, None)
        if task is not None and leg.action == "drop":
            task.status = TaskStatus.DONE
            task.done_s, task.done_at = now, self.wall()
            self._dirty.add(task.id)
            self.locked.pop(task.dest, None)
            v.task_id = None
            self._log(task.id, f"done by {v.serial}")
        v.order_id = ""
        if v.legs:
            v.needs_plan = True
        else:
            v.status = VehicleStatus.IDLE

    def _charging_policy(self) -> None:
        for v in self._online():
            if not v.seen or v.legs or v.status in (VehicleStatus.BLOCKED, VehicleStatus.STALE):
                continue  # unseen: where it stands is not known yet
            if v.cell != v.home:
                if v.status == VehicleStatus.IDLE:
                    self._send_to_rest(v)
                continue
            if v.charging:
                v.status = (
                    VehicleStatus.CHARGING
                    if v.battery < self.config.resume_pct
                    else VehicleStatus.IDLE
                )
            elif v.battery < self.config.top_up_pct and not self.paused:
                self.link.instant(v.serial, "startCharging")
                v.charging = True
                v.status = (
                    VehicleStatus.CHARGING
                    if v.battery < self.config.resume_pct
                    else VehicleStatus.IDLE
                )

    def _send_to_rest(self, v: Vehicle) -> None:
        """An idle vehicle goes home to its charger; never rests on a station or in a lane
        others need, but when blocked nodes cut it off from home, on the nearest lane node
        whose loss cuts nobody off."""
        if not self.traffic.unreachable(v.cell, v.home):
            v.legs = [Leg(v.home, "startCharging")]
        else:
            spot = self._rest_spot(v)
            if spot == v.cell:
                return  # it rests here: idle vehicles hold their node until their next plan
            self._log(v.serial, f"cut off from its home: rests at {self.layout.node_id(spot)}")
            v.legs = [Leg(spot)]
        v.needs_plan = True
        v.status = VehicleStatus.BUSY

    def _rest_spot(self, v: Vehicle) -> int:
        """The nearest lane cell it can reach, that nobody rests on, and where standing for good
        cuts nobody off from anything (not the only way anywhere); where it stands if none."""
        kind, forever = self.layout.kind, self.traffic.forever
        dist = self.traffic.distances(v.cell)
        spots = sorted(
            (d, c)
            for c, d in enumerate(dist)
            if d >= 0 and kind(c) == LANE and forever.get(c, (0, v.serial))[1] == v.serial
        )
        for _, cell in spots[:60]:  # the nearest few: a usable spot is rarely far
            if not self.traffic.splits(cell):
                return cell
        return v.cell

    def _resume_held_loads(self) -> None:
        """A vehicle back in service with the load of its held task on board carries it on."""
        for v in self._online():
            if not v.held_load or v.legs or v.status != VehicleStatus.IDLE or not v.seen:
                continue
            task = next(
                (
                    t
                    for t in self.tasks.values()
                    if t.status == TaskStatus.NEEDS_RECOVERY
                    and t.vehicle == v.serial
                    and t.load_id in v.load_ids
                ),
                None,
            )
            if task is None or task.dest in self.locked or task.dest in self.traffic.blocked:
                continue  # a supervisor deals with it, or its destination is free later
            task.status, task.alarm = TaskStatus.CARRYING, None
            self.locked[task.dest] = task.id
            self._dirty.add(task.id)
            v.task_id, v.held_load = task.id, False
            v.legs = [Leg(task.dest, "drop", task.id)]
            v.needs_plan, v.status = True, VehicleStatus.BUSY
            self._log(task.id, f"{v.serial} is back with load {task.load_id}: carrying it on")

    def _pending(self) -> list[TransportTask]:
        return [t for t in self.tasks.values() if t.status == TaskStatus.PENDING]

    def _assign(self) -> None:
        free = [
            v
            for v in self._online()
            if v.status == VehicleStatus.IDLE
            and v.seen
            and not v.legs
            and not v.held_load  # back with the load of a held task: not before it is off
            and v.battery >= self.config.low_battery_pct
        ]
        # stations that are locked (a task uses them) or blocked wait
        busy = set(self.locked) | self.traffic.blocked
        tasks = [
            t
            for t in self._pending()
            if not {t.source, t.dest} & busy and not self.traffic.unreachable(t.source, t.dest)
        ]
        if not free or not tasks:
            return
        # one task per station pair at a time (stations are dead ends a vehicle rests on)
        chosen: list[TransportTask] = []
        used: set[int] = set()
        for t in sorted(tasks, key=lambda t: t.created_s):
            if t.source in used or t.dest in used:
                continue
            used |= {t.source, t.dest}
            chosen.append(t)
        dist = {t.source: self.traffic.distances(t.source) for t in chosen}
        cut_off = 1 << 30  # blocked cells separate them: never paired
        cost = np.array(
            [[d if (d := dist[t.source][v.cell]) >= 0 else cut_off for t in chosen] for v in free]
        )
        for vi, ti in assign_tasks(cost):
            v, t = free[vi], chosen[ti]
            if cost[vi, ti] == cut_off:
                continue
            t.status, t.vehicle = TaskStatus.ASSIGNED, v.serial
            t.attempts += 1
            t.assigned_at = self.wall()
            self._dirty.add(t.id)
            t.vehicles.append(v.serial)
            self.locked[t.source] = self.locked[t.dest] = t.id
            v.task_id = t.id
            v.legs = [Leg(t.source, "pick", t.id), Leg(t.dest, "drop", t.id)]
            v.needs_plan = True
            v.status = VehicleStatus.BUSY
            if v.charging:
                self.link.instant(v.serial, "stopCharging")
                v.charging = False
            self._log(t.id, f"assigned to {v.serial}")

    def _plan(self, v: Vehicle, now: int) -> None:
        started = time.perf_counter()
        ok = self.traffic.plan(v.serial, v.legs[0].goal, now)
        if not ok:
            self.plan_failures += 1
            if self.traffic.unreachable(v.cell, v.legs[0].goal):
                self._requeue(v, "its goal cannot be reached (blocked)")
                if v.status in (VehicleStatus.BUSY, VehicleStatus.BLOCKED):
                    v.status = VehicleStatus.IDLE  # free for work it can reach
                self._cancel_order(v)  # its next leg starts a new order from where it stops
            return  # retried at the next tick
        self.plan_ms.append((time.perf_counter() - started) * 1000)
        v.needs_plan = False
        if not v.order_id:
            v.orders += 1
            v.order_id = f"{v.serial}-{self._run}-{v.orders}"
            v.action_id = f"{v.order_id}-{v.legs[0].action}" if v.legs[0].action else None
            v.action_done = v.action_running = False
            v.route_passed = []

    def _release(self, v: Vehicle, now: int) -> None:
        if not v.legs or not v.order_id or v.needs_plan or v.await_stop:
            return
        released = self.traffic.release(v.serial, now, self.config.max_base)
        plan = self.traffic.plans[v.serial]
        sig = (v.order_id, plan.version, released, len(plan.visits), len(v.route_passed))
        if self._sent.get(v.serial) == sig:
            return  # nothing new to tell this vehicle
        self._sent[v.serial] = sig
        cells = v.route_passed + [x.cell for x in plan.visits]
        leg = v.legs[0]
        nodes = [
            self._node(c, leg if i == len(cells) - 1 else None, v) for i, c in enumerate(cells)
        ]
        try:
            self.link.send_route(v.serial, v.order_id, nodes, len(v.route_passed) + released)
        except Exception as exc:  # a broker hiccup: try again at the next tick
            self._sent.pop(v.serial, None)
            logger.warning("could not send the route of %s: %s", v.serial, exc)

    def _node(self, cell: int, leg: Leg | None, v: Vehicle) -> FleetNode:
        x, y = self.layout.position(cell)
        actions: tuple[dict[str, Any], ...] = ()
        if leg is not None and leg.action:
            params = []
            task = self.tasks.get(leg.task_id or "")
            if task is not None:
                params = [{"key": "loadId", "value": task.load_id}]
            action: dict[str, Any] = {
                "actionType": leg.action,
                "actionId": v.action_id,
                "blockingType": "HARD" if leg.action in ("pick", "drop") else "NONE",
            }
            if params:
                action["actionParameters"] = params
            actions = (action,)
        return FleetNode(self.layout.node_id(cell), x, y, actions)

    def _reset(self) -> None:
        self._resetting = False
        now = self._step()
        for v in self._online():
            self.traffic.park(v.serial, v.cell, now)
            v.order_id = ""
            if v.legs:
                v.needs_plan = True
        self._log("fleet", "restarted after emergency stop")

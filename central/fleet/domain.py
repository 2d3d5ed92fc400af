"""Fleet domain: vehicles, transport tasks and the legs of a mission (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class TaskKind(StrEnum):
    """What is carried where."""

    TOTE = "tote"  # pick station -> pack station
    PALLET = "pallet"  # dock -> reserve


class TaskStatus(StrEnum):
    """Lifecycle of a transport task."""

    PENDING = "pending"
    ASSIGNED = "assigned"
    CARRYING = "carrying"
    DONE = "done"
    FAILED = "failed"
    NEEDS_RECOVERY = "needs_recovery"  # its vehicle dropped out carrying the load
    CANCELLED = "cancelled"


class VehicleStatus(StrEnum):
    """What the fleet may ask of a vehicle."""

    IDLE = "idle"
    BUSY = "busy"
    CHARGING = "charging"
    OFFLINE = "offline"
    BLOCKED = "blocked"
    STALE = "stale"  # online but silent, or driving without progress: taken out of service
    ERROR = "error"  # reports a FATAL error: taken out of service until it is cleared


@dataclass
class TransportTask:
    """Carry one load from a source station to a destination station."""

    id: str
    kind: TaskKind
    source: int
    dest: int
    load_id: str
    status: TaskStatus = TaskStatus.PENDING
    vehicle: str | None = None
    attempts: int = 0
    created_s: float = 0.0
    done_s: float | None = None
    vehicles: list[str] = field(default_factory=list)
    origin: str | None = None  # who asked: "api", "wave:<code>", ...
    created_at: datetime | None = None  # wall clock, UTC
    assigned_at: datetime | None = None
    done_at: datetime | None = None
    alarm: str | None = None  # why it needs a supervisor (status needs_recovery)


@dataclass
class Leg:
    """Drive to `goal` and run one action there (pick, drop, startCharging or none)."""

    goal: int
    action: str | None = None
    task_id: str | None = None


@dataclass
class Vehicle:
    """One AGV as the fleet sees it."""

    serial: str
    home: int
    cell: int
    status: VehicleStatus = VehicleStatus.IDLE
    online: bool = True
    battery: float = 100.0
    charging: bool = False
    driving: bool = False
    paused: bool = False
    task_id: str | None = None
    legs: list[Leg] = field(default_factory=list)
    order_id: str = ""
    orders: int = 0
    route_passed: list[int] = field(default_factory=list)
    needs_plan: bool = False
    seen: bool = False  # a state arrived: battery and position are known
    await_stop: bool = False  # cancelled: wait until it stands still, then plan from there
    action_id: str | None = None
    action_done: bool = False
    action_running: bool = False  # its last state says the leg's action has started
    busy_s: float = 0.0
    last_progress_s: float = 0.0
    last_state_s: float = 0.0  # when the last state arrived (fleet clock)
    stale: bool = False  # silent or stuck: out of service until it stands still and reports
    stale_cancel_s: float = 0.0  # when cancelOrder was last sent to a stale vehicle
    errors: list[str] = field(default_factory=list)
    position: tuple[float, float] = (0.0, 0.0)
    load_ids: tuple[str, ...] = ()  # the loads its last state reports
    held_load: bool = False  # dropped out carrying: no new task until it reports no load

    @property
    def loaded(self) -> bool:
        """Its last state reports a load."""
        return bool(self.load_ids)


class RouteNodeLike(Protocol):
    """A node of a route (edge.vda5050.orders.RouteNode satisfies this)."""

    node_id: str
    x: float
    y: float
    actions: tuple[dict[str, Any], ...]


class VehicleLink(Protocol):
    """How the fleet talks to vehicles (the VDA 5050 master adapter, or a fake)."""

    def send_route(
        self, serial: str, order_id: str, route: list[Any], released: int
    ) -> dict[str, Any]:
        """Send an order or order update releasing the first `released` route nodes."""

    def instant(self, serial: str, action_type: str, **params: Any) -> dict[str, Any]:
        """Send one instant action."""

    def forget_order(self, serial: str) -> None:
        """The vehicle's order is gone (cancelled); the next route is a new order."""


@dataclass(frozen=True)
class FleetNode:
    """A route node as the fleet sends it: VDA 5050 nodeId, position and actions."""

    node_id: str
    x: float
    y: float
    actions: tuple[dict[str, Any], ...] = ()

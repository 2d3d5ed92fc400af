"""An AGV fleet controller of a second vendor, served over OPC UA instead of VDA 5050.

One object `ns=2;s=Fleet` (Manufacturer) with `Vehicles/<serial>` objects whose variables are
what a vendor controller typically shows: LastNodeId, X, Y, Theta, OrderId, OrderUpdateId,
Driving, Paused, BatteryPct, Charging, Loaded and Errors (comma-separated error types, all
FATAL). Methods on `ns=2;s=Fleet`: `GoTo(serial: String, order_id: String, nodes: String)`
drives the vehicle along the comma-separated node ids (`c{x}_{y}`, one node every
`step_s / time_factor` seconds, battery draining `drain_pct_per_node`) and returns at once
(`OrderUpdateId` counts the calls of one id). A first node equal to where the vehicle stands
is skipped. Calling `GoTo` again with the same order id extends the route (stepwise release):
the new node list must start with the previous one, and the vehicle drives on, also when it
had stopped at the end of the old list. `Cancel(serial)` stops it at the next node;
`Pause(serial: String, active: Boolean)`; `SetLoaded(serial: String, loaded: Boolean)`;
`Charge(serial: String, active: Boolean)` (charges `charge_pct_per_s`, only standing still);
`InjectError(serial: String, error: String)` (empty text clears). Unknown serials, a new
order while driving, a route that does not extend the old one, or a bad node end the call
with `BadInvalidArgument` / `BadInvalidState`. Every vehicle records its trajectory
(`simulators.vda5050.trajectory.Trajectory`, in simulated seconds) for conflict checks.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asyncua import Node, Server, ua

from simulators.opcua_server import ThreadedOpcUaServer
from simulators.vda5050.vehicle import Trajectory

logger = logging.getLogger(__name__)

NAMESPACE = "urn:whs:sim:opcua-agv"
OBJECT_ID = "ns=2;s=Fleet"
MANUFACTURER = "acme-agv"
_NODE = re.compile(r"^c(\d+)_(\d+)$")


@dataclass(frozen=True)
class OpcUaAgvConfig:
    """Vehicles (serial -> start node), speed, where to listen."""

    vehicles: dict[str, str] = field(default_factory=lambda: {"acme01": "c1_1"})
    port: int = 4842
    host: str = "127.0.0.1"
    cell_m: float = 1.0
    step_s: float = 1.0
    time_factor: float = 1.0
    drain_pct_per_node: float = 0.1
    charge_pct_per_s: float = 0.5


def _nid(identifier: str, ns: int) -> ua.NodeId:
    return ua.NodeId(ua.String(identifier), ua.Int16(ns))


def _arg(name: str, vtype: ua.VariantType) -> ua.Argument:
    arg = ua.Argument()
    arg.Name = name
    arg.DataType = ua.NodeId(ua.Int32(vtype.value))
    arg.ValueRank = -1
    return arg


def _bad(code: int) -> ua.StatusCode:
    return ua.StatusCode(ua.UInt32(code))


V = ua.VariantType
FIELDS: dict[str, tuple[ua.VariantType, Any]] = {
    "LastNodeId": (V.String, ""),
    "X": (V.Double, 0.0),
    "Y": (V.Double, 0.0),
    "Theta": (V.Double, 0.0),
    "OrderId": (V.String, ""),
    "OrderUpdateId": (V.UInt32, 0),
    "Driving": (V.Boolean, False),
    "Paused": (V.Boolean, False),
    "BatteryPct": (V.Double, 100.0),
    "Charging": (V.Boolean, False),
    "Loaded": (V.Boolean, False),
    "Errors": (V.String, ""),
}


class OpcUaAgvStandIn(ThreadedOpcUaServer):
    """The stand-in controller: start(), stop(), and each vehicle's current values."""

    thread_name = "opcua-agv"

    def __init__(self, config: OpcUaAgvConfig, clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.config = config
        self.values: dict[str, dict[str, Any]] = {s: {} for s in config.vehicles}
        self._nodes: dict[tuple[str, str], Node] = {}
        self._drives: dict[str, asyncio.Task[None]] = {}
        self._routes: dict[str, list[str]] = {}  # the current order's nodes
        self._at_index: dict[str, int] = {}  # index in the route of the node it stands on
        self._chargers: dict[str, asyncio.Task[None]] = {}
        self._t0 = time.monotonic()
        self._clock = clock  # simulated seconds shared with other stand-ins (trajectories)
        self.trajectories: dict[str, Trajectory] = {s: Trajectory() for s in config.vehicles}
        for serial, start in config.vehicles.items():
            self.trajectories[serial].arrive(start, 0.0)

    def now(self) -> float:
        """Simulated seconds (the shared clock, or since the stand-in was made)."""
        if self._clock is not None:
            return self._clock()
        return (time.monotonic() - self._t0) * self.config.time_factor

    @property
    def endpoint(self) -> str:
        """The opc.tcp URL clients connect to."""
        return f"opc.tcp://{self.config.host}:{self.config.port}/whs/agv/"

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = await self._build()
        async with server:
            self._ready.set()
            await self._stop.wait()
            for task in [*self._drives.values(), *self._chargers.values()]:
                task.cancel()

    async def _build(self) -> Server:
        cfg = self.config
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("whs OPC UA AGV controller stand-in")
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        ns = await server.register_namespace(NAMESPACE)
        fleet = await server.nodes.objects.add_object(
            _nid("Fleet", ns), ua.QualifiedName("Fleet", ns)
        )
        await fleet.add_variable(
            _nid("Fleet.Manufacturer", ns),
            ua.QualifiedName("Manufacturer", ns),
            ua.Variant(MANUFACTURER, V.String),
        )
        vehicles = await fleet.add_object(
            _nid("Fleet.Vehicles", ns), ua.QualifiedName("Vehicles", ns)
        )
        for serial, start in cfg.vehicles.items():
            path = f"Fleet.Vehicles.{serial}"
            obj = await vehicles.add_object(_nid(path, ns), ua.QualifiedName(serial, ns))
            for name, (vtype, default) in FIELDS.items():
                node = await obj.add_variable(
                    _nid(f"{path}.{name}", ns),
                    ua.QualifiedName(name, ns),
                    ua.Variant(default, vtype),
                )
                self._nodes[(serial, name)] = node
                self.values[serial][name] = default
            await self._at(serial, start)
        s = _arg("serial", V.String)
        for name, func, inputs in (
            ("GoTo", self._goto, [s, _arg("order_id", V.String), _arg("nodes", V.String)]),
            ("Pause", self._pause, [s, _arg("active", V.Boolean)]),
            ("Cancel", self._cancel, [s]),
            ("Charge", self._charge, [s, _arg("active", V.Boolean)]),
            ("SetLoaded", self._set_loaded, [s, _arg("loaded", V.Boolean)]),
            ("InjectError", self._inject_error, [s, _arg("error", V.String)]),
        ):
            await fleet.add_method(
                _nid(f"Fleet.{name}", ns), ua.QualifiedName(name, ns), func, inputs, []
            )
        return server

    async def _write(self, serial: str, name: str, value: Any) -> None:
        self.values[serial][name] = value
        await self._nodes[(serial, name)].write_value(ua.Variant(value, FIELDS[name][0]))

    async def _at(self, serial: str, node_id: str) -> None:
        m = _NODE.match(node_id)
        assert m is not None
        x, y = int(m.group(1)) * self.config.cell_m, int(m.group(2)) * self.config.cell_m
        old_x, old_y = self.values[serial]["X"], self.values[serial]["Y"]
        if (x, y) != (old_x, old_y) and self.values[serial]["LastNodeId"]:
            await self._write(serial, "Theta", round(math.atan2(y - old_y, x - old_x), 4))
        await self._write(serial, "X", x)
        await self._write(serial, "Y", y)
        await self._write(serial, "LastNodeId", node_id)

    async def _goto(
        self, _parent: ua.NodeId, serial: ua.Variant, order_id: ua.Variant, nodes: ua.Variant
    ) -> list[ua.Variant] | ua.StatusCode:
        sid, oid = str(serial.Value), str(order_id.Value)
        route = [n.strip() for n in str(nodes.Value).split(",") if n.strip()]
        if sid not in self.values or not route or not all(_NODE.match(n) for n in route):
            return _bad(ua.StatusCodes.BadInvalidArgument)
        if self.values[sid]["Errors"] or self.values[sid]["Charging"]:
            return _bad(ua.StatusCodes.BadInvalidState)
        running = self._drives.get(sid)
        driving = running is not None and not running.done()
        same = self.values[sid]["OrderId"] == oid and sid in self._routes
        if same:
            old = self._routes[sid]
            if route[: len(old)] != old:
                return _bad(ua.StatusCodes.BadInvalidState)
            self._routes[sid] = route
        else:
            if driving:
                return _bad(ua.StatusCodes.BadInvalidState)
            self._routes[sid] = route
            self._at_index[sid] = 0 if route[0] == self.values[sid]["LastNodeId"] else -1
        # Driving first: whoever sees the new order id also sees that it drives
        if self._at_index[sid] < len(self._routes[sid]) - 1:
            await self._write(sid, "Driving", True)
        await self._write(
            sid, "OrderUpdateId", self.values[sid]["OrderUpdateId"] + 1 if same else 0
        )
        await self._write(sid, "OrderId", oid)
        if not driving:
            self._drives[sid] = asyncio.create_task(self._drive(sid))
        return []

    async def _drive(self, serial: str) -> None:
        step = self.config.step_s / max(self.config.time_factor, 1e-6)
        trajectory = self.trajectories[serial]
        try:
            while self._at_index[serial] < len(self._routes[serial]) - 1:
                await self._write(serial, "Driving", True)
                while self.values[serial]["Paused"] or self.values[serial]["Errors"]:
                    if self.values[serial]["Errors"]:
                        return
                    await asyncio.sleep(0.05)
                node = self._routes[serial][self._at_index[serial] + 1]
                began = self.now()
                trajectory.depart(began)
                await asyncio.sleep(step)
                trajectory.moves.append(
                    (self.values[serial]["LastNodeId"], node, began, self.now())
                )
                trajectory.arrive(node, self.now())
                self._at_index[serial] += 1
                await self._at(serial, node)
                battery = self.values[serial]["BatteryPct"] - self.config.drain_pct_per_node
                await self._write(serial, "BatteryPct", round(max(0.0, battery), 3))
        finally:
            await self._write(serial, "Driving", False)

    async def _cancel(self, _p: ua.NodeId, serial: ua.Variant) -> Any:
        sid = str(serial.Value)
        if sid not in self.values:
            return _bad(ua.StatusCodes.BadInvalidArgument)
        if sid in self._routes:  # finish the step it is on, then stop
            route, at = self._routes[sid], self._at_index[sid]
            running = self._drives.get(sid)
            moving = running is not None and not running.done()
            self._routes[sid] = route[: at + (2 if moving else 1)]
        return []

    async def _charge(self, _p: ua.NodeId, serial: ua.Variant, active: ua.Variant) -> Any:
        sid = str(serial.Value)
        if sid not in self.values:
            return _bad(ua.StatusCodes.BadInvalidArgument)
        running = self._drives.get(sid)
        if active.Value and running is not None and not running.done():
            return _bad(ua.StatusCodes.BadInvalidState)
        charger = self._chargers.pop(sid, None)
        if charger is not None:
            charger.cancel()
        await self._write(sid, "Charging", bool(active.Value))
        if active.Value:
            self._chargers[sid] = asyncio.create_task(self._charging(sid))
        return []

    async def _charging(self, serial: str) -> None:
        tick = 0.1
        while self.values[serial]["Charging"]:
            await asyncio.sleep(tick)
            gained = self.config.charge_pct_per_s * tick * self.config.time_factor
            battery = min(100.0, self.values[serial]["BatteryPct"] + gained)
            await self._write(serial, "BatteryPct", round(battery, 3))

    async def _pause(self, _p: ua.NodeId, serial: ua.Variant, active: ua.Variant) -> Any:
        if serial.Value not in self.values:
            return _bad(ua.StatusCodes.BadInvalidArgument)
        await self._write(str(serial.Value), "Paused", bool(active.Value))
        return []

    async def _set_loaded(self, _p: ua.NodeId, serial: ua.Variant, loaded: ua.Variant) -> Any:
        if serial.Value not in self.values:
            return _bad(ua.StatusCodes.BadInvalidArgument)
        await self._write(str(serial.Value), "Loaded", bool(loaded.Value))
        return []

    async def _inject_error(self, _p: ua.NodeId, serial: ua.Variant, error: ua.Variant) -> Any:
        if serial.Value not in self.values:
            return _bad(ua.StatusCodes.BadInvalidArgument)
        await self._write(str(serial.Value), "Errors", str(error.Value))
        return []

"""An AGV fleet controller of a second vendor, served over OPC UA instead of VDA 5050.

One object `ns=2;s=Fleet` (Manufacturer) with `Vehicles/<serial>` objects whose variables are
what a vendor controller typically shows: LastNodeId, X, Y, Theta, OrderId, OrderUpdateId,
Driving, Paused, BatteryPct, Charging, Loaded and Errors (comma-separated error types, all
FATAL). Methods on `ns=2;s=Fleet`: `GoTo(serial: String, order_id: String, nodes: String)`
drives the vehicle along the comma-separated node ids (`c{x}_{y}`, one node every
`step_s / time_factor` seconds, battery draining `drain_pct_per_node`) and returns at once
(`OrderUpdateId` counts the orders of one id); `Pause(serial: String, active: Boolean)`;
`SetLoaded(serial: String, loaded: Boolean)`; `InjectError(serial: String, error: String)`
(empty text clears). Unknown serials, a new order while driving, or a bad node end the call
with `BadInvalidArgument` / `BadInvalidState`.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any

from asyncua import Node, Server, ua

from simulators.opcua_server import ThreadedOpcUaServer

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

    def __init__(self, config: OpcUaAgvConfig) -> None:
        super().__init__()
        self.config = config
        self.values: dict[str, dict[str, Any]] = {s: {} for s in config.vehicles}
        self._nodes: dict[tuple[str, str], Node] = {}
        self._drives: dict[str, asyncio.Task[None]] = {}

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
            for task in self._drives.values():
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
        sid = str(serial.Value)
        route = [n.strip() for n in str(nodes.Value).split(",") if n.strip()]
        if sid not in self.values or not route or not all(_NODE.match(n) for n in route):
            return _bad(ua.StatusCodes.BadInvalidArgument)
        running = self._drives.get(sid)
        if running is not None and not running.done():
            return _bad(ua.StatusCodes.BadInvalidState)
        if self.values[sid]["Errors"]:
            return _bad(ua.StatusCodes.BadInvalidState)
        same = self.values[sid]["OrderId"] == order_id.Value
        await self._write(
            sid, "OrderUpdateId", self.values[sid]["OrderUpdateId"] + 1 if same else 0
        )
        await self._write(sid, "OrderId", str(order_id.Value))
        self._drives[sid] = asyncio.create_task(self._drive(sid, route))
        return []

    async def _drive(self, serial: str, route: list[str]) -> None:
        step = self.config.step_s / max(self.config.time_factor, 1e-6)
        await self._write(serial, "Driving", True)
        try:
            for node in route:
                while self.values[serial]["Paused"] or self.values[serial]["Errors"]:
                    if self.values[serial]["Errors"]:
                        return
                    await asyncio.sleep(0.05)
                await asyncio.sleep(step)
                await self._at(serial, node)
                battery = self.values[serial]["BatteryPct"] - self.config.drain_pct_per_node
                await self._write(serial, "BatteryPct", round(max(0.0, battery), 3))
        finally:
            await self._write(serial, "Driving", False)

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

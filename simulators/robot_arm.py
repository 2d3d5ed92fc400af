"""A robot-arm pick station stand-in: an asyncua server shaped after OPC UA for Robotics.

The address space follows the concepts of the OPC UA Robotics companion specification
(OPC 40010-1) without loading its nodeset: one MotionDeviceSystem object `ns=2;s=PickStation`
with

- `MotionDevices/Arm1` (MotionDevice: Manufacturer, Model, SerialNumber, MotionDeviceCategory,
  ParameterSet/OnPath, InControl, SpeedOverride),
- `Controllers/Controller1` (Manufacturer, Model),
- `SafetyStates/SafetyState1/ParameterSet` (OperationalMode as the spec's enumeration values,
  EmergencyStop, ProtectiveStop),
- `Station` (State: Idle/Picking/Placing/Stopped, Holding, HeldSku, Picks, Failures,
  LastResult, LastCycleMs): the pick-station side the spec leaves to the application.

Methods on `ns=2;s=PickStation`: `Pick(sku: String, qty: UInt32)`, `Place(tote: String)` and
`PickAndPlace(sku, qty, tote)`, each returning `(Result: Int32, Message: String,
CycleTimeMs: Double)`; Result 0 is success, otherwise one of `FAILURES` (a failed grasp, a
dropped item, no target seen). A call while the arm is not in AUTOMATIC, is stopped, or cannot
do it (Place with nothing held) ends with the status `BadInvalidState`. `SetEmergencyStop(active:
Boolean)` and `SetOperationalMode(mode: Int32)` let a test or an operator play the safety side.
Cycle times are drawn from truncated normal distributions (`pick_mean_s`, `pick_sd_s`, ...),
divided by `time_factor`; a pick fails with probability `failure_rate` (seeded RNG), and
`fail_next(n)` forces the next n picks to fail (tests).
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

from asyncua import Node, Server, ua
from asyncua.common.methods import uamethod

from simulators.opcua_server import ThreadedOpcUaServer

logger = logging.getLogger(__name__)

NAMESPACE = "urn:whs:sim:robot-arm"
OBJECT_ID = "ns=2;s=PickStation"

# OperationalModeEnumeration of OPC 40010-1
OTHER, MANUAL_REDUCED_SPEED, MANUAL_HIGH_SPEED, AUTOMATIC, AUTOMATIC_EXTERNAL = range(5)
OPERATIONAL_MODES = {
    OTHER: "OTHER",
    MANUAL_REDUCED_SPEED: "MANUAL_REDUCED_SPEED",
    MANUAL_HIGH_SPEED: "MANUAL_HIGH_SPEED",
    AUTOMATIC: "AUTOMATIC",
    AUTOMATIC_EXTERNAL: "AUTOMATIC_EXTERNAL",
}
OK = 0
STOPPED = 9
# Result codes of a failed cycle and the reason text the station reports.
FAILURES = {1: "grasp_failed", 2: "item_dropped", 3: "no_target_seen"}
RESULT_NAMES = {OK: "ok", STOPPED: "stopped", **FAILURES}


@dataclass(frozen=True)
class ArmConfig:
    """Where to listen, the cycle-time distributions and how often a pick fails."""

    port: int = 4841
    host: str = "127.0.0.1"
    station: str = "PS-01"
    failure_rate: float = 0.0
    pick_mean_s: float = 4.0
    pick_sd_s: float = 0.8
    place_mean_s: float = 2.5
    place_sd_s: float = 0.4
    time_factor: float = 1.0
    seed: int | None = None
    name: str = "whs robot-arm pick station stand-in"


def _nid(identifier: str, ns: int) -> ua.NodeId:
    return ua.NodeId(ua.String(identifier), ua.Int16(ns))


def _arg(name: str, vtype: ua.VariantType) -> ua.Argument:
    arg = ua.Argument()
    arg.Name = name
    arg.DataType = ua.NodeId(ua.Int32(vtype.value))
    arg.ValueRank = -1
    return arg


# What a method callback returns: output arguments, or a bad status code for the call.
Outcome = list[ua.Variant] | ua.StatusCode


def _bad(code: int) -> ua.StatusCode:
    return ua.StatusCode(ua.UInt32(code))


OUTPUTS = [
    _arg("Result", ua.VariantType.Int32),
    _arg("Message", ua.VariantType.String),
    _arg("CycleTimeMs", ua.VariantType.Double),
]


class RobotArmStandIn(ThreadedOpcUaServer):
    """The stand-in server: start(), stop(), the safety switches and what it has done."""

    thread_name = "robot-arm"

    def __init__(self, config: ArmConfig) -> None:
        super().__init__()
        self.config = config
        self.calls: list[str] = []
        self.picks = 0
        self.failures = 0
        self.operational_mode = AUTOMATIC
        self.emergency_stop = False
        self.protective_stop = False
        self.state = "Idle"
        self.holding: tuple[str, int] | None = None
        self._forced: list[int] = []
        self._rng = random.Random(config.seed)
        self._vars: dict[str, tuple[Node, ua.VariantType]] = {}
        self._busy: asyncio.Lock | None = None

    @property
    def endpoint(self) -> str:
        """The opc.tcp URL clients connect to."""
        return f"opc.tcp://{self.config.host}:{self.config.port}/whs/arm/"

    # -- control from the outside (tests, the CLI) ---------------------------------------

    def fail_next(self, count: int = 1, code: int = 1) -> None:
        """Make the next `count` picks fail with result `code` (one of FAILURES)."""
        self._forced.extend([code] * count)

    def set_emergency_stop(self, active: bool) -> None:
        """Press or release the emergency stop (from another thread)."""
        self._in_loop(self._set_estop(active))

    def _in_loop(self, coro: Any) -> None:
        loop = self._loop
        if loop is None:
            coro.close()
            raise RuntimeError("the stand-in is not running")
        asyncio.run_coroutine_threadsafe(coro, loop).result(5)

    # -- the server ----------------------------------------------------------------------

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._busy = asyncio.Lock()
        server = await self._build()
        async with server:
            self._ready.set()
            logger.info("robot-arm stand-in %s on %s", self.config.station, self.endpoint)
            await self._stop.wait()

    async def _object(self, parent: Node, path: str, name: str, ns: int) -> Node:
        return await parent.add_object(_nid(f"{path}.{name}", ns), ua.QualifiedName(name, ns))

    async def _variable(
        self, parent: Node, path: str, name: str, value: Any, vtype: ua.VariantType, ns: int
    ) -> None:
        node = await parent.add_variable(
            _nid(f"{path}.{name}", ns), ua.QualifiedName(name, ns), ua.Variant(value, vtype)
        )
        self._vars[name] = (node, vtype)

    async def _build(self) -> Server:
        cfg = self.config
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(cfg.name)
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        ns = await server.register_namespace(NAMESPACE)
        root = "PickStation"
        system = await server.nodes.objects.add_object(_nid(root, ns), ua.QualifiedName(root, ns))
        V = ua.VariantType
        devices = await self._object(system, root, "MotionDevices", ns)
        arm_path = f"{root}.MotionDevices.Arm1"
        arm = await self._object(devices, f"{root}.MotionDevices", "Arm1", ns)
        for name, value in (
            ("Manufacturer", "whs-sim"),
            ("Model", "SimArm 6"),
            ("SerialNumber", f"{cfg.station}-ARM1"),
            ("MotionDeviceCategory", "ARTICULATED_ROBOT"),
        ):
            await self._variable(arm, arm_path, name, value, V.String, ns)
        params = await self._object(arm, arm_path, "ParameterSet", ns)
        await self._variable(params, f"{arm_path}.ParameterSet", "OnPath", False, V.Boolean, ns)
        await self._variable(params, f"{arm_path}.ParameterSet", "InControl", True, V.Boolean, ns)
        await self._variable(
            params, f"{arm_path}.ParameterSet", "SpeedOverride", 100.0, V.Double, ns
        )
        controllers = await self._object(system, root, "Controllers", ns)
        ctl_path = f"{root}.Controllers.Controller1"
        controller = await self._object(controllers, f"{root}.Controllers", "Controller1", ns)
        await self._variable(controller, ctl_path, "ControllerModel", "SimCtl", V.String, ns)
        safety = await self._object(system, root, "SafetyStates", ns)
        s_path = f"{root}.SafetyStates.SafetyState1"
        state1 = await self._object(safety, f"{root}.SafetyStates", "SafetyState1", ns)
        sp = await self._object(state1, s_path, "ParameterSet", ns)
        sp_path = f"{s_path}.ParameterSet"
        await self._variable(sp, sp_path, "OperationalMode", self.operational_mode, V.Int32, ns)
        await self._variable(sp, sp_path, "EmergencyStop", False, V.Boolean, ns)
        await self._variable(sp, sp_path, "ProtectiveStop", False, V.Boolean, ns)
        station = await self._object(system, root, "Station", ns)
        st = f"{root}.Station"
        await self._variable(station, st, "StationId", cfg.station, V.String, ns)
        await self._variable(station, st, "State", self.state, V.String, ns)
        await self._variable(station, st, "Holding", False, V.Boolean, ns)
        await self._variable(station, st, "HeldSku", "", V.String, ns)
        await self._variable(station, st, "Picks", 0, V.UInt32, ns)
        await self._variable(station, st, "Failures", 0, V.UInt32, ns)
        await self._variable(station, st, "LastResult", OK, V.Int32, ns)
        await self._variable(station, st, "LastCycleMs", 0.0, V.Double, ns)
        sku, qty, tote = (
            _arg("sku", V.String),
            _arg("qty", V.UInt32),
            _arg("tote", V.String),
        )
        for name, func, inputs in (
            ("Pick", self._pick_method, [sku, qty]),
            ("Place", self._place_method, [tote]),
            ("PickAndPlace", self._pick_and_place_method, [sku, qty, tote]),
        ):
            await system.add_method(
                _nid(f"{root}.{name}", ns), ua.QualifiedName(name, ns), func, inputs, OUTPUTS
            )
        await system.add_method(
            _nid(f"{root}.SetEmergencyStop", ns),
            ua.QualifiedName("SetEmergencyStop", ns),
            uamethod(self._estop_method),
            [_arg("active", V.Boolean)],
            [],
        )
        await system.add_method(
            _nid(f"{root}.SetOperationalMode", ns),
            ua.QualifiedName("SetOperationalMode", ns),
            self._mode_method,
            [_arg("mode", V.Int32)],
            [],
        )
        return server

    async def _write(self, name: str, value: Any) -> None:
        node, vtype = self._vars[name]
        await node.write_value(ua.Variant(value, vtype))

    async def _set_state(self, state: str) -> None:
        self.state = state
        await self._write("State", state)

    async def _set_estop(self, active: bool) -> None:
        self.emergency_stop = active
        await self._write("EmergencyStop", active)
        if active:
            await self._set_state("Stopped")
        elif self.state == "Stopped":
            await self._set_state("Idle")

    # -- methods (called by asyncua with the parent node id and Variants) ----------------

    async def _estop_method(self, _parent: ua.NodeId, active: bool) -> None:
        self.calls.append(f"SetEmergencyStop({active})")
        await self._set_estop(bool(active))

    async def _mode_method(self, _parent: ua.NodeId, mode: ua.Variant) -> Outcome:
        self.calls.append(f"SetOperationalMode({mode.Value})")
        if mode.Value not in OPERATIONAL_MODES:
            return _bad(ua.StatusCodes.BadOutOfRange)
        self.operational_mode = int(mode.Value)
        await self._write("OperationalMode", self.operational_mode)
        return []

    async def _pick_method(self, _parent: ua.NodeId, sku: ua.Variant, qty: ua.Variant) -> Outcome:
        self.calls.append(f"Pick({sku.Value}, {qty.Value})")
        return await self._cycle(str(sku.Value), int(qty.Value), None)

    async def _place_method(self, _parent: ua.NodeId, tote: ua.Variant) -> Outcome:
        self.calls.append(f"Place({tote.Value})")
        return await self._cycle(None, 0, str(tote.Value))

    async def _pick_and_place_method(
        self, _parent: ua.NodeId, sku: ua.Variant, qty: ua.Variant, tote: ua.Variant
    ) -> Outcome:
        self.calls.append(f"PickAndPlace({sku.Value}, {qty.Value}, {tote.Value})")
        return await self._cycle(str(sku.Value), int(qty.Value), str(tote.Value))

    def _ready_for_work(self) -> bool:
        return (
            self.operational_mode in (AUTOMATIC, AUTOMATIC_EXTERNAL)
            and not self.emergency_stop
            and not self.protective_stop
        )

    def _duration(self, mean: float, sd: float) -> float:
        drawn = self._rng.gauss(mean, sd)
        return max(0.3 * mean, drawn) / max(self.config.time_factor, 1e-6)

    async def _move(self, seconds: float) -> bool:
        """Run a motion for `seconds`; False when a stop interrupted it."""
        await self._write("OnPath", True)
        end = asyncio.get_running_loop().time() + seconds
        try:
            while (left := end - asyncio.get_running_loop().time()) > 0:
                if not self._ready_for_work():
                    return False
                await asyncio.sleep(min(left, 0.05))
            return self._ready_for_work()
        finally:
            await self._write("OnPath", False)

    async def _cycle(self, sku: str | None, qty: int, tote: str | None) -> Outcome:
        assert self._busy is not None
        if self._busy.locked() or not self._ready_for_work():
            return _bad(ua.StatusCodes.BadInvalidState)
        if sku is None and self.holding is None:
            return _bad(ua.StatusCodes.BadInvalidState)  # nothing to place
        if sku is not None and (qty < 1 or self.holding is not None):
            return _bad(ua.StatusCodes.BadInvalidArgument)
        async with self._busy:
            started = asyncio.get_running_loop().time()
            code = await self._run_cycle(sku, qty, tote)
            cycle_ms = (asyncio.get_running_loop().time() - started) * 1000.0
            await self._write("LastResult", code)
            await self._write("LastCycleMs", cycle_ms)
            if self.state != "Stopped":
                await self._set_state("Idle")
        return [
            ua.Variant(code, ua.VariantType.Int32),
            ua.Variant(RESULT_NAMES[code], ua.VariantType.String),
            ua.Variant(cycle_ms, ua.VariantType.Double),
        ]

    async def _run_cycle(self, sku: str | None, qty: int, tote: str | None) -> int:
        cfg = self.config
        if sku is not None:
            await self._set_state("Picking")
            if not await self._move(self._duration(cfg.pick_mean_s, cfg.pick_sd_s)):
                return STOPPED
            failure = self._forced.pop(0) if self._forced else 0
            if not failure and self._rng.random() < cfg.failure_rate:
                failure = self._rng.choice(sorted(FAILURES))
            if failure:
                self.failures += 1
                await self._write("Failures", self.failures)
                return failure
            self.holding = (sku, qty)
            await self._write("Holding", True)
            await self._write("HeldSku", sku)
        if tote is not None:
            await self._set_state("Placing")
            if not await self._move(self._duration(cfg.place_mean_s, cfg.place_sd_s)):
                return STOPPED
            self.holding = None
            self.picks += 1
            await self._write("Holding", False)
            await self._write("HeldSku", "")
            await self._write("Picks", self.picks)
        return OK

"""A generic OPC UA controller stand-in: an asyncua server with N changing tags and methods.

Tags `ns=2;s=Controller.Tag00000`.. under the object `ns=2;s=Controller` change `rate_hz` times
a second (value = setpoint + tick + index / 1000, so every tick is a data change). Methods on the
object: `Reset()` -> ticks before the reset, `SetSetpoint(setpoint: Double)` -> the previous
setpoint, `Wait(seconds: Double)` -> the seconds waited (a slow command for deadline tests).
The server runs in a thread of its own with one event loop; `stop()` then `start()` restarts it
on the same port (a controller reboot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from asyncua import Server, ua
from asyncua.common.methods import uamethod

from simulators.opcua_server import ThreadedOpcUaServer

logger = logging.getLogger(__name__)

NAMESPACE = "urn:whs:sim:opcua-controller"
OBJECT_ID = "ns=2;s=Controller"
APPLICATION_URI = "urn:whs:sim:opcua-controller:app"


def _nid(identifier: str, ns: int) -> ua.NodeId:
    return ua.NodeId(ua.String(identifier), ua.Int16(ns))


class _SharedValue(ua.DataValue):
    """A tag value the stand-in writes once and never changes: asyncua deep-copies every written
    value for every monitored item (half of the server's CPU at 2,500 changes/s); this one is
    handed out as it is."""

    def __deepcopy__(self, _memo: dict[int, object]) -> _SharedValue:
        return self


def tag_node_id(index: int) -> str:
    """The node id of tag number `index`."""
    return f"ns=2;s=Controller.Tag{index:05d}"


@dataclass(frozen=True)
class ControllerConfig:
    """How many tags, how fast they change, where to listen, and optional security."""

    tags: int = 10
    rate_hz: float = 1.0
    port: int = 4840
    host: str = "127.0.0.1"
    name: str = "whs OPC UA controller stand-in"
    certificate: Path | None = None
    private_key: Path | None = None
    secure_only: bool = False


class OpcUaControllerStandIn(ThreadedOpcUaServer):
    """The stand-in server: start(), stop(), and what it has done (ticks, calls)."""

    thread_name = "opcua-controller"

    def __init__(self, config: ControllerConfig) -> None:
        super().__init__()
        self.config = config
        self.setpoint = 0.0
        self.ticks = 0
        self.calls: list[str] = []

    @property
    def endpoint(self) -> str:
        """The opc.tcp URL clients connect to."""
        return f"opc.tcp://{self.config.host}:{self.config.port}/whs/"

    async def _build(self) -> tuple[Server, list[ua.NodeId]]:
        cfg = self.config
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name(cfg.name)
        if cfg.certificate is not None and cfg.private_key is not None:
            await server.set_application_uri(APPLICATION_URI)
            await server.load_certificate(str(cfg.certificate))
            await server.load_private_key(str(cfg.private_key))
            policies = [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]
            if not cfg.secure_only:
                policies.append(ua.SecurityPolicyType.NoSecurity)
            server.set_security_policy(policies)
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        ns = await server.register_namespace(NAMESPACE)
        controller = await server.nodes.objects.add_object(
            _nid("Controller", ns), ua.QualifiedName("Controller", ns)
        )
        ids = []
        for i in range(cfg.tags):
            node_id = _nid(f"Controller.Tag{i:05d}", ns)
            await controller.add_variable(node_id, ua.QualifiedName(f"Tag{i:05d}", ns), 0.0)
            ids.append(node_id)
        await controller.add_method(
            _nid("Controller.Reset", ns),
            ua.QualifiedName("Reset", ns),
            uamethod(self._reset),
            [],
            [ua.VariantType.Int64],
        )
        setpoint_arg = ua.Argument()
        setpoint_arg.Name = "setpoint"
        setpoint_arg.DataType = ua.NodeId(ua.Int32(ua.ObjectIds.Double))
        setpoint_arg.ValueRank = -1
        await controller.add_method(
            _nid("Controller.SetSetpoint", ns),
            ua.QualifiedName("SetSetpoint", ns),
            uamethod(self._set_setpoint),
            [setpoint_arg],
            [ua.VariantType.Double],
        )
        seconds_arg = ua.Argument()
        seconds_arg.Name = "seconds"
        seconds_arg.DataType = ua.NodeId(ua.Int32(ua.ObjectIds.Double))
        seconds_arg.ValueRank = -1
        await controller.add_method(
            _nid("Controller.Wait", ns),
            ua.QualifiedName("Wait", ns),
            uamethod(self._wait),
            [seconds_arg],
            [ua.VariantType.Double],
        )
        return server, ids

    def _reset(self, _parent: ua.NodeId) -> int:
        self.calls.append("Reset")
        before, self.ticks = self.ticks, 0
        return before

    def _set_setpoint(self, _parent: ua.NodeId, setpoint: float) -> float:
        self.calls.append(f"SetSetpoint({setpoint})")
        before, self.setpoint = self.setpoint, float(setpoint)
        return before

    async def _wait(self, _parent: ua.NodeId, seconds: float) -> float:
        self.calls.append(f"Wait({seconds})")
        await asyncio.sleep(min(float(seconds), 60.0))
        return float(seconds)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server, ids = await self._build()
        async with server:
            self._ready.set()
            logger.info("OPC UA stand-in on %s with %d tags", self.endpoint, len(ids))
            period = 1.0 / self.config.rate_hz if self.config.rate_hz > 0 else None
            next_tick = time.monotonic()
            while not self._stop.is_set():
                if period is None:
                    await self._stop.wait()
                    break
                await self._tick(server, ids)
                next_tick += period
                delay = next_tick - time.monotonic()
                if delay < -period:  # fell behind by more than a tick: do not try to catch up
                    next_tick = time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), max(0.0, delay))

    async def _tick(self, server: Server, ids: list[ua.NodeId]) -> None:
        self.ticks += 1
        base = self.setpoint + self.ticks
        now = cast(ua.DateTime, datetime.now(UTC))
        for i, node_id in enumerate(ids):
            value = _SharedValue(
                ua.Variant(base + i / 1000.0, ua.VariantType.Double),
                SourceTimestamp=now,
                ServerTimestamp=now,
            )
            await server.write_attribute_value(node_id, value)

"""Runs the AGV stand-ins: SimPy (real time, accelerated) in a thread, one MQTT link per vehicle."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any

import simpy
import simpy.rt

from simulators.vda5050.config import AgvStandInsConfig, Fault
from simulators.vda5050.link import AgvLink
from simulators.vda5050.vehicle import AgvVehicle

logger = logging.getLogger(__name__)

POLL_WALL_S = 0.005  # how often (real seconds) the simulation takes in MQTT messages


class AgvStandIns:
    """The configured vehicles, each speaking VDA 5050 over its own MQTT connection."""

    def __init__(self, config: AgvStandInsConfig) -> None:
        self.config = config
        self.env = simpy.rt.RealtimeEnvironment(factor=1.0 / config.time_factor, strict=False)
        self.epoch = datetime.now(UTC)
        self._inbox: queue.Queue[tuple[str, str, dict[str, Any]]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.links: dict[str, AgvLink] = {}
        self.vehicles: dict[str, AgvVehicle] = {}
        for spec in config.vehicles:
            link = AgvLink(
                spec.manufacturer,
                spec.serial,
                host=config.host,
                port=config.port,
                username=config.username.format(serial=spec.serial),
                password=config.password,
                on_message=self._inbox_for(spec.serial),
            )
            self.links[spec.serial] = link
            self.vehicles[spec.serial] = AgvVehicle(
                self.env,
                spec,
                link.publish,
                epoch=self.epoch,
                validate_outgoing=config.validate_outgoing,
            )
        self.env.process(self._poll())
        for fault in config.faults:
            self.env.process(self._fault(fault))

    def _inbox_for(self, serial: str) -> Callable[[str, dict[str, Any]], None]:
        def put(topic: str, body: dict[str, Any]) -> None:
            self._inbox.put((serial, topic, body))

        return put

    def start(self, timeout_s: float = 10.0) -> None:
        """Connect every vehicle, publish state and factsheet, start the clock."""
        for link in self.links.values():
            link.start()
        for serial, link in self.links.items():
            if not link.wait_connected(timeout_s):
                raise RuntimeError(f"AGV {serial} could not connect to the broker")
        for v in self.vehicles.values():
            v.publish_factsheet()
            v.publish_state()
        self.env.sync()
        self._thread = threading.Thread(target=self._run, name="agv-standins", daemon=True)
        self._thread.start()

    def now(self) -> float:
        """Simulated seconds since start."""
        return float(self.env.now)

    def call(self, serial: str, method: str, *args: Any) -> None:
        """Run a vehicle method (a fault, say) inside the simulation thread."""
        self._inbox.put((serial, "_call", {"method": method, "args": list(args)}))

    def drop_connection(self, serial: str) -> None:
        """Fault: cut the vehicle's link without a DISCONNECT (the broker sends its last will)."""
        self.call(serial, "_drop")

    def stop(self) -> None:
        """Stop the clock; every connected vehicle says OFFLINE and disconnects."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for link in self.links.values():
            link.stop()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self.env.run(until=self.env.now + POLL_WALL_S * self.config.time_factor)
        except Exception:
            logger.exception("AGV simulation failed")

    def _poll(self) -> Generator[simpy.events.Event, Any, None]:
        step = POLL_WALL_S * self.config.time_factor / 2
        while True:
            while True:
                try:
                    serial, topic, body = self._inbox.get_nowait()
                except queue.Empty:
                    break
                self._deliver(serial, topic, body)
            yield self.env.timeout(step)

    def _deliver(self, serial: str, topic: str, body: dict[str, Any]) -> None:
        vehicle = self.vehicles[serial]
        try:
            if topic == "order":
                vehicle.on_order(body)
            elif topic == "instantActions":
                vehicle.on_instant_actions(body)
            elif topic == "_call":
                if body["method"] == "_drop":
                    vehicle.connected = False
                    self.links[serial].drop()
                else:
                    getattr(vehicle, body["method"])(*body["args"])
        except Exception:
            logger.exception("AGV %s failed on a %s message", serial, topic)

    def _fault(self, fault: Fault) -> Generator[simpy.events.Event, Any, None]:
        yield self.env.timeout(fault.at)
        logger.info("fault %s on %s at %.1f s", fault.kind, fault.serial, fault.at)
        if fault.kind == "lost_connection":
            self._deliver(fault.serial, "_call", {"method": "_drop", "args": []})
        elif fault.kind == "error":
            self.vehicles[fault.serial].raise_error(fault.error_type)
        elif fault.kind == "blocked_node":
            self.vehicles[fault.serial].block_node(fault.node)
        elif fault.kind in ("freeze", "stall"):
            vehicle = self.vehicles[fault.serial]
            getattr(vehicle, fault.kind)()
            if fault.duration > 0:
                yield self.env.timeout(fault.duration)
                vehicle.thaw() if fault.kind == "freeze" else vehicle.unstall()

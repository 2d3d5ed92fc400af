"""Runs the stand-ins in real time: SimPy in a thread, one MQTT client per device."""

from __future__ import annotations

import json
import logging
import queue
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import simpy
import simpy.rt
from firmware_interfaces import topics

from simulators.devices.config import StandInsConfig
from simulators.devices.dock import DockModel
from simulators.devices.rfid_gate import RfidGateModel
from simulators.devices.scale import ScaleModel
from simulators.mqtt import MqttPublisher

logger = logging.getLogger(__name__)

PALLET_CHANNEL = "pallet"
TICK_S = 0.02  # simulated seconds per step of the real-time loop


@dataclass
class PalletPass:
    """A pallet sent through a dock; `done` is set when it has left the scale."""

    dock: str
    epcs: list[str]
    gross_kg: float
    pallet_id: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    reported_epcs: set[str] = field(default_factory=set)


def parse_pallet_message(raw: bytes) -> tuple[str | None, list[str], float]:
    """Validate a sim control message {pallet_id, epcs, gross_kg}; ValueError with the reason."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ValueError("expected an object")
    epcs, kg, pallet_id = body.get("epcs"), body.get("gross_kg"), body.get("pallet_id")
    if not isinstance(epcs, list) or not all(isinstance(e, str) for e in epcs):
        raise ValueError("epcs: expected a list of hex strings")
    if isinstance(kg, bool) or not isinstance(kg, int | float) or kg < 0:
        raise ValueError("gross_kg: expected a number >= 0")
    if pallet_id is not None and not isinstance(pallet_id, str):
        raise ValueError("pallet_id: expected a string")
    return pallet_id, epcs, float(kg)


class DeviceStandIns:
    """The configured docks' gates and scales, publishing real payloads over MQTT."""

    def __init__(self, config: StandInsConfig) -> None:
        self.config = config
        self._commands: queue.Queue[PalletPass] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._clients: dict[str, MqttPublisher] = {}
        self.docks: dict[str, DockModel] = {}
        b = config.broker
        self._control = MqttPublisher(
            f"{config.control.username}-devices-{config.site}",
            host=b.host,
            port=b.port,
            username=config.control.username,
            password=config.control.password,
            tls=b.tls,
        )
        for dock in config.docks:
            self._control.subscribe(
                topics.sim_topic(config.site, dock.dock, PALLET_CHANNEL), self._on_control
            )
            for kind, device in ((topics.RFID, dock.gate), (topics.SCALE, dock.scale)):
                if device is not None:
                    self._clients[device.id] = MqttPublisher(
                        device.id,
                        host=b.host,
                        port=b.port,
                        username=device.id,
                        password=device.password,
                        tls=b.tls,
                        status_topic=topics.device_topic(
                            config.site, kind, device.id, topics.STATUS
                        ),
                    )

    def start(self) -> None:
        """Connect every device and start the simulation thread (returns at once)."""
        for client in [self._control, *self._clients.values()]:
            client.start()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-devices", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        """Block until every device and the control client are connected."""
        return all(c.wait_connected(timeout_s) for c in [self._control, *self._clients.values()])

    def pass_pallet(
        self, dock: str, epcs: Sequence[str], gross_kg: float, pallet_id: str | None = None
    ) -> PalletPass:
        """Send a pallet through `dock` (gate, then scale); thread-safe, returns at once."""
        self.config.dock(dock)  # KeyError for an unknown dock, in the caller's thread
        job = PalletPass(dock, list(epcs), gross_kg, pallet_id)
        self._commands.put(job)
        return job

    def stop(self) -> None:
        """Stop the simulation and disconnect every device (offline status, reason shutdown)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for client in [*self._clients.values(), self._control]:
            client.stop()

    def published(self) -> dict[str, int]:
        """Messages published per device id."""
        return {device_id: client.published for device_id, client in self._clients.items()}

    def _on_control(self, topic: str, payload: bytes) -> None:
        dock = topic.split("/")[-2]
        try:
            pallet_id, epcs, kg = parse_pallet_message(payload)
        except ValueError as exc:
            logger.warning("ignoring sim control message on %s: %s", topic, exc)
            return
        logger.info("pallet %s (%d tags, %.1f kg) arrives at %s", pallet_id, len(epcs), kg, dock)
        self._commands.put(PalletPass(dock, epcs, kg, pallet_id))

    def _publisher(self, kind: str, device_id: str) -> Callable[[str, dict[str, Any]], None]:
        client = self._clients[device_id]
        qos = 0 if kind == topics.SCALE else 1  # weight samples are telemetry; reads must arrive

        def publish(channel: str, payload: dict[str, Any]) -> None:
            client.publish(
                topics.device_topic(self.config.site, kind, device_id, channel), payload, qos=qos
            )

        return publish

    def _build(self, env: simpy.Environment) -> None:
        clock = lambda: datetime.now(UTC)  # noqa: E731 - devices stamp with the wall clock
        for dock in self.config.docks:
            gate = scale = None
            if dock.gate is not None:
                rng = random.Random(f"{self.config.seed}:{dock.gate.id}")
                gate = RfidGateModel(
                    env, dock.gate, self._publisher(topics.RFID, dock.gate.id), rng, clock
                )
            if dock.scale is not None:
                rng = random.Random(f"{self.config.seed}:{dock.scale.id}")
                scale = ScaleModel(
                    env, dock.scale, self._publisher(topics.SCALE, dock.scale.id), rng, clock
                )
            self.docks[dock.dock] = DockModel(env, dock.dock, gate, scale)

    def _run(self) -> None:
        env = simpy.rt.RealtimeEnvironment(factor=self.config.time_factor, strict=False)
        self._build(env)
        while not self._stop.is_set():
            while True:
                try:
                    job = self._commands.get_nowait()
                except queue.Empty:
                    break
                env.process(self._receive(env, job))
            env.run(until=env.now + TICK_S)

    def _receive(self, env: simpy.Environment, job: PalletPass) -> Any:
        try:
            job.reported_epcs = yield env.process(
                self.docks[job.dock].receive_pallet(job.epcs, job.gross_kg)
            )
        finally:
            job.done.set()

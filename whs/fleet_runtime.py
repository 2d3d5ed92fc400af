"""The AGV fleet inside `whs central serve`: config file, links to the vehicles, background loop.

`FleetService` is a context manager for central's lifespan (see `central.app.create_app`'s
`services`): it reads the fleet file (`WHS_FLEET_CONFIG`), connects the VDA 5050 master to the
site broker with central's MQTT settings, reaches each OPC UA fleet controller either directly
(the edge's OPC UA AGV adapter in this process, `via: direct`) or through its edge agent
(device commands and uplinked `agv.state` events, `via: edge`), reloads unfinished transport
tasks from the database, runs the manager's loop in a thread, feeds robot-arm stations from
released waves, and stops all of it cleanly on shutdown. `app.state.fleet` holds the manager
meanwhile (the fleet API, the live map).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI

from central.commands.mqtt import EdgeLink
from central.deps import Container
from central.fleet.controller_link import ConnectionHandler, ControllerLink, StateHandler
from central.fleet.domain import TaskKind
from central.fleet.edge_controller import EdgeController
from central.fleet.layout import Layout, generate_layout
from central.fleet.links import VehicleLinks
from central.fleet.manager import FleetConfig, FleetManager
from central.fleet.store import SqlTaskStore
from central.stations.link import CommandArmLink
from central.stations.manager import StationManager
from central.stations.waves import ArmZone, WaveArms
from edge.adapters.opcua_agv import OpcUaAgvAdapter
from edge.adapters.vda5050 import AGV_STATE, Vda5050Master
from edge.config import BrokerConfig, OpcUaConfig
from edge.deadletter import DeadLetter
from edge.events import Event

logger = logging.getLogger(__name__)


class FleetConfigError(ValueError):
    """A fleet file that cannot be used; the message names the field."""


@dataclass(frozen=True)
class FleetSetup:
    """What the fleet file says."""

    layout: Layout
    homes: dict[str, str]  # serial -> home node
    opcua: dict[str, str]  # serial -> controller id (the others speak VDA 5050)
    controllers: tuple[OpcUaConfig, ...] = ()
    via_edge: frozenset[str] = frozenset()  # controllers reached through their edge agent
    manufacturer: str = "whs-sim"
    fleet: FleetConfig = field(default_factory=FleetConfig)
    arm_zones: tuple[ArmZone, ...] = ()
    tick_s: float = 0.02


def parse_fleet_config(raw: Any) -> FleetSetup:
    """Validate the fleet file's content."""
    if not isinstance(raw, dict):
        raise FleetConfigError("expected a mapping at the top level")
    lay = raw.get("layout") or {}
    if "rows" in lay:
        layout = Layout(tuple(str(r) for r in lay["rows"]), float(lay.get("cell_m", 1.0)))
    elif "generate" in lay:
        layout = generate_layout(**lay["generate"])
    else:
        raise FleetConfigError("layout: give rows or generate")
    controllers, via_edge = {}, set()
    for i, c in enumerate(raw.get("opcua_controllers") or []):
        if not isinstance(c, dict) or "id" not in c:
            raise FleetConfigError(f"opcua_controllers[{i}]: needs an id")
        if c.get("via", "direct") not in ("direct", "edge"):
            raise FleetConfigError(f"opcua_controllers[{i}]: via is direct or edge")
        if c.get("via") == "edge":
            via_edge.add(str(c["id"]))
        elif "endpoint" not in c:
            raise FleetConfigError(f"opcua_controllers[{i}]: needs an endpoint (or via: edge)")
        controllers[c["id"]] = OpcUaConfig(
            id=str(c["id"]),
            endpoint=str(c.get("endpoint", "")),
            browse_root=str(c.get("browse_root", "ns=2;s=Fleet")),
            methods_object=str(c.get("methods_object", c.get("browse_root", "ns=2;s=Fleet"))),
            publishing_interval_ms=float(c.get("publishing_interval_ms", 100)),
            kind="opcua_agv",
        )
    homes, opcua = {}, {}
    for i, v in enumerate(raw.get("vehicles") or []):
        if not isinstance(v, dict) or "serial" not in v or "home" not in v:
            raise FleetConfigError(f"vehicles[{i}]: needs serial and home")
        try:
            layout.cell_of(str(v["home"]))
        except KeyError:
            raise FleetConfigError(f"vehicles[{i}]: home {v['home']!r} is not a map node") from None
        homes[str(v["serial"])] = str(v["home"])
        if v.get("vendor", "vda5050") == "opcua":
            if v.get("controller") not in controllers:
                raise FleetConfigError(f"vehicles[{i}]: unknown controller {v.get('controller')!r}")
            opcua[str(v["serial"])] = str(v["controller"])
    if not homes:
        raise FleetConfigError("vehicles: at least one vehicle is needed")
    defaults = FleetConfig()
    fleet = FleetConfig(
        **{
            k: type(getattr(defaults, k))(v)
            for k, v in raw.items()
            if k in FleetConfig.__dataclass_fields__
        }
    )
    zones = []
    for i, z in enumerate(raw.get("arm_zones") or []):
        try:
            zone = ArmZone(
                str(z["zone"]), str(z["station"]), str(z["pick_node"]), str(z["pack_node"])
            )
            layout.cell_of(zone.pick_node), layout.cell_of(zone.pack_node)
        except (KeyError, TypeError) as exc:
            raise FleetConfigError(f"arm_zones[{i}]: {exc}") from None
        zones.append(zone)
    return FleetSetup(
        layout,
        homes,
        opcua,
        tuple(controllers.values()),
        frozenset(via_edge),
        str(raw.get("manufacturer", "whs-sim")),
        fleet,
        tuple(zones),
        float(raw.get("tick_s", 0.02)),
    )


def load_fleet_config(path: Path | str) -> FleetSetup:
    """Read and validate a fleet YAML file."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise FleetConfigError(f"cannot read {path}: {exc}") from exc
    try:
        return parse_fleet_config(raw)
    except (FleetConfigError, TypeError, ValueError) as exc:
        raise FleetConfigError(f"{path}: {exc}") from exc


class DirectController:
    """A fleet controller called from this process with the edge's OPC UA AGV adapter."""

    def __init__(
        self,
        config: OpcUaConfig,
        on_state: StateHandler,
        on_connection: ConnectionHandler | None = None,
        call_timeout_s: float = 5.0,
    ) -> None:
        self.link = ControllerLink(self._enqueue, on_state, on_connection)
        self.adapter = OpcUaAgvAdapter(config, self._events, self._status)
        self.failed_calls: list[tuple[str, str]] = []
        self._timeout = call_timeout_s
        self._calls: queue.Queue[tuple[str, dict[str, Any], Any] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name=f"{config.id}-calls", daemon=True)

    def start(self) -> None:
        """Connect, and call methods in order on one worker thread (never the OPC UA one)."""
        self._worker.start()
        self.adapter.start()

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        """Block until connected."""
        return self.adapter.wait_connected(timeout_s)

    def stop(self) -> None:
        """Stop calling and disconnect."""
        self._calls.put(None)
        self._worker.join(5)
        self.adapter.stop()

    def _events(self, events: list[Event], _dead: list[DeadLetter]) -> None:
        for event in events:
            if event.type == AGV_STATE:
                self.link.on_agv_state(event.data)

    def _status(self, _device: str, online: bool, _reason: str) -> None:
        self.link.on_controller(online)

    def _enqueue(self, method: str, params: dict[str, Any], done: Any) -> None:
        self._calls.put((method, params, done))

    def _work(self) -> None:
        while (item := self._calls.get()) is not None:
            method, params, done = item
            try:
                self.adapter.call(method, params, self._timeout)
                ok = True
            except Exception as exc:  # refused or offline: the fleet sees no progress
                logger.warning("%s(%s) failed: %s", method, params.get("serial"), exc)
                self.failed_calls.append((method, str(exc)))
                ok = False
            done(ok)


class FleetService:
    """The running fleet: links, manager loop, wave feeder; start() and stop()."""

    def __init__(
        self,
        setup: FleetSetup,
        container: Container,
        stations: StationManager | None = None,
        edge_link: EdgeLink | None = None,
    ) -> None:
        settings = container.settings
        self.setup = setup
        self._t0 = time.monotonic()
        self.links = VehicleLinks()
        box: list[FleetManager] = []
        broker = BrokerConfig(
            host=settings.mqtt_host,
            port=settings.mqtt_port,
            username=settings.mqtt_username or None,
            password=settings.mqtt_password.get_secret_value() or None,
            tls=settings.mqtt_tls,
        )
        self.master = Vda5050Master(
            broker,
            f"{settings.site}-fleet",
            manufacturer=setup.manufacturer,
            on_state=lambda s, m: box[0].on_state(s, m),
            on_connection=lambda s, c: box[0].on_connection(s, c),
        )
        self.controllers: list[DirectController | EdgeController] = []
        by_controller: dict[str, ControllerLink] = {}

        def state(s: str, m: dict[str, Any]) -> None:
            if s in box[0].vehicles:
                box[0].on_state(s, m)

        def connection(s: str, c: str) -> None:
            if s in box[0].vehicles:
                box[0].on_connection(s, c)

        for controller in setup.controllers:
            ctl: DirectController | EdgeController
            if controller.id in setup.via_edge:
                serials = [s for s, c in setup.opcua.items() if c == controller.id]
                commands = CommandArmLink(
                    container.sessions, lambda: edge_link, settings.site, actor="fleet"
                )
                ctl = EdgeController(
                    controller.id, serials, commands, container.sessions, state, connection
                )
            else:
                ctl = DirectController(controller, state, connection)
            by_controller[controller.id] = ctl.link
            self.controllers.append(ctl)
        for serial in setup.homes:
            controller_id = setup.opcua.get(serial)
            self.links.add(serial, by_controller[controller_id] if controller_id else self.master)
        self.manager = FleetManager(
            setup.layout,
            self.links,
            self.clock,
            setup.homes,
            setup.fleet,
            SqlTaskStore(container.sessions),
        )
        box.append(self.manager)
        self.waves = (
            WaveArms(container.sessions, stations, list(setup.arm_zones), lambda: self._carry)
            if stations is not None and setup.arm_zones
            else None
        )
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def clock(self) -> float:
        """Fleet time: real seconds since start."""
        return time.monotonic() - self._t0

    def _carry(self, pick_node: str, pack_node: str, tote: str, origin: str) -> str:
        return self.manager.submit(TaskKind.TOTE, pick_node, pack_node, tote, origin).id

    def start(self) -> None:
        """Reload tasks, connect, and run the loops."""
        restored = self.manager.restore()
        if restored:
            logger.info("fleet: %d unfinished transport task(s) queued again", restored)
        self.master.start()
        for controller in self.controllers:
            controller.start()
        self._stop.clear()
        loop = threading.Thread(
            target=self.manager.run, args=(self._stop, self.setup.tick_s), name="fleet", daemon=True
        )
        self._threads = [loop]
        if self.waves is not None:
            self._threads.append(threading.Thread(target=self._feed, name="wave-arms", daemon=True))
        for thread in self._threads:
            thread.start()

    def _feed(self) -> None:
        assert self.waves is not None
        while not self._stop.wait(1.0):
            try:
                self.waves.step()
            except Exception:
                logger.exception("feeding arm stations from waves failed")

    def stop(self) -> None:
        """Stop the loops (tasks are saved), disconnect."""
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self.manager.save()  # whatever changed since the last tick
        self.master.stop()
        for controller in self.controllers:
            controller.stop()


def fleet_service(path: Path | str) -> Any:
    """A `services` entry for `create_app`: runs the fleet of the file at `path`."""
    setup = load_fleet_config(path)

    @contextmanager
    def run(app: FastAPI, container: Container) -> Iterator[None]:
        service = FleetService(
            setup,
            container,
            getattr(app.state, "stations", None),
            getattr(app.state, "edge_link", None),
        )
        service.start()
        app.state.fleet = service.manager
        app.state.fleet_service = service
        try:
            yield
        finally:
            app.state.fleet = None
            service.stop()

    return run

"""The fleet and its vehicles in one SimPy process, no broker: as fast as the CPU allows.

The link builds orders with the master adapter's own code (OrderBook, headers), so the same
messages flow as over MQTT; the benchmark and the unit tests use it.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

import simpy

from central.fleet.layout import HOME, Layout
from central.fleet.manager import FleetConfig, FleetManager
from central.fleet.store import TaskStore
from edge.vda5050.orders import OrderBook, RouteNode
from edge.vda5050.protocol import HeaderCounter, header, validate_message
from simulators.vda5050.vehicle import AgvVehicle, VehicleSpec


class InProcessLink:
    """Master side without MQTT: orders and instant actions go straight to the vehicles."""

    def __init__(self, vehicles: dict[str, AgvVehicle], validate: bool = False) -> None:
        self.vehicles = vehicles
        self.validate = validate
        self.books: dict[str, OrderBook] = {}
        self.headers: dict[str, HeaderCounter] = {s: HeaderCounter() for s in vehicles}
        self.sent = 0

    def _send(self, serial: str, topic: str, body: dict[str, Any]) -> dict[str, Any]:
        v = self.vehicles[serial]
        msg = {**header(self.headers[serial], topic, v.spec.manufacturer, serial), **body}
        if self.validate:
            validate_message(topic, msg)
        self.sent += 1
        if topic == "order":
            v.on_order(msg)
        else:
            v.on_instant_actions(msg)
        return msg

    def send_route(
        self, serial: str, order_id: str, route: list[Any], released: int
    ) -> dict[str, Any]:
        """Send an order or order update."""
        nodes = [RouteNode(n.node_id, n.x, n.y, n.actions) for n in route]
        book = self.books.get(serial)
        if book is None or book.order_id != order_id:
            book = self.books[serial] = OrderBook(order_id, nodes)
        elif released == book.released and nodes == book.route:
            return {}
        return self._send(serial, "order", book.update(nodes, released))

    def instant(self, serial: str, action_type: str, **params: Any) -> dict[str, Any]:
        """Send one instant action."""
        action: dict[str, Any] = {
            "actionType": action_type,
            "actionId": f"{action_type}-{self.sent}",
            "blockingType": "NONE",
        }
        if params:
            action["actionParameters"] = [{"key": k, "value": v} for k, v in params.items()]
        return self._send(serial, "instantActions", {"actions": [action]})

    def forget_order(self, serial: str) -> None:
        """Next route is a new order."""
        self.books.pop(serial, None)


class InProcessFleet:
    """`n` vehicles at the layout's homes, a fleet manager ticking every `tick_s` sim seconds."""

    def __init__(
        self,
        layout: Layout,
        n: int,
        *,
        tick_s: float = 0.25,
        config: FleetConfig | None = None,
        validate: bool = False,
        store: TaskStore | None = None,
        **spec: Any,
    ) -> None:
        self.env = simpy.Environment()
        self.layout = layout
        homes = layout.cells(HOME)[:n]
        epoch = datetime.now(UTC)
        self.vehicles: dict[str, AgvVehicle] = {}
        self.manager: FleetManager | None = None

        def publish_for(serial: str) -> Any:
            def publish(topic: str, msg: dict[str, Any], qos: int, retain: bool) -> None:
                if validate:
                    validate_message(topic, msg)
                if topic == "state" and self.manager is not None:
                    self.manager.on_state(serial, msg)

            return publish

        for i, cell in enumerate(homes):
            serial = f"agv{i:03d}"
            x, y = layout.position(cell)
            vspec = VehicleSpec(serial, start_node=layout.node_id(cell), x=x, y=y, **spec)
            self.vehicles[serial] = AgvVehicle(
                self.env, vspec, publish_for(serial), epoch=epoch, validate_incoming=validate
            )
        self.link = InProcessLink(self.vehicles, validate)
        self.manager = FleetManager(
            layout,
            self.link,
            lambda: float(self.env.now),
            {s: layout.node_id(c) for s, c in zip(self.vehicles, homes, strict=True)},
            config,
            store,
        )
        self.tick_s = tick_s
        for v in self.vehicles.values():
            v.publish_state()
        self.env.process(self._loop())

    def _loop(self) -> Generator[simpy.events.Event, Any, None]:
        assert self.manager is not None
        while True:
            self.manager.tick()
            yield self.env.timeout(self.tick_s)

    @property
    def fleet(self) -> FleetManager:
        """The manager."""
        assert self.manager is not None
        return self.manager

    def run(self, until: float) -> None:
        """Advance simulated time."""
        self.env.run(until=until)

"""VDA 5050 2.1 master side over MQTT: orders, instant actions, state and connection tracking.

Every message published or accepted is validated against the official 2.1.0 schemas, plus the
protocol rules the schemas cannot express (sequence ids, base/horizon, stitching, headerId order).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from firmware_interfaces.validation import ContractError

from edge.adapters.coordinator import MqttCoordinator
from edge.config import BrokerConfig
from edge.events import Event, parse_ts, utc_now
from edge.vda5050.orders import OrderBook, RouteNode
from edge.vda5050.protocol import (
    INTERFACE,
    MAJOR,
    HeaderCounter,
    HeaderTracker,
    ProtocolError,
    header,
    validate_message,
)

logger = logging.getLogger(__name__)

AGV_STATE = "agv.state"
AGV_CONNECTION = "agv.connection"

StateHandler = Callable[[str, dict[str, Any]], None]
ConnectionHandler = Callable[[str, str], None]


@dataclass
class VehicleView:
    """What the master knows of one vehicle."""

    serial: str
    manufacturer: str
    connection: str = "UNKNOWN"
    state: dict[str, Any] | None = None
    factsheet: dict[str, Any] | None = None
    book: OrderBook | None = None
    headers: HeaderCounter = field(default_factory=HeaderCounter)


def state_event(serial: str, state: dict[str, Any]) -> Event:
    """The compact `agv.state` uplink event of a VDA 5050 state message."""
    pos = state.get("agvPosition")
    data: dict[str, Any] = {
        "serial": serial,
        "manufacturer": state["manufacturer"],
        "order_id": state["orderId"],
        "order_update_id": state["orderUpdateId"],
        "last_node_id": state["lastNodeId"],
        "driving": state["driving"],
        "paused": bool(state.get("paused", False)),
        "battery_pct": float(state["batteryState"]["batteryCharge"]),
        "charging": state["batteryState"]["charging"],
        "loaded": bool(state.get("loads")),
        "errors": [
            {"type": e["errorType"], "level": e["errorLevel"]} for e in state.get("errors", [])
        ],
    }
    if pos is not None:
        data["position"] = {"x": pos["x"], "y": pos["y"], "theta": pos["theta"]}
    return Event(AGV_STATE, serial, parse_ts(state["timestamp"]), data)


def connection_event(serial: str, message: dict[str, Any]) -> Event:
    """The `agv.connection` uplink event of a VDA 5050 connection message."""
    data = {
        "serial": serial,
        "manufacturer": message["manufacturer"],
        "connection_state": message["connectionState"],
    }
    return Event(AGV_CONNECTION, serial, parse_ts(message["timestamp"]), data)


class Vda5050Master:
    """The master-control side for every vehicle of one interface on one broker."""

    def __init__(
        self,
        broker: BrokerConfig,
        client_id: str,
        *,
        manufacturer: str,
        on_state: StateHandler | None = None,
        on_connection: ConnectionHandler | None = None,
        on_event: Callable[[Event], None] | None = None,
        record: bool = False,
        map_id: str = "site",
    ) -> None:
        self.manufacturer = manufacturer
        self.map_id = map_id
        self.vehicles: dict[str, VehicleView] = {}
        self.headers_in = HeaderTracker()
        self.rejected: list[tuple[str, str]] = []  # (topic, reason) of messages not accepted
        self.log: list[tuple[str, str, dict[str, Any]]] | None = [] if record else None
        self._on_state, self._on_connection, self._on_event = on_state, on_connection, on_event
        self._lock = threading.RLock()
        self.link = MqttCoordinator("vda5050", broker, client_id, clean_session=True)
        base = f"{INTERFACE}/{MAJOR}/{manufacturer}/+"
        self.link.subscribe(f"{base}/state", self._on_message, qos=0)
        self.link.subscribe(f"{base}/connection", self._on_message, qos=1)
        self.link.subscribe(f"{base}/factsheet", self._on_message, qos=0)

    def start(self) -> None:
        """Connect in the background."""
        self.link.start()

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        """Block until connected."""
        return self.link.wait_connected(timeout_s)

    def stop(self) -> None:
        """Disconnect."""
        self.link.stop()

    def view(self, serial: str) -> VehicleView:
        """The vehicle called `serial` (created on first use)."""
        with self._lock:
            if serial not in self.vehicles:
                self.vehicles[serial] = VehicleView(serial, self.manufacturer)
            return self.vehicles[serial]

    def send_route(
        self, serial: str, order_id: str, route: list[RouteNode], released: int
    ) -> dict[str, Any]:
        """Send an order (new `order_id`) or an order update releasing `released` route nodes."""
        with self._lock:
            v = self.view(serial)
            if v.book is None or v.book.order_id != order_id:
                v.book = OrderBook(order_id, list(route), map_id=self.map_id)
            elif released == v.book.released and route == v.book.route:
                return {}  # nothing new to say
            body = v.book.update(route, released)
            return self._publish(v, "order", body, qos=0)

    def send_instant_actions(self, serial: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
        """Send instant actions (each gets an actionId if it has none)."""
        with self._lock:
            v = self.view(serial)
            full = [
                {"actionId": a.get("actionId") or uuid.uuid4().hex, "blockingType": "NONE", **a}
                for a in actions
            ]
            return self._publish(v, "instantActions", {"actions": full}, qos=0)

    def instant(self, serial: str, action_type: str, **params: Any) -> dict[str, Any]:
        """One instant action by type, with simple key/value parameters."""
        action: dict[str, Any] = {"actionType": action_type}
        if params:
            action["actionParameters"] = [{"key": k, "value": v} for k, v in params.items()]
        return self.send_instant_actions(serial, [action])

    def forget_order(self, serial: str) -> None:
        """Drop the order book (after cancelOrder): the next route starts a new order."""
        with self._lock:
            self.view(serial).book = None

    def _publish(
        self, v: VehicleView, topic: str, body: dict[str, Any], qos: int
    ) -> dict[str, Any]:
        message = {**header(v.headers, topic, v.manufacturer, v.serial), **body}
        validate_message(topic, message)  # never send what the standard forbids
        self.link.publish(
            f"{INTERFACE}/{MAJOR}/{v.manufacturer}/{v.serial}/{topic}",
            json.dumps(message, separators=(",", ":")).encode(),
            qos=qos,
        )
        if self.log is not None:
            self.log.append(("out", topic, message))
        return message

    def _on_message(self, topic: str, payload: bytes) -> None:
        parts = topic.split("/")
        if len(parts) != 5:
            return
        serial, kind = parts[3], parts[4]
        if not payload:
            return  # a cleared retained message
        try:
            message = json.loads(payload)
            validate_message(kind, message)
        except (json.JSONDecodeError, UnicodeDecodeError, ContractError, ProtocolError) as exc:
            logger.warning("rejected %s from %s: %s", kind, serial, exc)
            self.rejected.append((topic, str(exc)))
            return
        if message["serialNumber"] != serial:
            self.rejected.append((topic, "serialNumber differs from the topic"))
            return
        with self._lock:
            if kind == "connection" and message["connectionState"] == "ONLINE":
                self.headers_in.reset(serial, "state")
            if kind != "connection" and not self.headers_in.accept(
                serial, kind, message["headerId"]
            ):
                self.rejected.append((topic, "headerId not newer than the last one"))
                return
            if self.log is not None:
                self.log.append(("in", kind, message))
            v = self.view(serial)
            if kind == "state":
                v.state = message
            elif kind == "connection":
                v.connection = message["connectionState"]
            elif kind == "factsheet":
                v.factsheet = message
        if kind == "state":
            if self._on_state:
                self._on_state(serial, message)
            if self._on_event:
                self._on_event(state_event(serial, message))
        elif kind == "connection":
            if self._on_connection:
                self._on_connection(serial, message["connectionState"])
            if self._on_event:
                self._on_event(connection_event(serial, message))


__all__ = ["AGV_CONNECTION", "AGV_STATE", "RouteNode", "Vda5050Master", "utc_now"]

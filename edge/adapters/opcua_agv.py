"""AGVs of a vendor whose fleet controller speaks OPC UA: the same `agv.state` events as VDA 5050.

An `OpcUaAgvAdapter` is an `OpcUaAdapter` (connections, subscriptions, reconnects, method calls
for commands such as `GoTo`, `Pause`) subscribed below the controller's fleet object
(simulators/opcua_agv.py shows the shape: `Vehicles/<serial>/LastNodeId`, `X`, `Y`, `Theta`,
`OrderId`, `OrderUpdateId`, `Driving`, `Paused`, `BatteryPct`, `Charging`, `Loaded`, `Errors`
and `Manufacturer` on the fleet object). Samples of those variables become one `agv.state`
event per vehicle and change (schema `event_agv_state`, as `edge/adapters/vda5050.py` makes from
VDA 5050 state messages), so central and the live map need not know the vendor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from edge.adapters.opcua import EventSink, OpcUaAdapter, StatusSink, tag_name
from edge.adapters.vda5050 import AGV_STATE
from edge.config import OpcUaConfig
from edge.deadletter import DeadLetter
from edge.events import Event, utc_now

FIELDS = {
    "LastNodeId": ("last_node_id", str),
    "OrderId": ("order_id", str),
    "OrderUpdateId": ("order_update_id", int),
    "Driving": ("driving", bool),
    "Paused": ("paused", bool),
    "BatteryPct": ("battery_pct", float),
    "Charging": ("charging", bool),
    "Loaded": ("loaded", bool),
    "Errors": ("errors", str),
    "X": ("x", float),
    "Y": ("y", float),
    "Theta": ("theta", float),
}
REQUIRED = ("last_node_id", "order_id", "order_update_id", "driving", "battery_pct")


def agv_state_data(serial: str, manufacturer: str, values: dict[str, Any]) -> dict[str, Any]:
    """The `agv.state` data of one vehicle from its latest variable values."""
    errors = [e.strip() for e in str(values.get("errors", "")).split(",") if e.strip()]
    data: dict[str, Any] = {
        "serial": serial,
        "manufacturer": manufacturer,
        "order_id": values["order_id"],
        "order_update_id": max(0, values["order_update_id"]),
        "last_node_id": values["last_node_id"],
        "driving": values["driving"],
        "paused": values.get("paused", False),
        "battery_pct": min(100.0, max(0.0, values["battery_pct"])),
        "charging": values.get("charging", False),
        "loaded": values.get("loaded", False),
        "errors": [{"type": e[:128], "level": "FATAL"} for e in errors[:100]],
    }
    if all(k in values for k in ("x", "y")):
        data["position"] = {"x": values["x"], "y": values["y"], "theta": values.get("theta", 0.0)}
    return data


class OpcUaAgvAdapter(OpcUaAdapter):
    """A vendor fleet controller over OPC UA, reported as VDA-5050-like `agv.state` events."""

    def __init__(
        self,
        config: OpcUaConfig,
        sink: EventSink,
        on_status: StatusSink | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._agv_sink = sink
        self._vehicles: dict[str, dict[str, Any]] = {}
        self._manufacturer = config.id
        self._values_lock = threading.Lock()
        super().__init__(config, self._split, on_status, clock)

    def vehicle(self, serial: str) -> dict[str, Any]:
        """The latest values of one vehicle (empty if unknown)."""
        with self._values_lock:
            return dict(self._vehicles.get(serial, {}))

    def _split(self, events: list[Event], dead: list[DeadLetter]) -> None:
        passing: list[Event] = []
        changed: dict[str, datetime] = {}
        with self._values_lock:
            for event in events:
                parts = tag_name(str(event.data.get("node_id", ""))).split(".")
                good = event.type == "telemetry.sample" and event.data.get("quality") == "good"
                if good and parts[-1] == "Manufacturer":
                    self._manufacturer = str(event.data["value"]) or self._manufacturer
                    continue
                if not good or len(parts) < 3 or parts[-3] != "Vehicles" or parts[-1] not in FIELDS:
                    passing.append(event)
                    continue
                serial = parts[-2]
                name, kind = FIELDS[parts[-1]]
                values = self._vehicles.setdefault(serial, {})
                value = kind(event.data.get("value"))
                if values.get(name) != value:
                    values[name] = value
                    changed[serial] = event.ts
            for serial, ts in changed.items():
                values = self._vehicles[serial]
                if all(k in values for k in REQUIRED):
                    data = agv_state_data(serial, self._manufacturer, values)
                    passing.append(Event(AGV_STATE, serial, ts, data))
        if passing or dead:
            self._agv_sink(passing, dead)

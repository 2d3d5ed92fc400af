"""The fleet's `VehicleLink` for AGVs behind a vendor's fleet controller (OPC UA methods).

Commands down: routes and instant actions become method calls on the controller
(`GoTo` with the released nodes of the order, again with more nodes as the fleet releases
them; `Cancel`, `Pause`, `Charge`, `SetLoaded` for the node actions pick and drop), handed to
a transport in order: `whs/fleet_runtime.py` calls them with the edge's OPC UA AGV adapter in
this process, `central/fleet/edge_controller.py` sends them as device commands through the
edge. State back: `agv.state` event data (the same events the VDA 5050 adapter makes) is turned
into the few fields of a VDA 5050 state the fleet reads (lastNodeId, orderId, driving, paused,
battery, position, errors, nodeStates of the order still ahead, actionStates of the node
actions run here). The controller going offline or online becomes its vehicles' connection
state (CONNECTIONBROKEN / ONLINE).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

StateHandler = Callable[[str, dict[str, Any]], None]
ConnectionHandler = Callable[[str, str], None]


@dataclass
class _Order:
    """What the link sent a vehicle: the order's released nodes and its final node action."""

    order_id: str
    nodes: list[str] = field(default_factory=list)
    complete: bool = False  # every node of the route is released
    action: dict[str, Any] | None = None  # on the last node
    action_status: str = ""  # "", RUNNING, FINISHED, FAILED
    passed: int = 0  # index in `nodes` of the node it stands on


Call = Callable[[str, dict[str, Any], Callable[[bool], None]], None]


class ControllerLink:
    """Drives the vehicles of one fleet controller for the fleet manager."""

    def __init__(
        self,
        call: Call,
        on_state: StateHandler,
        on_connection: ConnectionHandler | None = None,
    ) -> None:
        self._transport = call
        self._on_state = on_state
        self._on_connection = on_connection or (lambda _s, _c: None)
        self._lock = threading.RLock()
        self._orders: dict[str, _Order] = {}
        self._last: dict[str, dict[str, Any]] = {}  # serial -> latest agv.state data

    # --- VehicleLink -----------------------------------------------------------------------
    def send_route(
        self, serial: str, order_id: str, route: list[Any], released: int
    ) -> dict[str, Any]:
        """GoTo with the released nodes (again, with more, for every further release)."""
        nodes = [n.node_id for n in route[:released]]
        with self._lock:
            order = self._orders.get(serial)
            if order is None or order.order_id != order_id:
                order = self._orders[serial] = _Order(order_id)
            if nodes == order.nodes:
                return {}
            order.nodes = nodes
            order.complete = released >= len(route)
            last = route[-1].actions if route else ()
            order.action = dict(last[0]) if order.complete and last else None
        params = {"serial": serial, "order_id": order_id, "nodes": ",".join(nodes)}
        self._call("GoTo", params)
        return {"orderId": order_id, "nodes": nodes}

    def instant(self, serial: str, action_type: str, **params: Any) -> dict[str, Any]:
        """startPause/stopPause, cancelOrder, startCharging/stopCharging; others are ignored."""
        calls: dict[str, tuple[str, dict[str, Any]]] = {
            "startPause": ("Pause", {"serial": serial, "active": True}),
            "stopPause": ("Pause", {"serial": serial, "active": False}),
            "cancelOrder": ("Cancel", {"serial": serial}),
            "startCharging": ("Charge", {"serial": serial, "active": True}),
            "stopCharging": ("Charge", {"serial": serial, "active": False}),
        }
        if action_type not in calls:
            return {}
        method, args = calls[action_type]
        self._call(method, args)
        return {"actionType": action_type}

    def forget_order(self, serial: str) -> None:
        """The order is gone (cancelled): nothing ahead, the next route is a new order."""
        with self._lock:
            self._orders.pop(serial, None)

    # --- state back ------------------------------------------------------------------------
    def vda_state(self, serial: str) -> dict[str, Any] | None:
        """The latest state of a vehicle in the VDA 5050 fields the fleet reads."""
        with self._lock:
            data = self._last.get(serial)
            if data is None:
                return None
            order = self._orders.get(serial)
            ahead: list[str] = []
            actions: list[dict[str, Any]] = []
            if order is not None and data["order_id"] == order.order_id:
                ahead = order.nodes[order.passed + 1 :]
                if order.action and order.action_status:
                    actions = [
                        {
                            "actionId": order.action.get("actionId", ""),
                            "actionType": order.action["actionType"],
                            "actionStatus": order.action_status,
                        }
                    ]
            pos = data.get("position") or {}
            state: dict[str, Any] = {
                "orderId": data["order_id"],
                "lastNodeId": data["last_node_id"],
                "driving": data["driving"],
                "paused": data.get("paused", False),
                "batteryState": {
                    "batteryCharge": data["battery_pct"],
                    "charging": data.get("charging", False),
                },
                "errors": [
                    {"errorType": e["type"], "errorLevel": e["level"]} for e in data["errors"]
                ],
                "nodeStates": [{"nodeId": n} for n in ahead],
                "actionStates": actions,
                "loads": [{}] if data.get("loaded") else [],
            }
            if pos:
                state["agvPosition"] = {"x": pos["x"], "y": pos["y"], "theta": pos["theta"]}
            return state

    def on_agv_state(self, data: dict[str, Any]) -> None:
        """One `agv.state` event's data arrived."""
        serial = str(data["serial"])
        with self._lock:
            self._last[serial] = dict(data)
            self._track(serial)
        self._report(serial)

    def _track(self, serial: str) -> None:
        """Progress along the order, and the final node action once it stands at the end."""
        data, order = self._last[serial], self._orders.get(serial)
        if order is None or data["order_id"] != order.order_id:
            return
        for i in range(order.passed, len(order.nodes)):
            if order.nodes[i] == data["last_node_id"]:
                order.passed = i
                break
        at_end = order.complete and order.passed == len(order.nodes) - 1
        if at_end and not data["driving"] and order.action and not order.action_status:
            order.action_status = "RUNNING"
            self._run_action(serial, order)

    def _run_action(self, serial: str, order: _Order) -> None:
        assert order.action is not None
        kind = order.action["actionType"]
        calls: dict[str, tuple[str, dict[str, Any]]] = {
            "pick": ("SetLoaded", {"serial": serial, "loaded": True}),
            "drop": ("SetLoaded", {"serial": serial, "loaded": False}),
            "startCharging": ("Charge", {"serial": serial, "active": True}),
        }

        def done(ok: bool) -> None:
            with self._lock:
                order.action_status = "FINISHED" if ok else "FAILED"
            self._report(serial)

        if kind in calls:
            method, args = calls[kind]
            self._call(method, args, done)
        else:
            done(True)  # finePositioning and the like: nothing to do here

    def _report(self, serial: str) -> None:
        state = self.vda_state(serial)
        if state is not None:
            self._on_state(serial, state)

    def on_controller(self, online: bool) -> None:
        """The controller went offline or came back: so did its vehicles."""
        with self._lock:
            serials = list(self._last)
        for serial in serials:
            self._on_connection(serial, "ONLINE" if online else "CONNECTIONBROKEN")

    # --- calls -----------------------------------------------------------------------------
    def _call(
        self, method: str, params: dict[str, Any], done: Callable[[bool], None] | None = None
    ) -> None:
        self._transport(method, params, done or (lambda _ok: None))

"""One simulated AGV: order execution on a graph, actions, battery, faults, VDA 5050 messages."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import simpy

from edge.vda5050.protocol import HeaderCounter, header, validate_message
from simulators.vda5050.acceptance import ACCEPT, IGNORE, HeldOrder, judge

Publish = Callable[[str, dict[str, Any], int, bool], None]  # (topic, message, qos, retain)
FINAL = {"FINISHED", "FAILED"}


@dataclass(frozen=True)
class VehicleSpec:
    """A vehicle's identity, start pose and physics."""

    serial: str
    manufacturer: str = "whs-sim"
    start_node: str = "n0"
    x: float = 0.0
    y: float = 0.0
    speed_mps: float = 1.0
    battery_pct: float = 100.0
    drain_pct_per_m: float = 0.02
    idle_drain_pct_per_s: float = 0.0
    charge_pct_per_s: float = 0.5
    action_s: float = 2.0
    state_interval_s: float = 30.0
    visualization_interval_s: float = 0.0
    map_id: str = "site"


@dataclass
class Trajectory:
    """Ground truth for conflict checks: node stays and edge traversals in simulated seconds."""

    stays: list[tuple[str, float, float]] = field(default_factory=list)  # node, t_in, t_out
    moves: list[tuple[str, str, float, float]] = field(default_factory=list)  # u, v, t0, t1
    current: tuple[str, float] | None = None

    def arrive(self, node: str, t: float) -> None:
        """The vehicle stands on `node` from t."""
        self.current = (node, t)

    def depart(self, t: float) -> None:
        """The vehicle leaves its node at t."""
        if self.current is not None:
            self.stays.append((self.current[0], self.current[1], t))
            self.current = None

    def all_stays(self, now: float) -> list[tuple[str, float, float]]:
        """Every stay, the current one ending now."""
        extra = [(self.current[0], self.current[1], now)] if self.current else []
        return self.stays + extra


class AgvVehicle:
    """The vehicle's state machine and SimPy processes; publishes through `publish`."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: VehicleSpec,
        publish: Publish,
        *,
        epoch: datetime,
        validate_outgoing: bool = False,
        validate_incoming: bool = True,
    ) -> None:
        self.env, self.spec, self._publish = env, spec, publish
        self.epoch = epoch
        self.validate_outgoing = validate_outgoing
        self.validate_incoming = validate_incoming  # off only in-process, where orders come
        # from the master code the conformance tests check
        self.headers = HeaderCounter()
        self.x, self.y, self.theta = spec.x, spec.y, 0.0
        self.last_node_id, self.last_node_seq = spec.start_node, 0
        self.order_id, self.order_update_id = "", 0
        self.node_states: list[dict[str, Any]] = []
        self.edge_states: list[dict[str, Any]] = []
        self.actions: dict[str, dict[str, Any]] = {}  # actionId -> actionState
        self.node_actions: dict[int, list[dict[str, Any]]] = {}  # sequenceId -> actions
        self.paused = False
        self.driving = False
        self.battery = spec.battery_pct
        self.charging = False
        self.loads: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.blocked_nodes: set[str] = set()
        self.connected = True
        self.frozen = False  # fault: hung software, silent and still, deaf to messages
        self.stalled = False  # fault: says it drives, never gets anywhere
        self.trajectory = Trajectory()
        self.trajectory.arrive(spec.start_node, 0.0)
        self.rejected_orders = 0
        self._wake = env.event()
        self._cancel = False
        self._segment: tuple[float, float, float, float, float, float] | None = None
        env.process(self._drive())
        env.process(self._heartbeat())
        env.process(self._battery())
        if spec.visualization_interval_s > 0:
            env.process(self._visualize())

    # --- messages in -----------------------------------------------------------------------
    def on_order(self, order: dict[str, Any]) -> None:
        """Judge and take over (or reject) an order or order update."""
        if self.frozen:
            return
        verdict = judge(order, self._held(), self.x, self.y, check_schema=self.validate_incoming)
        if verdict.outcome == IGNORE:
            return
        if verdict.outcome != ACCEPT:
            self.rejected_orders += 1
            refs = [{"referenceKey": "topic", "referenceValue": "order"}]
            if isinstance(order, dict):
                for key in ("headerId", "orderId", "orderUpdateId"):
                    if key in order:
                        refs.append({"referenceKey": key, "referenceValue": str(order[key])})
            self._set_error(verdict.error_type, "WARNING", verdict.reason, refs)
            self.publish_state()
            return
        self._clear_errors(
            {"validationError", "orderError", "orderUpdateError", "noRouteError", "pathBlocked"}
        )
        nodes, edges = order["nodes"], order["edges"]
        if verdict.is_update:
            keep = [n for n in self.node_states if n["released"]]
            keep_seq = {n["sequenceId"] for n in keep}
            self.node_states = keep + [_node_state(n) for n in nodes[1:]]
            self.edge_states = [e for e in self.edge_states if e["released"]] + [
                _edge_state(e) for e in edges
            ]
            new_nodes = [n for n in nodes[1:] if n["sequenceId"] not in keep_seq]
        else:
            self.actions = {
                k: a
                for k, a in self.actions.items()
                if a.get("_instant") and a["actionStatus"] not in FINAL
            }
            self.node_actions = {}
            self.node_states = [_node_state(n) for n in nodes]
            self.edge_states = [_edge_state(e) for e in edges]
            new_nodes = list(nodes)
        self.order_id, self.order_update_id = order["orderId"], order["orderUpdateId"]
        for n in new_nodes:
            self.node_actions[n["sequenceId"]] = n["actions"]
            for a in n["actions"]:
                self.actions[a["actionId"]] = {
                    "actionId": a["actionId"],
                    "actionType": a["actionType"],
                    "actionStatus": "WAITING",
                }
        if not verdict.is_update:
            first = self.node_states.pop(0)  # standing on it (or within its deviation range)
            self.last_node_id, self.last_node_seq = first["nodeId"], first["sequenceId"]
            self.env.process(self._run_node_actions(first["sequenceId"]))
        self.publish_state()
        self._kick()

    def on_instant_actions(self, message: dict[str, Any]) -> None:
        """Run instant actions (startPause, stopPause, cancelOrder, initPosition, ...)."""
        if self.frozen:
            return
        try:
            validate_message("instantActions", message)
        except ValueError as exc:
            self._set_error("validationError", "WARNING", str(exc), [])
            self.publish_state()
            return
        for action in message["actions"]:
            self._instant(action)
        self.publish_state()
        self._kick()

    def _instant(self, action: dict[str, Any]) -> None:
        kind, aid = action["actionType"], action["actionId"]
        state = {"actionId": aid, "actionType": kind, "actionStatus": "FINISHED", "_instant": True}
        self.actions[aid] = state
        params = {p["key"]: p["value"] for p in action.get("actionParameters", [])}
        if kind == "startPause":
            self.paused = True
        elif kind == "stopPause":
            self.paused = False
        elif kind == "startCharging":
            self.charging = True
        elif kind == "stopCharging":
            self.charging = False
        elif kind == "stateRequest":
            pass  # the state goes out below anyway
        elif kind == "factsheetRequest":
            self.publish_factsheet()
        elif kind == "initPosition":
            self.x, self.y = float(params.get("x", self.x)), float(params.get("y", self.y))
            self.theta = float(params.get("theta", self.theta))
            self.last_node_id = str(params.get("lastNodeId", self.last_node_id))
            self.trajectory.depart(self.env.now)
            self.trajectory.arrive(self.last_node_id, self.env.now)
        elif kind == "cancelOrder":
            if not self.node_states and not self._busy_actions():
                state["actionStatus"] = "FAILED"
                self._set_error(
                    "noOrderToCancel",
                    "WARNING",
                    "no order to cancel",
                    [{"referenceKey": "actionId", "referenceValue": aid}],
                )
            else:
                # stop at the next node: keep only the edge being driven and its end node
                keep = 1 if self.driving else 0
                dropped = self.node_states[keep:]
                self.node_states = self.node_states[:keep]
                self.edge_states = self.edge_states[:keep]
                for n in dropped:
                    for a in self.node_actions.get(n["sequenceId"], []):
                        self.actions[a["actionId"]]["actionStatus"] = "FAILED"
                for a in self.actions.values():
                    if a["actionStatus"] in {"WAITING", "INITIALIZING"}:
                        a["actionStatus"] = "FAILED"
                if self.driving:
                    state["actionStatus"] = "RUNNING"
                    self._cancel = True
                    self._cancel_state = state
        else:
            state["actionStatus"] = "FAILED"
            self._set_error(
                "instantActionError",
                "WARNING",
                f"unsupported instant action {kind!r}",
                [{"referenceKey": "actionId", "referenceValue": aid}],
            )

    # --- faults ----------------------------------------------------------------------------
    def block_node(self, node_id: str) -> None:
        """An obstacle on `node_id`: the vehicle will not drive onto it."""
        self.blocked_nodes.add(node_id)

    def clear_blocks(self) -> None:
        """Remove every obstacle."""
        self.blocked_nodes.clear()
        self._clear_errors({"pathBlocked"})
        self.publish_state()
        self._kick()

    def raise_error(self, error_type: str, level: str = "FATAL") -> None:
        """A vehicle error (FATAL stops driving until cleared)."""
        self._set_error(error_type, level, "injected fault", [])
        self.publish_state()

    def freeze(self) -> None:
        """Fault: the vehicle hangs (connection still up): no messages, no motion, deaf."""
        self.frozen = True

    def thaw(self) -> None:
        """End a freeze: it carries on where it stopped (messages sent meanwhile are lost)."""
        self.frozen = False
        self.publish_state()
        self._kick()

    def remove_from_floor(self) -> None:
        """An operator takes the hung vehicle off the floor: it holds no node and stays silent."""
        self.frozen = True
        self.trajectory.depart(self.env.now)

    def stall(self) -> None:
        """Fault: wheels spin, the vehicle reports driving but makes no progress."""
        self.stalled = True

    def unstall(self) -> None:
        """End a stall."""
        self.stalled = False
        self._kick()

    def clear_error(self, error_type: str) -> None:
        """Clear an injected error."""
        self._clear_errors({error_type})
        self.publish_state()
        self._kick()

    # --- messages out ----------------------------------------------------------------------
    def now_utc(self) -> datetime:
        """Simulated wall time: the epoch plus simulated seconds."""
        return self.epoch + timedelta(seconds=float(self.env.now))

    def message(self, topic: str, body: dict[str, Any]) -> dict[str, Any]:
        """A message with its header (headerId per topic)."""
        s = self.spec
        return {**header(self.headers, topic, s.manufacturer, s.serial, self.now_utc()), **body}

    def emit(self, topic: str, body: dict[str, Any], qos: int = 0, retain: bool = False) -> None:
        """Publish a message (validated first when asked to)."""
        if not self.connected or self.frozen:
            return
        msg = self.message(topic, body)
        if self.validate_outgoing:
            validate_message(topic, msg)
        self._publish(topic, msg, qos, retain)

    def publish_state(self) -> None:
        """Publish the full state message."""
        self.emit("state", self.state_body())

    def state_body(self) -> dict[str, Any]:
        """The state message without its header."""
        self._update_position()
        return {
            "orderId": self.order_id,
            "orderUpdateId": self.order_update_id,
            "lastNodeId": self.last_node_id,
            "lastNodeSequenceId": self.last_node_seq,
            "nodeStates": [dict(n) for n in self.node_states],
            "edgeStates": [dict(e) for e in self.edge_states],
            "agvPosition": self._position(),
            "velocity": {
                "vx": self.spec.speed_mps if self.driving else 0.0,
                "vy": 0.0,
                "omega": 0.0,
            },
            "loads": [dict(ld) for ld in self.loads],
            "driving": self.driving,
            "paused": self.paused,
            "newBaseRequest": self._base_low(),
            "actionStates": [
                {k: v for k, v in a.items() if not k.startswith("_")} for a in self.actions.values()
            ],
            "batteryState": {"batteryCharge": round(self.battery, 3), "charging": self.charging},
            "operatingMode": "AUTOMATIC",
            "errors": [dict(e) for e in self.errors],
            "information": [],
            "safetyState": {"eStop": "NONE", "fieldViolation": False},
        }

    def publish_factsheet(self) -> None:
        """Publish the factsheet (retained)."""
        self.emit("factsheet", factsheet_body(self.spec), qos=0, retain=True)

    def publish_visualization(self) -> None:
        """Publish position and velocity."""
        self._update_position()
        self.emit(
            "visualization",
            {
                "agvPosition": self._position(),
                "velocity": {"vx": self.spec.speed_mps if self.driving else 0.0, "vy": 0.0},
            },
        )

    # --- internals -------------------------------------------------------------------------
    def _position(self) -> dict[str, Any]:
        return {
            "x": round(self.x, 4),
            "y": round(self.y, 4),
            "theta": round(self.theta, 4),
            "mapId": self.spec.map_id,
            "positionInitialized": True,
        }

    def _held(self) -> HeldOrder:
        return HeldOrder(
            self.order_id,
            self.order_update_id,
            self.node_states,
            self.last_node_id,
            self.last_node_seq,
            self._busy_actions(),
        )

    def _busy_actions(self) -> bool:
        return any(
            a["actionStatus"] not in FINAL and not a.get("_instant") for a in self.actions.values()
        )

    def _base_low(self) -> bool:
        released = [n for n in self.node_states if n["released"]]
        horizon = len(self.node_states) > len(released)
        return horizon and len(released) <= 1

    def _set_error(self, kind: str, level: str, text: str, refs: list[dict[str, str]]) -> None:
        self.errors = [e for e in self.errors if e["errorType"] != kind]
        err: dict[str, Any] = {"errorType": kind, "errorLevel": level, "errorDescription": text}
        if refs:
            err["errorReferences"] = refs
        self.errors.append(err)

    def _clear_errors(self, kinds: set[str]) -> None:
        self.errors = [e for e in self.errors if e["errorType"] not in kinds]

    def _kick(self) -> None:
        if not self._wake.triggered:
            self._wake.succeed()

    def _wait(self, timeout: float | None = None) -> simpy.events.Event:
        self._wake = self.env.event()
        if timeout is None:
            return self._wake
        return self.env.any_of([self._wake, self.env.timeout(timeout)])

    def _can_drive(self) -> bool:
        if self.frozen or self.paused or any(e["errorLevel"] == "FATAL" for e in self.errors):
            return False
        if self.charging:
            return False
        if not self.node_states or not self.edge_states:
            return False
        if not (self.node_states[0]["released"] and self.edge_states[0]["released"]):
            return False
        return not self._busy_actions_blocking()

    def _busy_actions_blocking(self) -> bool:
        return any(
            a["actionStatus"] in {"INITIALIZING", "RUNNING"} and a.get("_blocks")
            for a in self.actions.values()
        )

    def _drive(self) -> Generator[simpy.events.Event, Any, None]:
        while True:
            if not self._can_drive():
                yield self._wait()
                continue
            target = self.node_states[0]
            if target["nodeId"] in self.blocked_nodes:
                if not any(e["errorType"] == "pathBlocked" for e in self.errors):
                    ref = [{"referenceKey": "nodeId", "referenceValue": target["nodeId"]}]
                    self._set_error("pathBlocked", "WARNING", "obstacle ahead", ref)
                    self.publish_state()
                yield self._wait(1.0)
                continue
            pos = target.get("nodePosition") or {"x": self.x, "y": self.y}
            x0, y0, x1, y1 = self.x, self.y, float(pos["x"]), float(pos["y"])
            length = math.hypot(x1 - x0, y1 - y0)
            if length > 1e-9:
                self.theta = math.atan2(y1 - y0, x1 - x0)
            self.driving = True
            self.trajectory.depart(self.env.now)
            t_start = self.env.now
            self.publish_state()
            done = 0.0
            while done < length - 1e-9:
                if self.frozen or self.stalled:
                    yield self._wait(0.5)  # no progress; a stall keeps `driving` true
                    continue
                if self.paused or any(e["errorLevel"] == "FATAL" for e in self.errors):
                    self.driving = False
                    self.publish_state()
                    yield self._wait()
                    self.driving = True
                    self.publish_state()
                    continue
                seg_t = (length - done) / self.spec.speed_mps
                began = self.env.now
                self._segment = (
                    began,
                    seg_t,
                    x0 + (x1 - x0) * done / length,
                    y0 + (y1 - y0) * done / length,
                    x1,
                    y1,
                )
                yield self._wait(seg_t)
                done += (self.env.now - began) * self.spec.speed_mps
                self._segment = None
                self.x = x0 + (x1 - x0) * min(done, length) / length
                self.y = y0 + (y1 - y0) * min(done, length) / length
            self.x, self.y = x1, y1
            self.battery = max(0.0, self.battery - length * self.spec.drain_pct_per_m)
            edge = self.edge_states.pop(0)
            node = self.node_states.pop(0)
            self.trajectory.moves.append(
                (self.last_node_id, node["nodeId"], t_start, float(self.env.now))
            )
            self.trajectory.arrive(node["nodeId"], float(self.env.now))
            del edge
            self.last_node_id, self.last_node_seq = node["nodeId"], node["sequenceId"]
            self.driving = False
            if self._cancel:
                self._cancel = False
                self._cancel_state["actionStatus"] = "FINISHED"
            self.env.process(self._run_node_actions(node["sequenceId"]))
            self.publish_state()

    def _update_position(self) -> None:
        if self._segment is None:
            return
        began, seg_t, sx, sy, x1, y1 = self._segment
        f = min(1.0, (self.env.now - began) / seg_t) if seg_t > 0 else 1.0
        self.x, self.y = sx + (x1 - sx) * f, sy + (y1 - sy) * f

    def _run_node_actions(self, seq: int) -> Generator[simpy.events.Event, Any, None]:
        for action in self.node_actions.get(seq, []):
            state = self.actions.get(action["actionId"])
            if state is None or state["actionStatus"] != "WAITING":
                continue
            blocks = action["blockingType"] != "NONE"
            state["_blocks"] = blocks
            state["actionStatus"] = "RUNNING"
            self.publish_state()
            kind = action["actionType"]
            if kind in {"pick", "drop", "finePositioning"}:
                yield self.env.timeout(self.spec.action_s)
            params = {p["key"]: p["value"] for p in action.get("actionParameters", [])}
            if kind == "pick":
                self.loads = [
                    {
                        "loadId": str(params.get("loadId", "")),
                        "loadType": str(params.get("loadType", "tote")),
                    }
                ]
            elif kind == "drop":
                self.loads = []
            elif kind == "startCharging":
                self.charging = True
            elif kind == "stopCharging":
                self.charging = False
            if state["actionStatus"] == "RUNNING":
                state["actionStatus"] = "FINISHED"
            self.publish_state()
        self._kick()

    def _heartbeat(self) -> Generator[simpy.events.Event, Any, None]:
        while True:
            yield self.env.timeout(self.spec.state_interval_s)
            self.publish_state()

    def _battery(self) -> Generator[simpy.events.Event, Any, None]:
        while True:
            yield self.env.timeout(1.0)
            if self.charging:
                before = self.battery
                self.battery = min(100.0, self.battery + self.spec.charge_pct_per_s)
                if before < 100.0 <= self.battery:
                    self.charging = False  # the vehicle stops a full charge itself
                    self.publish_state()
            elif not self.driving:
                self.battery = max(0.0, self.battery - self.spec.idle_drain_pct_per_s)

    def _visualize(self) -> Generator[simpy.events.Event, Any, None]:
        while True:
            yield self.env.timeout(self.spec.visualization_interval_s)
            self.publish_visualization()


def _node_state(node: dict[str, Any]) -> dict[str, Any]:
    out = {k: node[k] for k in ("nodeId", "sequenceId", "released")}
    if "nodePosition" in node:
        out["nodePosition"] = dict(node["nodePosition"])
    return out


def _edge_state(edge: dict[str, Any]) -> dict[str, Any]:
    return {k: edge[k] for k in ("edgeId", "sequenceId", "released")}


def factsheet_body(spec: VehicleSpec) -> dict[str, Any]:
    """A factsheet for the simulated type series."""
    instant = ["INSTANT"]
    return {
        "typeSpecification": {
            "seriesName": "whs-sim-tote-agv",
            "agvKinematic": "DIFF",
            "agvClass": "CARRIER",
            "maxLoadMass": 50.0,
            "localizationTypes": ["GRID"],
            "navigationTypes": ["VIRTUAL_LINE_GUIDED"],
        },
        "physicalParameters": {
            "speedMin": 0.0,
            "speedMax": spec.speed_mps,
            "accelerationMax": 1.0,
            "decelerationMax": 1.0,
            "heightMax": 0.5,
            "width": 0.6,
            "length": 0.8,
        },
        "protocolLimits": {
            "maxStringLens": {},
            "maxArrayLens": {},
            "timing": {"minOrderInterval": 0.05, "minStateInterval": 0.05},
        },
        "protocolFeatures": {
            "optionalParameters": [],
            "agvActions": [
                {"actionType": t, "actionScopes": instant}
                for t in (
                    "startPause",
                    "stopPause",
                    "cancelOrder",
                    "initPosition",
                    "stateRequest",
                    "factsheetRequest",
                    "startCharging",
                    "stopCharging",
                )
            ]
            + [{"actionType": t, "actionScopes": ["NODE"]} for t in ("pick", "drop")],
        },
        "agvGeometry": {},
        "loadSpecification": {"loadPositions": ["top"]},
    }


__all__ = ["AgvVehicle", "Publish", "Trajectory", "VehicleSpec", "factsheet_body"]

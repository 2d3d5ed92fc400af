"""Robot-arm pick stations over OPC UA: typed `arm.state` and `arm.pick_result` events.

A `RobotArmAdapter` is an `OpcUaAdapter` (same connections, subscriptions, reconnects and
method calls, see edge/adapters/opcua.py) for a server shaped after OPC UA for Robotics
(simulators/robot_arm.py): the safety and station variables below the browse root
(OperationalMode, EmergencyStop, ProtectiveStop, State, Holding, HeldSku, Picks, Failures)
become one `arm.state` event whenever one of them changes; the other tags stay
`telemetry.sample` events. Commands keep the shape of every device command (action = method,
params = its arguments); for `Pick`, `Place` and `PickAndPlace` the outputs
`(Result, Message, CycleTimeMs)` become an `arm.pick_result` event, and a cycle that failed
(Result != 0, or a bad status such as BadInvalidState) ends the command with status `error` and
the reason as its detail, so central sees a failed pick in the command result as well.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from edge.adapters.opcua import EventSink, OpcUaAdapter, OpcUaError, StatusSink
from edge.config import OpcUaConfig
from edge.deadletter import DeadLetter
from edge.events import Event, utc_now

ARM_STATE = "arm.state"
ARM_PICK_RESULT = "arm.pick_result"
CYCLE_ACTIONS = ("Pick", "Place", "PickAndPlace")

# OperationalModeEnumeration of OPC 40010-1
OPERATIONAL_MODES = {
    0: "OTHER",
    1: "MANUAL_REDUCED_SPEED",
    2: "MANUAL_HIGH_SPEED",
    3: "AUTOMATIC",
    4: "AUTOMATIC_EXTERNAL",
}
# last part of the browse path -> field of arm.state
STATE_FIELDS = {
    "OperationalMode": "operational_mode",
    "EmergencyStop": "emergency_stop",
    "ProtectiveStop": "protective_stop",
    "State": "state",
    "Holding": "holding",
    "HeldSku": "held_sku",
    "Picks": "picks",
    "Failures": "failures",
}
REQUIRED = ("operational_mode", "emergency_stop", "protective_stop", "state")


class PickFailed(OpcUaError):
    """The arm ran the cycle and reported a failure (no item, dropped, nothing seen)."""


def _state_value(field: str, value: Any) -> Any:
    if field == "operational_mode":
        return OPERATIONAL_MODES.get(int(value), "OTHER")
    if field in ("emergency_stop", "protective_stop", "holding"):
        return bool(value)
    if field in ("picks", "failures"):
        return int(value)
    return str(value)


def pick_result_data(
    action: str, params: dict[str, Any], outputs: list[Any] | None, failure: str | None
) -> dict[str, Any]:
    """The `arm.pick_result` data of one cycle: its outputs, or the status it was refused with."""
    data: dict[str, Any] = {"action": action}
    for key in ("sku", "qty", "tote"):
        if key in params:
            data[key] = params[key]
    if outputs is not None and len(outputs) >= 3:
        code, message, cycle_ms = outputs[0], outputs[1], outputs[2]
        data.update(ok=code == 0, result_code=int(code), reason=str(message))
        data["cycle_ms"] = round(float(cycle_ms), 1)
    else:
        data.update(ok=False, result_code=-1, reason=failure or "no result")
    return data


class RobotArmAdapter(OpcUaAdapter):
    """An OPC UA robot arm: typed state and pick-result events, commands as method calls."""

    def __init__(
        self,
        config: OpcUaConfig,
        sink: EventSink,
        on_status: StatusSink | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._arm_sink = sink
        self._clock = clock
        self._state: dict[str, Any] = {}
        self._state_lock = threading.Lock()
        self.pick_results = {"ok": 0, "failed": 0}
        super().__init__(config, self._split, on_status, clock)

    @property
    def arm_state(self) -> dict[str, Any]:
        """The latest known state (empty until the first values arrived)."""
        with self._state_lock:
            return dict(self._state)

    def _split(self, events: list[Event], dead: list[DeadLetter]) -> None:
        """Samples of state variables -> one arm.state event; everything else passes through."""
        passing: list[Event] = []
        changed_at: datetime | None = None
        with self._state_lock:
            for event in events:
                tag = str(event.data.get("tag", "")) if event.type == "telemetry.sample" else ""
                field = STATE_FIELDS.get(tag.rsplit(".", 1)[-1]) if tag else None
                if field is None or event.data.get("quality") != "good":
                    passing.append(event)
                    continue
                value = _state_value(field, event.data.get("value"))
                if self._state.get(field) != value:
                    self._state[field] = value
                    changed_at = event.ts
            state = dict(self._state)
        if changed_at is not None and all(k in state for k in REQUIRED):
            passing.append(Event(ARM_STATE, self.config.id, changed_at, state))
        if passing or dead:
            self._arm_sink(passing, dead)

    def call(self, action: str, params: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Call the method; a pick/place cycle also reports an arm.pick_result event."""
        if action not in CYCLE_ACTIONS:
            return super().call(action, params, timeout_s)
        try:
            output = super().call(action, params, timeout_s)
        except OpcUaError as exc:
            self._report(pick_result_data(action, params, None, str(exc)))
            raise
        outputs = output.get("outputs")
        data = pick_result_data(action, params, outputs if isinstance(outputs, list) else None, "")
        self._report(data)
        if not data["ok"]:
            raise PickFailed(f"{action} failed: {data['reason']} (result {data['result_code']})")
        return {**output, "result_code": data["result_code"], "cycle_ms": data["cycle_ms"]}

    def _report(self, data: dict[str, Any]) -> None:
        self.pick_results["ok" if data["ok"] else "failed"] += 1
        self._arm_sink([Event(ARM_PICK_RESULT, self.config.id, self._clock(), data)], [])

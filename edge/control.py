"""Devices the edge drives itself (OPC UA) and commands from central, wired for the agent."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from firmware_interfaces import topics

from edge.adapters.opcua import OpcUaAdapter
from edge.adapters.opcua_agv import OpcUaAgvAdapter
from edge.adapters.robot_arm import RobotArmAdapter
from edge.commands import (
    CommandExecutor,
    CommandStore,
    CommandTarget,
    MqttDeviceTarget,
    OpcUaTarget,
)
from edge.config import OPCUA_AGV, ROBOT_ARM, EdgeConfig, OpcUaConfig, RfidGateConfig, ScaleConfig
from edge.converters.status import parse_device_status
from edge.deadletter import DeadLetter
from edge.events import Event, format_ts, utc_now

logger = logging.getLogger(__name__)

EventSink = Callable[[list[Event], list[DeadLetter]], None]
Publish = Callable[[str, bytes], None]

_MQTT_KIND = {RfidGateConfig: topics.RFID, ScaleConfig: topics.SCALE}
_ADAPTERS: dict[str, type[OpcUaAdapter]] = {
    ROBOT_ARM: RobotArmAdapter,
    OPCUA_AGV: OpcUaAgvAdapter,
}


class EdgeControl:
    """OPC UA adapters, the command executor and per-device online state of one edge."""

    def __init__(
        self,
        config: EdgeConfig,
        sink: EventSink,
        publish: Publish,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self._sink = sink
        self._publish = publish
        self._clock = clock
        self.adapters: dict[str, OpcUaAdapter] = {
            d.id: _ADAPTERS.get(d.kind, OpcUaAdapter)(d, sink, self._device_status, clock)
            for d in config.devices
            if isinstance(d, OpcUaConfig)
        }
        self.result_topic = topics.edge_topic(config.site, config.edge_id, topics.CMD_RESULT)
        self.command_topic = topics.edge_topic(config.site, config.edge_id, topics.CMD)
        self.store = CommandStore(config.data_dir / "edge.sqlite")
        self.executor = CommandExecutor(
            config.edge_id, self.store, self.target, self._publish_result, clock=clock
        )

    def start(self) -> None:
        """Connect the OPC UA devices."""
        for adapter in self.adapters.values():
            adapter.start()

    def wait_devices(self, timeout_s: float) -> bool:
        """Block until every OPC UA device is connected."""
        return all(a.wait_connected(timeout_s) for a in self.adapters.values())

    def stop(self) -> None:
        """Finish running commands, disconnect the OPC UA devices."""
        self.executor.shutdown()
        for adapter in self.adapters.values():
            adapter.stop()
        self.store.close()

    def target(self, device_id: str) -> CommandTarget | None:
        """Where a command for `device_id` goes (None: not a device of this edge)."""
        adapter = self.adapters.get(device_id)
        if adapter is not None:
            return OpcUaTarget(adapter.call)
        device = self.config.device(device_id)
        kind = _MQTT_KIND.get(type(device)) if device is not None else None
        if kind is None:
            return None
        topic = topics.device_topic(self.config.site, kind, device_id, topics.CMD)
        return MqttDeviceTarget(topic, self._publish)

    def on_command(self, topic: str, payload: bytes) -> None:
        """A message on edges/{edge}/cmd; bad ones become dead letters."""
        letter = self.executor.handle(topic, payload)
        if letter is not None:
            logger.warning("command dead-lettered: %s", letter.reason)
            self._sink([], [letter])

    def devices(self) -> dict[str, dict[str, Any]]:
        """Online state and counters of the OPC UA devices (for the heartbeat)."""
        return {device_id: a.stats() for device_id, a in self.adapters.items()}

    def _publish_result(self, result: dict[str, Any]) -> None:
        self._publish(self.result_topic, json.dumps(result).encode())

    def _device_status(self, device_id: str, online: bool, reason: str) -> None:
        body = {"device_id": device_id, "online": online, "ts": format_ts(self._clock())}
        body["reason"] = reason
        self._sink([parse_device_status(json.dumps(body), device_id)], [])

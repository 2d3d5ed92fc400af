"""Routes device messages to their device's adapter; what cannot be used becomes a dead letter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from firmware_interfaces import topics
from firmware_interfaces.validation import ContractError

from edge.adapters.mqtt_rfid import RfidGateAdapter
from edge.adapters.mqtt_scale import ScaleAdapter
from edge.config import EdgeConfig, OpcUaConfig, RfidGateConfig
from edge.converters.status import parse_device_status
from edge.deadletter import DeadLetter
from edge.events import EncodedEvents, Event

# Channels devices receive rather than send (the edge sees them because it may read devices/#).
_INBOUND_CHANNELS = {topics.CMD}
TOPIC_CACHE = 10_000


class Adapter(Protocol):
    """What the router needs from a device adapter."""

    kind: str
    channel: str

    def handle(self, payload: bytes, received_at: datetime) -> list[Event] | list[EncodedEvents]:
        """Convert one payload (ContractError if unusable); events or rows already encoded."""

    def poll(self, now: datetime) -> list[Event]:
        """Time-driven events (a pass that ended)."""

    def flush(self) -> list[Event]:
        """Close whatever is open (shutdown)."""


@dataclass
class Routed:
    """The outcome of one message: its events, or the dead letter it became, or neither."""

    events: list[Event] | list[EncodedEvents] = field(default_factory=list)
    dead_letter: DeadLetter | None = None
    ignored: bool = False


class DeviceRouter:
    """Maps device topics of the edge's site to the configured devices' adapters."""

    def __init__(self, config: EdgeConfig) -> None:
        self.site = config.site
        self._topics: dict[str, topics.DeviceTopic] = {}  # parsed device topics (they repeat)
        self.adapters: dict[str, Adapter] = {}
        for device in config.devices:
            if isinstance(device, OpcUaConfig):
                continue  # served by its own OPC UA adapter, not over MQTT
            self.adapters[device.id] = (
                RfidGateAdapter(device, max_row=config.uplink.max_batch_events)
                if isinstance(device, RfidGateConfig)
                else ScaleAdapter(device)
            )

    def route(self, topic: str, payload: bytes, received_at: datetime) -> Routed:
        """Convert one device message; never raises for bad input."""

        def dead(reason: str) -> Routed:
            return Routed(dead_letter=DeadLetter(topic, reason, payload, received_at))

        where = self._topics.get(topic)
        if where is None:
            try:
                where = topics.parse_device_topic(topic)
            except ValueError as exc:
                return dead(str(exc))
            if len(self._topics) >= TOPIC_CACHE:
                self._topics.clear()
            self._topics[topic] = where
        if where.site != self.site:
            return dead(f"topic is for site {where.site!r}, this edge serves {self.site!r}")
        if where.channel in _INBOUND_CHANNELS:
            return Routed(ignored=True)
        adapter = self.adapters.get(where.device_id)
        if adapter is None:
            return dead(f"unknown device {where.device_id!r} (not in the edge configuration)")
        if where.kind != adapter.kind:
            return dead(
                f"device {where.device_id!r} is a {adapter.kind!r} device, not {where.kind!r}"
            )
        try:
            if where.channel == topics.STATUS:
                if not payload:
                    return Routed(ignored=True)  # an empty retained message clears the status
                return Routed(events=[parse_device_status(payload, where.device_id)])
            if where.channel == adapter.channel:
                return Routed(events=adapter.handle(payload, received_at))
        except ContractError as exc:
            return dead(str(exc))
        return dead(f"unexpected channel {where.channel!r} for a {adapter.kind!r} device")

    def poll(self, now: datetime) -> list[Event]:
        """Events that are due because time passed (passes that ended)."""
        return [event for adapter in self.adapters.values() for event in adapter.poll(now)]

    def flush(self) -> list[Event]:
        """Close every open pass (shutdown)."""
        return [event for adapter in self.adapters.values() for event in adapter.flush()]

"""Scales over MQTT: weight samples on .../devices/scale/{scale}/weight -> stable weights."""

from __future__ import annotations

from datetime import datetime

from firmware_interfaces import topics

from edge.config import ScaleConfig
from edge.converters.scale import StableWeightDetector, parse_scale_weight
from edge.events import Event


class ScaleAdapter:
    """One scale: decodes its samples and detects stable loads."""

    kind = topics.SCALE
    channel = topics.WEIGHT

    def __init__(self, config: ScaleConfig) -> None:
        self.config = config
        self.detector = StableWeightDetector(
            config.id,
            window=config.window,
            max_spread_kg=config.max_spread_kg,
            min_load_kg=config.min_load_kg,
        )

    def handle(self, payload: bytes, received_at: datetime) -> list[Event]:
        """Feed one weight payload; ContractError if unusable; returns a stable-weight event."""
        event = self.detector.add(parse_scale_weight(payload, self.config.id))
        return [event] if event else []

    def poll(self, now: datetime) -> list[Event]:
        """Scales have nothing time-driven to report."""
        return []

    def flush(self) -> list[Event]:
        """Nothing to close at shutdown."""
        return []

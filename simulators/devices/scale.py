"""A simulated platform scale: samples all the time; loads oscillate, settle, dwell, go away."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any

import simpy

from simulators.devices.config import ScaleSim
from simulators.devices.rfid_gate import Publish
from simulators.mqtt import utc_stamp

OSCILLATION_HZ = 1.3


class ScaleModel:
    """One scale; one load at a time stands on it."""

    def __init__(
        self,
        env: simpy.Environment,
        config: ScaleSim,
        publish: Publish,
        rng: random.Random,
        clock: Callable[[], datetime],
    ) -> None:
        self.env = env
        self.config = config
        self._publish = publish
        self._rng = rng
        self._clock = clock
        self._platform = simpy.Resource(env, capacity=1)
        self._load_kg = 0.0
        self._placed_at: float | None = None
        self.seq = 0
        env.process(self._sample())

    def reading(self) -> tuple[float, bool]:
        """The gross weight the scale shows now and its motion flag."""
        noise = self._rng.gauss(0.0, self.config.noise_kg) if self.config.noise_kg else 0.0
        if self._placed_at is None:
            return noise, False
        t = self.env.now - self._placed_at
        amplitude = max(0.5, 0.05 * self._load_kg)
        wave = math.sin(2 * math.pi * OSCILLATION_HZ * t + 0.3)
        if self.config.unsettled:
            # keeps swinging by a good fraction of the first swing: never stable
            return self._load_kg + amplitude * (0.4 + 0.6 * math.exp(-t)) * wave + noise, True
        if t < self.config.settle_s:
            decay = math.exp(-5.0 * t / max(self.config.settle_s, 1e-9))
            return self._load_kg + amplitude * decay * wave + noise, True
        return self._load_kg + noise, False

    def weigh(self, gross_kg: float) -> Generator[simpy.Event, Any, None]:
        """SimPy process: place a load, let it settle and dwell, then take it off."""
        with self._platform.request() as turn:
            yield turn
            self._load_kg, self._placed_at = gross_kg, self.env.now
            yield self.env.timeout(self.config.settle_s + self.config.dwell_s)
            self._load_kg, self._placed_at = 0.0, None
            # A forklift needs a moment between two pallets: the platform reads empty meanwhile.
            yield self.env.timeout(3 * self.config.sample_period_s)

    def _sample(self) -> Generator[simpy.Event, Any, None]:
        while True:
            kg, motion = self.reading()
            self.seq += 1
            payload = {
                "scale_id": self.config.id,
                "seq": self.seq,
                "ts": utc_stamp(self._clock()),
                "gross_kg": round(min(100000.0, max(-50.0, kg)), 3),
                "motion": motion,
            }
            self._publish("weight", payload)
            yield self.env.timeout(self.config.sample_period_s)

"""A dock: a pallet passes the gate (inbound), then stands on the scale."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import simpy

from simulators.devices.rfid_gate import RfidGateModel
from simulators.devices.scale import ScaleModel


class DockModel:
    """The devices of one dock, in the order a pallet meets them."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        gate: RfidGateModel | None,
        scale: ScaleModel | None,
    ):
        self.env = env
        self.name = name
        self.gate = gate
        self.scale = scale

    def receive_pallet(
        self, epcs: Sequence[str], gross_kg: float
    ) -> Generator[simpy.Event, Any, set[str]]:
        """SimPy process: gate pass then weighing; returns the EPCs the gate reported."""
        seen: set[str] = set()
        if self.gate is not None:
            seen = yield self.env.process(self.gate.pass_pallet(epcs))
        if self.scale is not None:
            yield self.env.process(self.scale.weigh(gross_kg))
        return seen

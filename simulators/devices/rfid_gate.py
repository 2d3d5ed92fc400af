"""A simulated RFID gate: a pallet passing makes read cycles with misses, duplicates, RSSI noise."""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Sequence
from datetime import datetime
from typing import Any

import simpy

from simulators.devices.config import GateSim
from simulators.mqtt import utc_stamp

Publish = Callable[[str, dict[str, Any]], None]  # (channel, payload)


class RfidGateModel:
    """One gate; one pallet at a time passes it (inbound: outer antenna, then inner)."""

    def __init__(
        self,
        env: simpy.Environment,
        config: GateSim,
        publish: Publish,
        rng: random.Random,
        clock: Callable[[], datetime],
    ) -> None:
        self.env = env
        self.config = config
        self._publish = publish
        self._rng = rng
        self._clock = clock
        self._portal = simpy.Resource(env, capacity=1)
        self.seq = 0
        self.reported: set[str] = set()

    def pass_pallet(self, epcs: Sequence[str]) -> Generator[simpy.Event, Any, set[str]]:
        """SimPy process: the pallet passes inbound; returns the EPCs the reader reported."""
        c = self.config
        with self._portal.request() as turn:
            yield turn
            cycles = max(2, round(c.pass_duration_s / c.read_cycle_s))
            seen: set[str] = set()
            carried: list[dict[str, Any]] = []
            for cycle in range(cycles):
                antenna = c.outer_antenna if cycle < cycles / 2 else c.inner_antenna
                now = utc_stamp(self._clock())
                reads, carried = carried, []
                for epc in epcs:
                    if self._rng.random() < c.miss_rate:
                        continue
                    read = self._read(epc, antenna, now)
                    reads.append(read)
                    seen.add(epc.upper())
                    if self._rng.random() < c.duplicate_rate:
                        # the reader reports the tag twice: in this batch or again in the next
                        (reads if self._rng.random() < 0.5 else carried).append(dict(read))
                if reads:
                    self._send(reads)
                yield self.env.timeout(c.read_cycle_s)
            if carried:
                self._send(carried)
        self.reported |= seen
        return seen

    def _read(self, epc: str, antenna: int, when: str) -> dict[str, Any]:
        rssi = self.config.rssi_dbm + self._rng.gauss(0.0, self.config.rssi_noise_db)
        return {
            "epc": epc.upper(),
            "antenna": antenna,
            "peak_rssi": round(min(0.0, max(-128.0, rssi)), 1),
            "first_seen": when,
        }

    def _send(self, reads: list[dict[str, Any]]) -> None:
        self.seq += 1
        payload = {
            "reader_id": self.config.id,
            "seq": self.seq,
            "sent_at": utc_stamp(self._clock()),
            "reads": reads,
        }
        self._publish("reads", payload)

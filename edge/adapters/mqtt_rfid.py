"""RFID gates over MQTT: read batches on .../devices/rfid/{gate}/reads -> gate-pass events."""

from __future__ import annotations

from datetime import datetime

from firmware_interfaces import topics

from edge.config import RfidGateConfig
from edge.converters.rfid import GatePassTracker, TagReadEmitter, parse_rfid_reads
from edge.events import Event


class RfidGateAdapter:
    """One gate: decodes its read batches into passes (or, in `reads` mode, into tag reads)."""

    kind = topics.RFID
    channel = topics.READS

    def __init__(self, config: RfidGateConfig) -> None:
        self.config = config
        self.tracker = GatePassTracker(
            config.id,
            pass_gap_s=config.pass_gap_s,
            dedup_window_s=config.dedup_window_s,
            outer_antennas=config.outer_antennas,
            inner_antennas=config.inner_antennas,
        )
        self.reads = (
            TagReadEmitter(config.id, dedup_window_s=config.dedup_window_s)
            if config.mode == "reads"
            else None
        )
        self._batches = 0

    def handle(self, payload: bytes, received_at: datetime) -> list[Event]:
        """Feed one reads payload; ContractError if unusable; returns passes closed or reads."""
        batch = parse_rfid_reads(payload, self.config.id)
        if self.reads is not None:
            self._batches += 1
            if self._batches % 1000 == 0:
                self.reads.forget_old()
            return self.reads.add(batch)
        return self.tracker.add(batch.reads, received_at)

    def poll(self, now: datetime) -> list[Event]:
        """Close the open pass if the gate has gone quiet."""
        return self.tracker.poll(now)

    def flush(self) -> list[Event]:
        """Close the open pass now (shutdown)."""
        return [self.tracker.close()] if self.tracker.open else []

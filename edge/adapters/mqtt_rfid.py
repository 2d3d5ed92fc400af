"""RFID gates over MQTT: read batches on .../devices/rfid/{gate}/reads -> gate-pass events."""

from __future__ import annotations

from datetime import datetime

from firmware_interfaces import topics

from edge.config import RfidGateConfig
from edge.converters.rfid import GatePassTracker, TagReadEmitter, add_raw_reads, parse_rfid_reads
from edge.events import EncodedEvents, Event


class RfidGateAdapter:
    """One gate: decodes its read batches into passes (or, in `reads` mode, into tag reads)."""

    kind = topics.RFID
    channel = topics.READS

    def __init__(self, config: RfidGateConfig, max_row: int = 500) -> None:
        self.config = config
        self.max_row = max_row  # events per journal row (<= the uplink's max_batch_events)
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

    def handle(self, payload: bytes, received_at: datetime) -> list[Event] | list[EncodedEvents]:
        """Feed one reads payload; ContractError if unusable; returns passes closed or reads
        (in `reads` mode, already encoded when the payload is plainly valid)."""
        if self.reads is not None:
            self._batches += 1
            if self._batches % 1000 == 0:
                self.reads.forget_old()
            fast = add_raw_reads(self.reads, payload, self.max_row)
            if fast is not None:
                return fast
            return self.reads.add(parse_rfid_reads(payload, self.config.id))
        batch = parse_rfid_reads(payload, self.config.id)
        return self.tracker.add(batch.reads, received_at)

    def poll(self, now: datetime) -> list[Event]:
        """Close the open pass if the gate has gone quiet."""
        return self.tracker.poll(now)

    def flush(self) -> list[Event]:
        """Close the open pass now (shutdown)."""
        return [self.tracker.close()] if self.tracker.open else []

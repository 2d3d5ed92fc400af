"""Uplink flow control: batching, at most max_in_flight unacked batches, resend on timeout."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from edge.config import UplinkConfig
from edge.events import format_ts
from edge.outbox import Batch, Outbox

logger = logging.getLogger(__name__)


def batch_payload(edge_id: str, site: str, epoch: int, batch: Batch, sent_at: datetime) -> bytes:
    """The uplink_batch JSON payload of a sealed batch (its events' JSON spliced in as it is)."""
    head: dict[str, Any] = {
        "edge_id": edge_id,
        "site": site,
        "epoch": epoch,
        "seq": batch.seq,
        "sent_at": format_ts(sent_at),
    }
    events = batch.body
    if events is None:
        events = json.dumps(list(batch.events), separators=(",", ":"))
    text = json.dumps(head, separators=(",", ":"))
    return (text[:-1] + ',"events":' + events + "}").encode()


class UplinkSender:
    """Decides which batches to publish and when; the caller supplies time and the publisher.

    `publish(batch)` returns False when the batch could not be handed to the broker (for
    example while disconnected); the sender then tries again on the next pump.
    """

    def __init__(
        self, outbox: Outbox, config: UplinkConfig, publish: Callable[[Batch], bool]
    ) -> None:
        self.outbox = outbox
        self.config = config
        self._publish = publish
        self._lock = threading.RLock()
        self._sent_at: dict[int, float] = {}
        self._waiting_since: float | None = None
        self._highest_sent = 0
        self.stats = {
            "batches_sent": 0,
            "batches_resent": 0,
            "events_sent": 0,
            "batches_acked": 0,
            "events_acked": 0,
            "stale_acks": 0,
        }

    def notify_appended(self, now: float) -> None:
        """Call after appending events to the outbox: starts the batch delay clock."""
        with self._lock:
            if self._waiting_since is None:
                self._waiting_since = now

    def resend_all(self) -> None:
        """Send every unacked batch again, in order, on the next pump (after a reconnect)."""
        with self._lock:
            self._sent_at.clear()

    def on_ack(self, epoch: int, seq: int, now: float | None = None, gap: int | None = None) -> int:
        """Central committed everything up to and including `seq`; returns batches dropped.

        `gap` names a batch central did not apply because its predecessor had not arrived: that
        batch (if still unacked) is sent again on the next pump. An ack without `gap` that moves
        nothing while the next batch has been out for gap_resend_s is stale (from a central that
        does not name the batch): every unacked batch is sent again instead of after
        ack_timeout_s.
        """
        now = time.monotonic() if now is None else now
        with self._lock:
            if epoch != self.outbox.epoch:
                logger.info(
                    "ignoring ack for epoch %s (current epoch %s)", epoch, self.outbox.epoch
                )
                return 0
            unacked = self.outbox.unacked()
            acked = [b for b in unacked if b.seq <= seq]
            if gap is not None:
                if gap > seq and self._sent_at.pop(gap, None) is not None:
                    logger.info("central skipped batch %s (ahead of %s): resending it", gap, seq)
                    self.stats["stale_acks"] += 1
                if not acked:
                    return 0
            elif not acked and unacked and unacked[0].seq == seq + 1:
                sent = self._sent_at.get(unacked[0].seq)
                if sent is not None and now - sent >= self.config.gap_resend_s:
                    logger.info("stale ack %s: resending %d batch(es)", seq, len(unacked))
                    self.stats["stale_acks"] += 1
                    self._sent_at.clear()
                return 0
            dropped = self.outbox.ack(seq)
            for b in acked:
                self._sent_at.pop(b.seq, None)
            self.stats["batches_acked"] += dropped
            self.stats["events_acked"] += sum(b.size for b in acked)
            return dropped

    def pump(self, now: float, backlog: bool = False) -> int:
        """Resend timed-out batches, seal due batches and publish unsent ones; returns publishes.

        With `backlog` (device messages still waiting to be converted) only full batches are
        sealed: a partial one fills within moments, and every seal is a journal commit.
        """
        with self._lock:
            unacked = self.outbox.unacked()
            if (
                unacked
                and unacked[0].seq in self._sent_at
                and now - self._sent_at[unacked[0].seq] >= self.config.ack_timeout_s
            ):
                logger.warning(
                    "no ack for batch %s within %.1f s: resending %d batch(es)",
                    unacked[0].seq,
                    self.config.ack_timeout_s,
                    len(unacked),
                )
                self._sent_at.clear()
            self._seal_due(now, len(unacked), backlog)
            published = 0
            for batch in self.outbox.unacked():
                if batch.seq in self._sent_at:
                    continue
                resend = batch.seq <= self._highest_sent
                if not self._publish(batch):
                    break
                self._sent_at[batch.seq] = now
                self._highest_sent = max(self._highest_sent, batch.seq)
                published += 1
                self.stats["batches_resent" if resend else "batches_sent"] += 1
                self.stats["events_sent"] += 0 if resend else batch.size
            return published

    def _seal_due(self, now: float, in_flight: int, backlog: bool = False) -> None:
        max_events = self.config.max_batch_events
        while in_flight < self.config.max_in_flight:
            waiting = self.outbox.unbatched()
            if not waiting:
                self._waiting_since = None
                return
            if self._waiting_since is None:
                self._waiting_since = now  # events left by a restart or by a previous full batch
            if waiting < max_events and (
                backlog or now - self._waiting_since < self.config.max_batch_delay_s
            ):
                return
            if self.outbox.next_batch(max_events) is None:
                return
            in_flight += 1
            if not self.outbox.unbatched():
                self._waiting_since = None

    def pending(self) -> int:
        """Events not yet acked."""
        return self.outbox.pending()

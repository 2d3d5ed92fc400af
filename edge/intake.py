"""Device messages -> journal in group commits, acknowledged to the broker only once durable.

The network thread only queues messages (`offer`); the agent thread takes everything queued,
converts it and commits the events of the whole group in one journal transaction (`drain`), then
acknowledges the group's QoS 1 messages. A crash before the commit leaves them unacknowledged,
so the broker delivers them again; a crash after the commit but before the acknowledgement makes
the broker deliver a copy the journal recognises by its key.

When the journal holds `journal_max_events` unacked events it is full, and the policy decides:
- `block`: messages are held unacknowledged (the broker stops sending at its in-flight window and
  queues the rest) until central's acks make room; QoS 0 messages, which the broker will not
  hold, are kept in memory up to `MAX_HELD` and counted as `dropped_qos0` beyond it;
- `reject-new`: messages are acknowledged but not journaled; each is kept whole in the local
  dead-letter table with the reason and counted as `rejected`.
Either way an `edge.alarm` event (`journal_full`, active true) goes to central when the journal
fills, and another (active false) once it is below 90 % again; both bypass the limit.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from edge.config import UplinkConfig
from edge.deadletter import DeadLetter, DeadLetterStore
from edge.events import ALARM, EncodedEvents, Event, format_ts
from edge.outbox import Outbox, WireItem, item_count, message_key
from edge.router import DeviceRouter

logger = logging.getLogger(__name__)

MAX_GROUP = 5000  # device messages per journal transaction
GROUP_S = 0.05  # ... or as many as are converted in this long (keeps the uplink going meanwhile)
MAX_HELD = 100_000  # QoS 0 messages held in memory while the journal is full (block)
RESUME_AT = 0.9  # a full journal is "ok" again below this share of its capacity
GATHER = 64  # device messages worth a commit at once; fewer wait up to GATHER_S for company
GATHER_S = 0.004


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ costs ~1 µs per message
class Incoming:
    """A device message as received, with what is needed to acknowledge it."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at: datetime


def merge_rows(items: list[WireItem], max_events: int) -> list[WireItem]:
    """Runs of encoded events joined into rows of at most `max_events` events, order kept.

    A group of one-read messages becomes one journal row instead of one row (one insert) per
    message; rows stay within a batch's size, so batches still seal whole rows.
    """
    out: list[WireItem] = []
    run: list[EncodedEvents] = []
    count = 0

    def close_run() -> None:
        if run:
            joined = ",".join([r.text for r in run])
            out.append(run[0] if len(run) == 1 else EncodedEvents(count, joined))
            run.clear()

    for item in items:
        if isinstance(item, EncodedEvents):
            if count + item.count > max_events:
                close_run()
                count = 0
            run.append(item)
            count += item.count
        else:
            close_run()
            count = 0
            out.append(item)
    close_run()
    return out


class Intake:
    """Queues device messages and commits them to the journal in groups (see module doc)."""

    def __init__(
        self,
        edge_id: str,
        config: UplinkConfig,
        router: DeviceRouter,
        outbox: Outbox,
        dead_letters: DeadLetterStore,
        ack: Callable[[list[tuple[int, int]]], None],
        clock: Callable[[], datetime],
    ) -> None:
        self.edge_id = edge_id
        self.config = config
        self.router = router
        self.outbox = outbox
        self.dead_letters = dead_letters
        self._ack = ack
        self._clock = clock
        self._lock = threading.Lock()
        self._queue: deque[Incoming] = deque()
        self._gathered = threading.Event()  # set once GATHER messages are queued
        self.full = False
        self.counters = {
            "received": 0,
            "converted": 0,
            "dead_lettered": 0,
            "ignored": 0,
            "events": 0,
            "redelivered": 0,
            "rejected": 0,
            "dropped_qos0": 0,
            "journal_full": 0,
            "bad_acks": 0,
            "commits": 0,
        }

    def offer(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        """Queue one device message (network thread); it is acknowledged after its commit."""
        message = Incoming(topic, payload, mid, qos, self._clock())
        if qos or not self.full:
            # deque.append is atomic: the network thread takes no lock per message (the agent
            # thread took the same lock per message and the two contended for it)
            queue = self._queue
            queue.append(message)
            if len(queue) >= GATHER and not self._gathered.is_set():
                self._gathered.set()
            return
        with self._lock:
            if len(self._queue) >= MAX_HELD:
                self.counters["dropped_qos0"] += 1
                if self.counters["dropped_qos0"] % 1000 == 1:
                    logger.error(
                        "journal full: %d QoS 0 device message(s) dropped so far",
                        self.counters["dropped_qos0"],
                    )
                return
            self._queue.append(message)

    def gather(self, timeout_s: float = GATHER_S) -> None:
        """Wait up to `timeout_s` while fewer than GATHER messages (but some) are queued.

        A commit (fsync, one PUBACK write, the wake-ups around it) costs the same for 5 messages
        as for 60: when messages trickle in faster than the agent commits them, gathering a few
        milliseconds' worth makes one commit of many instead of many commits of a few.
        """
        self._gathered.clear()
        if 0 < len(self._queue) < GATHER:
            self._gathered.wait(timeout_s)

    def queued(self) -> int:
        """Device messages received but not yet committed (or rejected)."""
        with self._lock:
            return len(self._queue)

    def drain(self, extra: list[Event] | None = None, max_groups: int | None = None) -> int:
        """Commit what is queued (and `extra` events) as groups; returns messages taken.

        A group is what is converted in GROUP_S (at most MAX_GROUP messages). With `max_groups`,
        stops after that many groups (the caller pumps the uplink between groups and calls
        again while `queued()`).
        """
        taken = 0
        groups = 0
        extra_events = list(extra or [])
        while max_groups is None or groups < max_groups:
            groups += 1
            self._update_full_state()
            if self.full and self.config.when_full == "block":
                self._commit([], extra_events, take=False)
                return taken
            if self.full:
                with self._lock:
                    group = [self._queue.popleft() for _ in range(min(MAX_GROUP, len(self._queue)))]
                taken += len(group)
                self._reject(group)
                self._commit([], extra_events, take=False)
                if not group:
                    return taken
            else:
                took = self._commit([], extra_events, take=True)
                taken += took
                if not took:
                    return taken
            extra_events = []
        return taken

    def _update_full_state(self) -> None:
        pending, capacity = self.outbox.pending(), self.config.journal_max_events
        if not self.full and pending >= capacity:
            self.full = True
            self.counters["journal_full"] += 1
            logger.error(
                "journal full (%d of %d events unacked by central): policy %s",
                pending,
                capacity,
                self.config.when_full,
            )
            self._alarm(True, pending)
        elif self.full and pending < capacity * RESUME_AT:
            self.full = False
            logger.warning("journal has room again (%d of %d events)", pending, capacity)
            self._alarm(False, pending)

    def _alarm(self, active: bool, pending: int) -> None:
        now = self._clock()
        data = {
            "alarm": "journal_full",
            "active": active,
            "policy": self.config.when_full,
            "pending": pending,
            "capacity": self.config.journal_max_events,
            "rejected": self.counters["rejected"],
            "ts": format_ts(now),
        }
        self.outbox.append([Event(ALARM, self.edge_id, now, data).to_wire()])

    def _reject(self, group: list[Incoming]) -> None:
        reason = (
            f"journal full ({self.config.journal_max_events} events unacked by central);"
            " policy reject-new"
        )
        for m in group:
            self.dead_letters.add(DeadLetter(m.topic, reason, m.payload, m.received_at))
            self.counters["received"] += 1
            self.counters["rejected"] += 1
        self._ack([(m.mid, m.qos) for m in group])

    def _commit(self, group: list[Incoming], extra: list[Event], take: bool) -> int:
        """Commit `extra` and the events of queued messages (with `take`: as many as are
        converted in GROUP_S, at most MAX_GROUP) in one transaction, then acknowledge them."""
        events: list[WireItem] = [e.to_wire() for e in extra]
        fresh: list[int] = []
        known: set[int] = set()
        deadline = time.monotonic() + GROUP_S
        while take and len(group) < MAX_GROUP:
            if group and time.monotonic() > deadline:
                break
            try:
                m = self._queue.popleft()  # atomic, as offer's append
            except IndexError:
                break
            group.append(m)
            key = message_key(m.topic, m.payload)
            if key in known or self.outbox.seen((key,)):
                self.counters["redelivered"] += 1
                continue
            known.add(key)
            fresh.append(key)
            for e in self._convert(m):
                events.append(e if isinstance(e, EncodedEvents) else e.to_wire())
        if events or fresh:
            self.outbox.append(merge_rows(events, self.config.max_batch_events), fresh)
            self.counters["commits"] += 1
            self.counters["events"] += sum(item_count(e) for e in events)
        if group:
            self._ack([(m.mid, m.qos) for m in group])
        return len(group)

    def _convert(self, m: Incoming) -> list[Event] | list[EncodedEvents]:
        self.counters["received"] += 1
        routed = self.router.route(m.topic, m.payload, m.received_at)
        if routed.dead_letter is not None:
            letter = routed.dead_letter
            logger.warning("dead letter from %s: %s", m.topic, letter.reason)
            self.counters["dead_lettered"] += 1
            self.dead_letters.add(letter)
            return [letter.to_event(self.edge_id)]
        if routed.ignored:
            self.counters["ignored"] += 1
            return []
        self.counters["converted"] += 1
        return routed.events

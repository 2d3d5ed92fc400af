"""Ingest worker: takes uplink batches from a shared subscription, commits, then acks.

The network thread only queues messages; one processing thread decodes, validates and commits
them and then acknowledges them to the broker (manual PUBACK: a worker that dies mid-batch has
the broker deliver the batch again). A batch ahead of its edge's cursor (its predecessor is at
the other worker of the shared subscription) is *parked*, not waited for: the thread goes on with
other batches and applies the parked one as soon as the cursor reaches it — at once when this
worker commits the predecessor, else on the next poll. A batch parked longer than
WHS_INGEST_GAP_WAIT_S is given up with an ack naming it (`gap`), so the edge resends exactly
that batch instead of waiting for its ack timeout.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from firmware_interfaces import topics
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from central.common.clock import utcnow
from central.inbound.domain import WeightTolerance
from central.ingest.fastpath import SplitBatch
from central.ingest.processor import (
    IngestOutcome,
    PreparedBatch,
    apply_with_retry,
    decode_batch,
    prepare_batch,
)
from central.settings import Settings

logger = logging.getLogger(__name__)

PARK_POLL_S = 0.01  # how often parked batches look at their edge's cursor again


@dataclass
class _Parked:
    batch: SplitBatch
    prepared: PreparedBatch
    topic: str
    mid: int
    qos: int
    since: float
    session: int


class IngestWorker:
    """One MQTT connection in the central-ingest shared group; start() and stop()."""

    def __init__(
        self, settings: Settings, sessions: sessionmaker[Session], tolerance: WeightTolerance
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.tolerance = tolerance
        self.connected = threading.Event()
        self.processed = 0
        client_id = (
            settings.ingest_client_id or f"central-ingest-{socket.gethostname()}-{os.getpid()}"
        )
        self.client_id = client_id
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        if settings.mqtt_username:
            self.client.username_pw_set(
                settings.mqtt_username, settings.mqtt_password.get_secret_value() or None
            )
        if settings.mqtt_tls:
            self.client.tls_set()
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.max_inflight_messages_set(100)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self._inbox: queue.Queue[tuple[int, mqtt.MQTTMessage] | None] = queue.Queue()
        self._session = 0  # counts connections: a PUBACK only goes to the one that delivered
        self._parked: dict[tuple[str, int, int], _Parked] = {}
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Connect in the background; reconnects on its own."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._work, name="ingest-worker", daemon=True)
        self._thread.start()
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        """Finish the batch in hand, disconnect and stop the threads.

        Queued and parked batches stay unacknowledged: the broker delivers them again (persistent
        session) and the edge resends what is still unacked, so nothing is lost.
        """
        self._stopping.set()
        self._inbox.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, _flags: object, reason: object, _props: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            logger.error("ingest could not connect to the broker: %s", reason)
            return
        self._session += 1
        client.subscribe(topics.uplink_filter(self.settings.ingest_group), qos=1)
        self.connected.set()
        logger.info("ingest connected to %s:%s", self.settings.mqtt_host, self.settings.mqtt_port)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: object,
        _props: object,
    ) -> None:
        self.connected.clear()
        logger.warning("ingest disconnected from the broker: %s", reason)

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        self._inbox.put((self._session, message))

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                item = self._inbox.get(timeout=PARK_POLL_S if self._parked else None)
            except queue.Empty:
                item = None
            if self._stopping.is_set():
                return
            try:
                if item is not None:
                    self._handle(*item)
                if self._parked:
                    self._retry_parked()
            except Exception:
                # The database is unreachable or broken: leave the batch unacked; it comes back.
                logger.exception("ingest failed")
                time.sleep(0.5)

    def _handle(self, session: int, message: mqtt.MQTTMessage) -> None:
        topic, mid, qos = message.topic, message.mid, message.qos
        batch = decode_batch(self.sessions, topic, bytes(message.payload))
        if batch is None:
            self._done(topic, mid, qos, session, None)
            return
        head = batch.head
        key = (head["edge_id"], head["epoch"], head["seq"])
        if key in self._parked:  # a resent copy of a batch already parked here
            self._done(topic, mid, qos, session, None)
            return
        prepared = prepare_batch(batch)  # before the cursor's lock, and once if parked
        outcome = apply_with_retry(self.sessions, batch, self.tolerance, prepared)
        if outcome.gap:
            self._parked[key] = _Parked(batch, prepared, topic, mid, qos, time.monotonic(), session)
            return
        self._done(topic, mid, qos, session, outcome)
        if not outcome.duplicate:
            self._apply_successors(*key)

    def _apply_successors(self, edge_id: str, epoch: int, seq: int) -> None:
        """Apply parked batches that follow the one just committed, in order."""
        while (edge_id, epoch, seq + 1) in self._parked:
            seq += 1
            parked = self._parked.pop((edge_id, epoch, seq))
            outcome = apply_with_retry(self.sessions, parked.batch, self.tolerance, parked.prepared)
            if outcome.gap:  # cannot happen while this worker holds the cursor's order
                self._parked[(edge_id, epoch, seq)] = parked
                return
            self._done(parked.topic, parked.mid, parked.qos, parked.session, outcome)

    def _retry_parked(self) -> None:
        now = time.monotonic()
        for key in sorted(self._parked):
            parked = self._parked.get(key)
            if parked is None:
                continue  # applied as a successor in this round
            outcome = apply_with_retry(self.sessions, parked.batch, self.tolerance, parked.prepared)
            if outcome.gap and now - parked.since < self.settings.ingest_gap_wait_s:
                continue
            del self._parked[key]
            if outcome.gap:
                logger.info(
                    "batch %s/%s/%s still ahead of cursor %s after %.2f s; asking for a resend",
                    *key,
                    outcome.ack_seq,
                    self.settings.ingest_gap_wait_s,
                )
            self._done(parked.topic, parked.mid, parked.qos, parked.session, outcome, gap=key[2])
            if not outcome.gap and not outcome.duplicate:
                self._apply_successors(*key)

    def _done(
        self,
        topic: str,
        mid: int,
        qos: int,
        session: int,
        outcome: IngestOutcome | None,
        gap: int | None = None,
    ) -> None:
        """Send central's ack (if any), then the PUBACK (only on the connection that delivered)."""
        self.processed += 1
        if outcome is not None:
            self._ack(self.client, topic, outcome, gap if outcome.gap else None)
        if qos > 0 and session == self._session:
            self.client.ack(mid, qos)

    def _ack(
        self, client: mqtt.Client, topic: str, outcome: IngestOutcome, gap: int | None = None
    ) -> None:
        if outcome.ack_seq is None or outcome.edge_id is None:
            return
        try:
            site = topics.parse_edge_topic(topic).site
        except ValueError:
            site = self.settings.site
        payload: dict[str, Any] = {
            "edge_id": outcome.edge_id,
            "epoch": outcome.epoch,
            "seq": outcome.ack_seq,
            "ts": utcnow().isoformat().replace("+00:00", "Z"),
        }
        if gap is not None:
            payload["gap"] = gap  # this batch was not applied: resend it
        client.publish(
            topics.edge_topic(site, outcome.edge_id, topics.ACK), json.dumps(payload), qos=1
        )

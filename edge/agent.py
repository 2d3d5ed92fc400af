"""Composition root of the edge agent: device broker -> router -> outbox -> uplink to central."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from firmware_interfaces import topics
from firmware_interfaces.validation import ContractError, decode_json

from edge.adapters.coordinator import BrokerError, MqttCoordinator, Will
from edge.config import EdgeConfig
from edge.control import EdgeControl
from edge.deadletter import DeadLetter, DeadLetterStore
from edge.events import Event, format_ts, utc_now
from edge.health import Heartbeat
from edge.intake import Intake
from edge.journal import SqliteOutbox
from edge.outbox import Batch, MemoryOutbox, Outbox, bump_epoch
from edge.router import DeviceRouter
from edge.uplink import UplinkSender, batch_payload

logger = logging.getLogger(__name__)

TICK_S = 0.05


def open_outbox(config: EdgeConfig) -> Outbox:
    """The configured outbox: the SQLite journal (keeps its epoch) or memory (new epoch)."""
    if config.uplink.journal == "memory":
        return MemoryOutbox(bump_epoch(config.data_dir))
    return SqliteOutbox(config.data_dir)


class EdgeAgent:
    """The running edge: `start()` returns at once (threads inside), `stop()` shuts down cleanly."""

    def __init__(
        self,
        config: EdgeConfig,
        *,
        outbox: Outbox | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped = False
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.dead_letters = DeadLetterStore(config.data_dir / "edge.sqlite")
        self.outbox: Outbox = outbox or open_outbox(config)
        self.router = DeviceRouter(config)
        self.sender = UplinkSender(self.outbox, config.uplink, self._publish_batch)
        self._uplink_topic = topics.edge_topic(config.site, config.edge_id, topics.UPLINK)
        self._status_topic = topics.edge_topic(config.site, config.edge_id, topics.STATUS)
        will = Will(self._status_topic, self._status_payload(False, "last-will"))
        if config.uplink_broker is None:
            self.devices = MqttCoordinator(
                "edge", config.broker, config.edge_id, will=will, manual_ack=True
            )
            self.uplink = self.devices
        else:
            self.devices = MqttCoordinator(
                "edge-devices", config.broker, f"{config.edge_id}-devices", manual_ack=True
            )
            self.uplink = MqttCoordinator(
                "edge-uplink", config.uplink_broker, config.edge_id, will=will
            )
        self.intake = Intake(
            config.edge_id,
            config.uplink,
            self.router,
            self.outbox,
            self.dead_letters,
            self.devices.ack_all,
            clock,
        )
        self.devices.subscribe_acking(topics.device_filter(config.site), self._on_device_message)
        self.uplink.subscribe(
            topics.edge_topic(config.site, config.edge_id, topics.ACK), self._on_ack
        )
        self.uplink.on_connected(self._on_uplink_connected)
        # OPC UA devices, commands from central and the heartbeat (docs/opcua.md).
        self.control = EdgeControl(config, self._accept, self._publish_control, clock)
        self.uplink.subscribe(self.control.command_topic, self.control.on_command)
        self.heartbeat = Heartbeat(
            config.edge_id,
            config.heartbeat_s,
            self.stats,
            self.control.devices,
            lambda body: self._publish_control(self._status_topic, body, retain=True),
            clock,
        )

    @property
    def epoch(self) -> int:
        """The uplink epoch of this run."""
        return self.outbox.epoch

    def start(self) -> None:
        """Connect to the broker(s) and start converting and uplinking in the background."""
        logger.info(
            "edge %s (site %s) starting, epoch %s",
            self.config.edge_id,
            self.config.site,
            self.epoch,
        )
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"edge-{self.config.edge_id}", daemon=True
        )
        self._thread.start()
        self.uplink.start()
        if self.devices is not self.uplink:
            self.devices.start()
        self.control.start()
        self.heartbeat.start()

    def wait_connected(self, timeout_s: float = 10.0) -> bool:
        """Block until the device and uplink connections are up; returns whether they are."""
        deadline = time.monotonic() + timeout_s
        return self.uplink.wait_connected(timeout_s) and self.devices.wait_connected(
            max(0.0, deadline - time.monotonic())
        )

    def stop(self, drain_timeout_s: float = 0.0) -> None:
        """Close open passes, wait up to drain_timeout_s for central's acks, then disconnect.

        Stopping twice is harmless; a stopped agent cannot be started again.
        """
        if self._stopped:
            return
        self._stopped = True
        self.heartbeat.stop()
        self.control.stop()
        with self._lock:
            self._append(self.router.flush())
            self._append([])  # commit and acknowledge device messages still queued
        deadline = time.monotonic() + drain_timeout_s
        while self.outbox.pending() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(TICK_S)
        if self.outbox.pending():
            logger.warning("stopping with %d event(s) not acked by central", self.outbox.pending())
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        final = (self._status_topic, self._status_payload(False, "shutdown"), True)
        if self.devices is not self.uplink:
            self.devices.stop()
        self.uplink.stop(final=final)
        self.dead_letters.close()
        close = getattr(self.outbox, "close", None)
        if close is not None:
            close()
        logger.info("edge %s stopped", self.config.edge_id)

    def stats(self) -> dict[str, int]:
        """Counters: received, converted, dead_lettered, uplinked, acked and more."""
        s = self.sender.stats
        with self._lock:
            return {
                **self.intake.counters,
                "journal_full_now": int(self.intake.full),
                "queued": self.intake.queued(),
                "stale_acks": s["stale_acks"],
                "uplinked": s["batches_sent"],
                "resent": s["batches_resent"],
                "acked": s["batches_acked"],
                "events_uplinked": s["events_sent"],
                "events_acked": s["events_acked"],
                "pending": self.outbox.pending(),
                "epoch": self.epoch,
            }

    def _status_payload(self, online: bool, reason: str) -> bytes:
        body = {
            "device_id": self.config.edge_id,
            "online": online,
            "ts": format_ts(self._clock()),
            "reason": reason,
        }
        return json.dumps(body).encode()

    def _on_device_message(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        self.intake.offer(topic, payload, mid, qos)
        if not self._wake.is_set():  # set() takes a lock and notifies: once per wake-up is enough
            self._wake.set()

    def _append(self, events: list[Event], max_groups: int | None = None) -> None:
        """Group-commit queued device messages and `events` to the journal (caller holds lock)."""
        before = self.intake.counters["events"]
        self.intake.drain(events, max_groups)
        if self.intake.counters["events"] != before:
            self.sender.notify_appended(time.monotonic())

    def _accept(self, events: list[Event], dead: list[DeadLetter]) -> None:
        """Events and dead letters from adapters with threads of their own (OPC UA, commands)."""
        for letter in dead:
            self.dead_letters.add(letter)
        with self._lock:
            self._append(events + [letter.to_event(self.config.edge_id) for letter in dead])
        self._wake.set()

    def _publish_control(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.uplink.publish(topic, payload, qos=1, retain=retain)

    def _on_ack(self, topic: str, payload: bytes) -> None:
        try:
            ack = decode_json("uplink_ack", payload)
        except ContractError as exc:
            logger.warning("malformed ack on %s kept as a dead letter: %s", topic, exc)
            self.dead_letters.add(DeadLetter(topic, str(exc), payload, self._clock()))
            self.intake.counters["bad_acks"] += 1
            return
        if ack["edge_id"] != self.config.edge_id:
            logger.warning("ignoring an ack for edge %s", ack["edge_id"])
            return
        self.sender.on_ack(ack["epoch"], ack["seq"], gap=ack.get("gap"))
        self._wake.set()

    def _on_uplink_connected(self) -> None:
        try:
            self.uplink.publish(
                self._status_topic, self._status_payload(True, "startup"), retain=True
            )
        except BrokerError as exc:
            logger.warning("could not publish the edge status: %s", exc)
        self.sender.resend_all()
        self._wake.set()

    def _publish_batch(self, batch: Batch) -> bool:
        if not self.uplink.connected:
            return False
        payload = batch_payload(
            self.config.edge_id, self.config.site, self.epoch, batch, self._clock()
        )
        try:
            self.uplink.publish(self._uplink_topic, payload, qos=1)
        except BrokerError as exc:
            logger.info("uplink of batch %s deferred: %s", batch.seq, exc)
            return False
        return True

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(TICK_S)
            self._wake.clear()
            self.intake.gather()  # a few ms for more device messages: one commit for many
            try:
                with self._lock:
                    # one group at a time, so batches go out while a burst is still converted
                    self._append(self.router.poll(self._clock()), max_groups=1)
                backlog = self.intake.queued() > 0
                if self.uplink.connected:
                    self.sender.pump(time.monotonic(), backlog)
                if backlog:
                    self._wake.set()
            except Exception:
                logger.exception("edge loop iteration failed")

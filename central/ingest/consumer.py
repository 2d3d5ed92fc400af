"""Ingest worker: takes uplink batches from a shared subscription, commits, then acks."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading

import paho.mqtt.client as mqtt
from firmware_interfaces import topics
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from central.common.clock import utcnow
from central.inbound.domain import WeightTolerance
from central.ingest.processor import IngestOutcome, ingest_raw
from central.settings import Settings

logger = logging.getLogger(__name__)


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

    def start(self) -> None:
        """Connect in the background; reconnects on its own."""
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _userdata: object, _flags: object, reason: object, _props: object
    ) -> None:
        if getattr(reason, "is_failure", False):
            logger.error("ingest could not connect to the broker: %s", reason)
            return
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
        self, client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        try:
            outcome = ingest_raw(
                self.sessions,
                message.topic,
                bytes(message.payload),
                self.tolerance,
                gap_wait_s=self.settings.ingest_gap_wait_s,
            )
        except Exception:
            # The database is unreachable or broken: leave the batch un-acked; the edge resends.
            logger.exception("could not ingest a batch from %s", message.topic)
            return
        self.processed += 1
        self._ack(client, message.topic, outcome)

    def _ack(self, client: mqtt.Client, topic: str, outcome: IngestOutcome) -> None:
        if outcome.ack_seq is None or outcome.edge_id is None:
            return
        try:
            site = topics.parse_edge_topic(topic).site
        except ValueError:
            site = self.settings.site
        payload = {
            "edge_id": outcome.edge_id,
            "epoch": outcome.epoch,
            "seq": outcome.ack_seq,
            "ts": utcnow().isoformat().replace("+00:00", "Z"),
        }
        client.publish(
            topics.edge_topic(site, outcome.edge_id, topics.ACK), json.dumps(payload), qos=1
        )

"""Central's MQTT link to the edges for commands: publish cmd, take cmd-result and edge status."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from typing import Any

import paho.mqtt.client as mqtt
from firmware_interfaces import topics
from firmware_interfaces.validation import ContractError, decode_json
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy.orm import Session, sessionmaker

from central.commands import service
from central.common.clock import utcnow
from central.db.engine import transaction
from central.edges.service import record_edge_status
from central.ingest.handlers import record_dead_letter
from central.settings import Settings

logger = logging.getLogger(__name__)

RESULT_GROUP = "central-commands"


class EdgeLink:
    """One MQTT connection: commands down, results and edge status up; start() and stop()."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.connected = threading.Event()
        self.results = 0
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"central-link-{socket.gethostname()}-{os.getpid()}",
            clean_session=True,
            protocol=mqtt.MQTTv311,
        )
        if settings.mqtt_username:
            client.username_pw_set(
                settings.mqtt_username, settings.mqtt_password.get_secret_value() or None
            )
        if settings.mqtt_tls:
            client.tls_set()
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = lambda *_a: self.connected.clear()
        client.message_callback_add(f"{topics.ROOT}/+/edges/+/{topics.CMD_RESULT}", self._result)
        client.message_callback_add(topics.edge_status_filter(), self._status)
        self.client = client

    def start(self) -> None:
        """Connect in the background; reconnects on its own."""
        self.client.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()

    def send(self, site: str, command: dict[str, Any]) -> bool:
        """Publish a command (QoS 1); False when the broker is not reachable right now."""
        topic = topics.edge_topic(site, command["edge_id"], topics.CMD)
        info = self.client.publish(topic, json.dumps(command), qos=1)
        return info.rc == mqtt.MQTT_ERR_SUCCESS and self.connected.is_set()

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe(
            f"$share/{RESULT_GROUP}/{topics.ROOT}/+/edges/+/{topics.CMD_RESULT}", qos=1
        )
        client.subscribe(topics.edge_status_filter(), qos=1)
        self.connected.set()
        try:
            self._resend_open()
        except Exception:
            logger.exception("could not re-send open commands")

    def _resend_open(self) -> None:
        now = utcnow()
        with transaction(self.sessions) as session:
            pending = [(c.id, service.wire(c)) for c in service.open_commands(session, now)]
        for command_id, doc in pending:
            if self.send(self.settings.site, doc):
                with transaction(self.sessions) as session:
                    service.mark_sent(session, command_id, now)

    def _result(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        raw = bytes(message.payload)
        try:
            result = decode_json("command_result", raw)
            with transaction(self.sessions) as session:
                service.record_result(session, result, utcnow())
            self.results += 1
        except ContractError as exc:
            logger.warning("command result on %s dead-lettered: %s", message.topic, exc)
            with transaction(self.sessions) as session:
                record_dead_letter(session, "central", None, message.topic, str(exc), raw)
        except Exception:
            logger.exception("could not record a command result from %s", message.topic)

    def _status(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        if not message.payload:
            return  # a cleared retained status
        try:
            where = topics.parse_edge_topic(message.topic)
            status = decode_json("device_status", bytes(message.payload))
            with transaction(self.sessions) as session:
                record_edge_status(session, where.site, status, utcnow())
        except (ContractError, ValueError) as exc:
            logger.warning("edge status on %s ignored: %s", message.topic, exc)
        except Exception:
            logger.exception("could not record an edge status from %s", message.topic)

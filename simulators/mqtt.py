"""The MQTT client a simulated device uses: its own credentials, retained status, last will."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

logger = logging.getLogger(__name__)


def utc_stamp(when: datetime | None = None) -> str:
    """RFC 3339 UTC with milliseconds and a Z suffix."""
    when = when or datetime.now(UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def status_payload(device_id: str, online: bool, reason: str) -> bytes:
    """A device_status payload."""
    body = {"device_id": device_id, "online": online, "ts": utc_stamp(), "reason": reason}
    return json.dumps(body).encode()


class MqttPublisher:
    """One device's (or the control plane's) connection to the site broker."""

    def __init__(
        self,
        client_id: str,
        *,
        host: str,
        port: int,
        username: str,
        password: str | None,
        tls: bool = False,
        status_topic: str | None = None,
    ) -> None:
        self.client_id = client_id
        self.status_topic = status_topic
        self.published = 0
        self._connected = threading.Event()
        self._host, self._port = host, port
        self._subscriptions: list[str] = []
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        client.username_pw_set(username, password)
        if tls:
            client.tls_set()
        if status_topic:
            client.will_set(
                status_topic, status_payload(client_id, False, "last-will"), qos=1, retain=True
            )
        client.reconnect_delay_set(1, 5)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        self._client = client

    def subscribe(self, topic_filter: str, handler: Callable[[str, bytes], None]) -> None:
        """Call handler(topic, payload) for messages on `topic_filter` (call before start)."""

        def call(_c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
            try:
                handler(message.topic, bytes(message.payload))
            except Exception:
                logger.exception("%s: handler failed for %s", self.client_id, message.topic)

        self._subscriptions.append(topic_filter)
        self._client.message_callback_add(topic_filter, call)

    def start(self) -> None:
        """Connect in the background."""
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until connected; returns whether it is."""
        return self._connected.wait(timeout_s)

    def publish(
        self, topic: str, payload: dict[str, Any] | bytes, qos: int = 1, retain: bool = False
    ) -> None:
        """Publish JSON (or raw bytes); QoS 1 messages are queued while disconnected."""
        data = (
            payload
            if isinstance(payload, bytes)
            else json.dumps(payload, separators=(",", ":")).encode()
        )
        self._client.publish(topic, data, qos=qos, retain=retain)
        self.published += 1

    def stop(self) -> None:
        """Publish offline status (reason shutdown), disconnect and stop the network thread."""
        if self.status_topic and self._connected.is_set():
            info = self._client.publish(
                self.status_topic,
                status_payload(self.client_id, False, "shutdown"),
                qos=1,
                retain=True,
            )
            try:
                info.wait_for_publish(2.0)
            except (RuntimeError, ValueError):
                logger.warning("%s: offline status not delivered", self.client_id)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            logger.error("%s: connection refused: %s", self.client_id, reason)
            return
        for topic_filter in self._subscriptions:
            client.subscribe(topic_filter, 1)
        if self.status_topic:
            client.publish(
                self.status_topic,
                status_payload(self.client_id, True, "startup"),
                qos=1,
                retain=True,
            )
        self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        logger.info("%s: disconnected (%s)", self.client_id, reason)

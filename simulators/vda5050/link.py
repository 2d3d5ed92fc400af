"""One AGV's MQTT connection: retained connection topic with a CONNECTIONBROKEN last will."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from edge.vda5050.protocol import INTERFACE, MAJOR, HeaderCounter, header

logger = logging.getLogger(__name__)


class AgvLink:
    """MQTT client of one vehicle (QoS 0 for order/state, QoS 1 retained for connection)."""

    def __init__(
        self,
        manufacturer: str,
        serial: str,
        *,
        host: str,
        port: int,
        username: str,
        password: str | None,
        on_message: Callable[[str, dict[str, Any]], None],
        keepalive_s: int = 15,
    ) -> None:
        self.manufacturer, self.serial = manufacturer, serial
        self.prefix = f"{INTERFACE}/{MAJOR}/{manufacturer}/{serial}"
        self.connection_headers = HeaderCounter()
        self._on_message = on_message
        self._connected = threading.Event()
        self._host, self._port, self._keepalive = host, port, keepalive_s
        self.dropped = False
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"agv-{manufacturer}-{serial}",
            protocol=mqtt.MQTTv311,
        )
        client.username_pw_set(username, password)
        client.will_set(
            f"{self.prefix}/connection", self._connection("CONNECTIONBROKEN"), qos=1, retain=True
        )
        client.reconnect_delay_set(1, 5)
        client.on_connect = self._handle_connect
        client.on_disconnect = lambda *_a: self._connected.clear()
        client.on_message = self._handle_message
        self._client = client

    def _connection(self, state: str) -> bytes:
        body = {
            **header(self.connection_headers, "connection", self.manufacturer, self.serial),
            "connectionState": state,
        }
        return json.dumps(body).encode()

    def start(self) -> None:
        """Connect in the background."""
        self._client.connect_async(self._host, self._port, keepalive=self._keepalive)
        self._client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until connected."""
        return self._connected.wait(timeout_s)

    @property
    def connected(self) -> bool:
        """Whether the connection is up."""
        return self._connected.is_set() and not self.dropped

    def publish(self, topic: str, message: dict[str, Any], qos: int, retain: bool) -> None:
        """Publish a VDA 5050 message on this vehicle's `topic`."""
        if self.dropped:
            return
        data = json.dumps(message, separators=(",", ":")).encode()
        self._client.publish(f"{self.prefix}/{topic}", data, qos=qos, retain=retain)

    def stop(self) -> None:
        """Graceful: publish OFFLINE (retained), then disconnect."""
        if not self.dropped and self._connected.is_set():
            info = self._client.publish(
                f"{self.prefix}/connection", self._connection("OFFLINE"), qos=1, retain=True
            )
            try:
                info.wait_for_publish(2.0)
            except (RuntimeError, ValueError):
                logger.warning("%s: OFFLINE not delivered", self.serial)
            self._client.disconnect()
        self._client.loop_stop()

    def drop(self) -> None:
        """Fault: the link dies without an MQTT DISCONNECT, so the broker sends the last will."""
        self.dropped = True
        sock = self._client.socket()
        self._client.loop_stop()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._connected.clear()

    def _handle_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            logger.error("%s: connection refused: %s", self.serial, reason)
            return
        client.subscribe(f"{self.prefix}/order", 0)
        client.subscribe(f"{self.prefix}/instantActions", 0)
        client.publish(f"{self.prefix}/connection", self._connection("ONLINE"), qos=1, retain=True)
        self._connected.set()

    def _handle_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        topic = message.topic.rsplit("/", 1)[-1]
        try:
            body = json.loads(message.payload)
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = {"_raw": bytes(message.payload).decode("utf-8", "replace")}
        self._on_message(topic, body)

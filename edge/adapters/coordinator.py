"""One coordinator per broker connection: owns the paho client and its network thread.

Library errors become `BrokerError`; reconnects use paho's capped exponential backoff, and every
(re)connect re-subscribes and then calls the registered on-connect callbacks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.matcher import MQTTMatcher

from edge.config import BrokerConfig

logger = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
# (topic, payload, mid, qos): the handler acknowledges the message itself with `ack(mid, qos)`.
AckingHandler = Callable[[str, bytes, int, int], None]
PahoCallback = Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]


class _NoFilters(MQTTMatcher):
    """A paho filter tree that stays empty (see MqttCoordinator.__init__)."""

    def iter_match(self, topic: str) -> Iterator[Any]:
        """Nothing matches."""
        return iter(())


class BrokerError(RuntimeError):
    """The broker connection is down or refused an operation."""


@dataclass(frozen=True)
class Will:
    """The message the broker publishes for us if we vanish without a clean disconnect."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


class MqttCoordinator:
    """Owns one MQTT connection: subscriptions, handlers, reconnects, publishing."""

    def __init__(
        self,
        name: str,
        broker: BrokerConfig,
        client_id: str,
        *,
        will: Will | None = None,
        clean_session: bool = False,
        manual_ack: bool = False,
        min_backoff_s: float = 0.2,
        max_backoff_s: float = 10.0,
    ) -> None:
        self.name = name
        self.broker = broker
        self._subscriptions: list[tuple[str, int]] = []
        self._on_connected: list[Callable[[], None]] = []
        self._connected = threading.Event()
        self._stopping = False
        self.last_error: str | None = None
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
            manual_ack=manual_ack,
        )
        self.manual_ack = manual_ack
        if broker.username is not None:
            client.username_pw_set(broker.username, broker.password)
        if broker.tls:
            client.tls_set()
        if will is not None:
            client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        client.reconnect_delay_set(
            min_delay=max(1, round(min_backoff_s)), max_delay=max(1, round(max_backoff_s))
        )
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        # One on_message with a per-topic route cache: paho's own matcher walks its filter tree
        # for every message, a noticeable share of the edge's time at thousands of messages/s.
        self._routes: list[tuple[str, PahoCallback]] = []
        self._route_cache: dict[str, list[PahoCallback]] = {}
        client.on_message = self._dispatch
        # paho still walks its (empty) filter tree for every message before calling on_message;
        # nothing here uses message_callback_add, so give it a tree that matches nothing at once.
        if isinstance(getattr(client, "_on_message_filtered", None), MQTTMatcher):
            client._on_message_filtered = _NoFilters()
        self._client = client

    @property
    def connected(self) -> bool:
        """Whether the connection is up right now."""
        return self._connected.is_set()

    def subscribe(self, topic_filter: str, handler: MessageHandler, qos: int = 1) -> None:
        """Route messages matching `topic_filter` to `handler(topic, payload)`."""
        self._subscriptions.append((topic_filter, qos))
        self._add_route(topic_filter, self._guarded(handler))

    def subscribe_acking(self, topic_filter: str, handler: AckingHandler, qos: int = 1) -> None:
        """Route messages to `handler(topic, payload, mid, qos)`, which must call `ack` later.

        Needs `manual_ack=True`: the broker keeps an unacked QoS 1 message and delivers it again
        after a reconnect, so a message is only gone once the handler has made it durable.
        """
        if not self.manual_ack:
            raise ValueError(f"{self.name}: subscribe_acking needs manual_ack=True")
        self._subscriptions.append((topic_filter, qos))

        def call(_client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
            try:
                handler(message.topic, bytes(message.payload), message.mid, message.qos)
            except Exception:
                logger.exception("%s: handler failed for a message on %s", self.name, message.topic)

        self._add_route(topic_filter, call)

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a message taken by an acking handler (QoS 0 needs none)."""
        if qos > 0 and self.manual_ack:
            self._client.ack(mid, qos)

    def on_connected(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every successful (re)connect, once subscriptions are requested."""
        self._on_connected.append(callback)

    def start(self) -> None:
        """Connect in the background (retrying with backoff until stop)."""
        logger.info("%s: connecting to %s:%s", self.name, self.broker.host, self.broker.port)
        self._client.connect_async(
            self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s
        )
        self._client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until connected or timeout; returns whether connected."""
        return self._connected.wait(timeout_s)

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False
    ) -> mqtt.MQTTMessageInfo:
        """Hand a message to the client; BrokerError if disconnected or refused."""
        if not self.connected:
            raise BrokerError(
                f"{self.name}: not connected to {self.broker.host}:{self.broker.port}"
            )
        try:
            info = self._client.publish(topic, payload, qos=qos, retain=retain)
        except (ValueError, OSError) as exc:
            raise BrokerError(f"{self.name}: publish to {topic} failed: {exc}") from exc
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerError(
                f"{self.name}: publish to {topic} failed: {mqtt.error_string(info.rc)}"
            )
        return info

    def stop(self, final: tuple[str, bytes, bool] | None = None, timeout_s: float = 2.0) -> None:
        """Publish an optional last (topic, payload, retain) message, disconnect cleanly, stop."""
        if final is not None and self.connected:
            try:
                self.publish(final[0], final[1], qos=1, retain=final[2]).wait_for_publish(timeout_s)
            except (BrokerError, RuntimeError, ValueError) as exc:
                logger.warning("%s: could not publish the final message: %s", self.name, exc)
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    def _guarded(
        self, handler: MessageHandler
    ) -> Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]:
        def call(_client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
            try:
                handler(message.topic, bytes(message.payload))
            except Exception:
                # A handler bug must not kill the network thread (and with it every device).
                logger.exception("%s: handler failed for a message on %s", self.name, message.topic)
            if self.manual_ack and message.qos > 0:
                self._client.ack(message.mid, message.qos)

        return call

    def _handle_connect(
        self, client: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            self.last_error = f"connection refused: {reason}"
            logger.error("%s: %s", self.name, self.last_error)
            return
        self.last_error = None
        for topic_filter, qos in self._subscriptions:
            client.subscribe(topic_filter, qos)
        self._connected.set()
        logger.info("%s: connected to %s:%s", self.name, self.broker.host, self.broker.port)
        for callback in self._on_connected:
            try:
                callback()
            except Exception:
                logger.exception("%s: on-connect callback failed", self.name)

    def _handle_disconnect(
        self, _c: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if was_connected and not self._stopping:
            self.last_error = f"disconnected: {reason}"
            logger.warning("%s: %s (reconnecting)", self.name, self.last_error)

    def _add_route(self, topic_filter: str, callback: PahoCallback) -> None:
        self._routes.append((topic_filter, callback))
        self._route_cache = {}

    def _dispatch(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic = message.topic
        callbacks = self._route_cache.get(topic)
        if callbacks is None:
            callbacks = [cb for f, cb in self._routes if mqtt.topic_matches_sub(f, topic)]
            if len(self._route_cache) >= 10_000:
                self._route_cache = {}
            self._route_cache[topic] = callbacks
        if not callbacks:
            self._handle_unrouted(client, userdata, message)
        for callback in callbacks:
            callback(client, userdata, message)

    def _handle_unrouted(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        logger.debug("%s: no handler for %s", self.name, message.topic)
        if self.manual_ack and message.qos > 0:
            self._client.ack(message.mid, message.qos)

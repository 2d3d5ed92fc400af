"""One coordinator per broker connection: owns the paho client and its network thread.

Library errors become `BrokerError`; reconnects use paho's capped exponential backoff, and every
(re)connect re-subscribes and then calls the registered on-connect callbacks.
"""

from __future__ import annotations

import logging
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.matcher import MQTTMatcher

from edge.config import BrokerConfig

logger = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
# (topic, payload, mid, qos): the handler acknowledges the message itself with `ack(mid, qos)`.
AckingHandler = Callable[[str, bytes, int, int], None]
# (topic, payload, mid, qos) of one received PUBLISH
RawCallback = Callable[[str, bytes, int, int], None]


class _NoFilters(MQTTMatcher):
    """A paho filter tree that stays empty (see MqttCoordinator.__init__)."""

    def iter_match(self, topic: str) -> Iterator[Any]:
        """Nothing matches."""
        return iter(())


READ_CHUNK = 65536  # bytes asked of the socket per read (paho asks 1, 1, then the rest)
READ_BURST = 500  # packets handled per network-loop turn once the socket has no more bytes ready
_PUBACK = struct.Struct("!BBH")  # a PUBACK packet: fixed header 0x40, remaining length 2, mid


def _taken(command: int, length: int, body: bytes) -> Any:
    """paho's state of an incoming packet read whole (and, with 0, of none begun)."""
    return {
        "command": command,
        "have_remaining": 1 if command else 0,
        "remaining_count": [],
        "remaining_mult": 1,
        "remaining_length": length,
        "packet": body if command else bytearray(),
        "to_process": 0,
        "pos": 0,
    }


class _Client(mqtt.Client):
    """paho's client reading the socket in large chunks and acknowledging in one write.

    paho reads every packet with three `recv` calls (type byte, length byte(s), body) and handles
    one packet per `select`; here a read takes whatever the socket holds and a loop turn handles
    every whole packet it brought. A QoS 0/1 PUBLISH (MQTT 3.1.1) goes straight to
    `on_publish_raw` without paho's message object, callback locks and log call. `send_pubacks`
    queues the PUBACKs of many messages as one write (paho queues one packet and wakes its
    network thread once per `ack`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self.on_publish_raw: RawCallback | None = None

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        handler = self.on_publish_raw
        header = self._in_packet["command"]
        qos = (header & 0x06) >> 1
        if handler is None or qos == 2 or self._protocol == mqtt.MQTTv5:
            return super()._handle_publish()
        packet = self._in_packet["packet"]
        size = len(packet)
        length = (packet[0] << 8 | packet[1]) if size >= 2 else 0
        start = 2 + length + (2 if qos else 0)
        if length == 0 or start > size:
            return super()._handle_publish()  # malformed: paho reports it
        try:
            topic = packet[2 : 2 + length].decode()
        except UnicodeDecodeError:
            return super()._handle_publish()
        mid = (packet[start - 2] << 8 | packet[start - 1]) if qos else 0
        handler(topic, bytes(packet[start:]), mid, qos)
        if qos == 1 and not self._manual_ack:
            return self._send_puback(mid)
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet_read(self) -> mqtt.MQTTErrorCode:
        buf, pos = self._rbuf, self._rpos
        size = len(buf)
        if self._in_packet["command"] or size - pos < 2:
            return super()._packet_read()  # a packet begun earlier, or nothing buffered
        # a packet wholly in the buffer is taken in one slice (paho: three reads and a resize)
        length, shift, at = 0, 0, pos + 1
        while True:
            if at >= size or at - pos > 4:
                return super()._packet_read()  # length not all here yet (or malformed)
            byte = buf[at]
            at += 1
            length |= (byte & 127) << shift
            if byte < 128:
                break
            shift += 7
        end = at + length
        if end > size:
            return super()._packet_read()
        self._rpos = end
        self._in_packet = _taken(buf[pos], length, buf[at:end])
        try:
            rc = self._packet_handle()
        except MalformedPacket as exc:
            logger.debug("malformed packet from the broker: %s", exc)
            rc = mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL
        self._in_packet = _taken(0, 0, b"")
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        return rc

    def _sock_recv(self, bufsize: int) -> bytes:
        buf, pos = self._rbuf, self._rpos
        if pos >= len(buf):
            buf = super()._sock_recv(READ_CHUNK)  # BlockingIOError when nothing is ready
            if not buf:
                return buf  # closed by the broker
            self._rbuf, pos = buf, 0
        end = pos + bufsize
        self._rpos = end
        return buf[pos:end]

    def _buffered(self) -> bool:
        return self._rpos < len(self._rbuf)

    def _sock_close(self) -> None:
        self._rbuf, self._rpos = b"", 0  # bytes of a closed connection must not reach the next
        super()._sock_close()

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """Handle packets until the socket has nothing ready (every buffered byte handled)."""
        handled = 0
        while True:
            if self._sock is None:
                return mqtt.MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            handled += 1
            # select() only sees the socket, so never return with bytes left in the buffer
            if self._buffered():
                continue
            if rc == mqtt.MQTTErrorCode.MQTT_ERR_AGAIN or handled >= READ_BURST:
                return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def send_pubacks(self, mids: list[int]) -> None:
        """Queue the PUBACKs of these QoS 1 messages as one write."""
        pack = _PUBACK.pack
        packet = b"".join([pack(mqtt.PUBACK, 2, mid) for mid in mids])
        self._packet_queue(mqtt.PUBACK, packet, 0, 1)


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
        client = _Client(
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
        # One handler with a per-topic route cache: paho's own matcher walks its filter tree
        # for every message, a noticeable share of the edge's time at thousands of messages/s.
        self._routes: list[tuple[str, RawCallback]] = []
        self._route_cache: dict[str, list[RawCallback]] = {}
        client.on_publish_raw = self._dispatch
        client.on_message = self._dispatch_message  # what paho still hands over (QoS 2)
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

        def call(topic: str, payload: bytes, mid: int, qos: int) -> None:
            try:
                handler(topic, payload, mid, qos)
            except Exception:
                logger.exception("%s: handler failed for a message on %s", self.name, topic)

        self._add_route(topic_filter, call)

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a message taken by an acking handler (QoS 0 needs none)."""
        if qos > 0 and self.manual_ack:
            self._client.ack(mid, qos)

    def ack_all(self, acks: Iterable[tuple[int, int]]) -> None:
        """Acknowledge (mid, qos) messages taken by an acking handler, QoS 1 ones in one write."""
        if not self.manual_ack:
            return
        mids = []
        for mid, qos in acks:
            if qos == 1:
                mids.append(mid)
            elif qos > 1:
                self._client.ack(mid, qos)
        if mids:
            self._client.send_pubacks(mids)

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

    def _guarded(self, handler: MessageHandler) -> RawCallback:
        def call(topic: str, payload: bytes, mid: int, qos: int) -> None:
            try:
                handler(topic, payload)
            except Exception:
                # A handler bug must not kill the network thread (and with it every device).
                logger.exception("%s: handler failed for a message on %s", self.name, topic)
            if self.manual_ack and qos > 0:
                self._client.ack(mid, qos)

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

    def _add_route(self, topic_filter: str, callback: RawCallback) -> None:
        self._routes.append((topic_filter, callback))
        self._route_cache = {}

    def _dispatch(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        callbacks = self._route_cache.get(topic)
        if callbacks is None:
            callbacks = [cb for f, cb in self._routes if mqtt.topic_matches_sub(f, topic)]
            if len(self._route_cache) >= 10_000:
                self._route_cache = {}
            self._route_cache[topic] = callbacks
        if not callbacks:
            logger.debug("%s: no handler for %s", self.name, topic)
            if self.manual_ack and qos > 0:
                self._client.ack(mid, qos)
        for callback in callbacks:
            callback(topic, payload, mid, qos)

    def _dispatch_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            logger.warning("%s: dropped a message with a topic that is not UTF-8", self.name)
            if self.manual_ack and message.qos > 0:
                self._client.ack(message.mid, message.qos)
            return
        self._dispatch(topic, bytes(message.payload), message.mid, message.qos)

"""The edge's device connection: a burst of QoS 1 messages (small ones and ones larger than a socket
read) arrives whole and in order, and only what was acknowledged is gone after a reconnect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from firmware_interfaces import topics
from paho.mqtt.enums import CallbackAPIVersion

from edge.adapters.coordinator import READ_CHUNK, MqttCoordinator
from edge.config import BrokerConfig
from whs.broker import DEVICE, EDGE, BrokerAccount, LocalBroker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

TOPIC = topics.device_topic("wh1", topics.RFID, "gate-01", topics.READS)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    accounts = [BrokerAccount("edge-01", EDGE), BrokerAccount("gate-01", DEVICE)]
    with LocalBroker(tmp_path / "broker", accounts) as running:
        yield running


class Received:
    """What an acking handler was given, in order; acknowledged in groups by `take`."""

    def __init__(self) -> None:
        self.messages: list[tuple[bytes, int, int]] = []
        self.lock = threading.Lock()

    def __call__(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        assert topic == TOPIC
        with self.lock:
            self.messages.append((payload, mid, qos))

    def take(self, link: MqttCoordinator, count: int, unacked_tail: int = 0) -> None:
        """Wait for `count` messages, acknowledging what arrives in groups (as the intake does),
        except the last `unacked_tail` of the `count`."""
        deadline = time.monotonic() + 20
        acked = 0
        while time.monotonic() < deadline:
            with self.lock:
                arrived = len(self.messages)
                group = self.messages[acked : min(arrived, count - unacked_tail)]
            link.ack_all([(mid, qos) for _, mid, qos in group])  # the broker sends 100 unacked
            acked += len(group)
            if arrived >= count:
                return
            time.sleep(0.01)
        raise AssertionError(f"{len(self.messages)} of {count} messages arrived")


def edge_connection(broker: LocalBroker, received: Received) -> MqttCoordinator:
    config = BrokerConfig(
        broker.host, broker.port, "edge-01", broker.account("edge-01").password, keepalive_s=30
    )
    link = MqttCoordinator("edge-devices", config, "edge-01-devices", manual_ack=True)
    link.subscribe_acking(topics.device_filter("wh1"), received)
    link.start()
    assert link.wait_connected(10)
    time.sleep(0.3)  # subscribed
    return link


def publish(broker: LocalBroker, bodies: list[bytes]) -> None:
    device = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="gate-01")
    device.username_pw_set("gate-01", broker.account("gate-01").password)
    device.max_inflight_messages_set(1000)
    device.connect(broker.host, broker.port)
    device.loop_start()
    infos = [device.publish(TOPIC, body, qos=1) for body in bodies]
    for info in infos:
        info.wait_for_publish(20)
    device.disconnect()
    device.loop_stop()


def test_a_burst_arrives_whole_in_order_and_only_acked_messages_are_gone_after_a_reconnect(
    broker: LocalBroker,
) -> None:
    # small messages many to a socket read, and every 50th larger than a whole read
    bodies = [
        (f"{i:05d}:".encode() + (b"x" * (3 * READ_CHUNK) if i % 50 == 7 else b"y" * (i % 300)))
        for i in range(1200)
    ]
    received = Received()
    link = edge_connection(broker, received)
    sender = threading.Thread(target=publish, args=(broker, bodies))
    sender.start()
    # acknowledge all but the last 25 (as if the process died before committing them)
    received.take(link, len(bodies), unacked_tail=25)
    sender.join(30)
    assert [payload for payload, _, _ in received.messages] == bodies
    assert {qos for _, _, qos in received.messages} == {1}
    time.sleep(0.5)  # the PUBACKs reach the broker
    link.stop()

    again = Received()
    link = edge_connection(broker, again)
    again.take(link, 25)
    time.sleep(0.5)  # nothing else comes
    assert [payload for payload, _, _ in again.messages] == bodies[-25:]
    time.sleep(0.3)
    link.stop()

"""Stand-ins -> real Mosquitto -> edge agent -> uplink, observed and acked by a fake central."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from firmware_interfaces import topics
from firmware_interfaces.validation import validate, validate_event
from paho.mqtt.enums import CallbackAPIVersion

from edge.agent import EdgeAgent
from edge.config import parse_edge_config
from edge.deadletter import DeadLetterStore
from simulators.devices.config import parse_standins_config
from simulators.devices.runner import DeviceStandIns
from whs.broker import CENTRAL, DEVICE, EDGE, SIM, BrokerAccount, LocalBroker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SITE, EDGE_ID = "wh1", "edge-01"
EPCS = [f"3034257BF7194E4000{i:06X}" for i in range(1, 13)]


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def client(broker: LocalBroker, username: str, client_id: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    c.username_pw_set(username, broker.account(username).password)
    c.reconnect_delay_set(1, 2)
    return c


class FakeCentral:
    """Commits each (epoch, seq) once, in order, and acks the highest contiguous seq (if acking)."""

    def __init__(self, broker: LocalBroker, ack: bool = True) -> None:
        self.ack = ack
        self.lock = threading.Lock()
        self.deliveries: list[tuple[int, int, tuple[str, ...]]] = []  # (epoch, seq, event types)
        self.committed: dict[int, int] = {}
        self.events: list[dict[str, Any]] = []
        self.batches: dict[tuple[int, int], list[dict[str, Any]]] = {}
        self.reads_published: list[dict[str, Any]] = []
        self.edge_status: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._client = client(broker, "central", "fake-central")
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()

    def _on_connect(self, c: mqtt.Client, *_: Any) -> None:
        c.subscribe(
            [
                (topics.edge_topic(SITE, EDGE_ID, topics.UPLINK), 1),
                (topics.edge_topic(SITE, EDGE_ID, topics.STATUS), 1),
                (topics.device_filter(SITE, topics.RFID, topics.READS), 1),
            ]
        )

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith("/reads"):
            # what the gates published; the tests' own malformed payloads are skipped
            with contextlib.suppress(ValueError):
                self.reads_published.append(validate("rfid_reads", json.loads(msg.payload)))
            return
        try:
            body = json.loads(msg.payload)
            if msg.topic.endswith("/status"):
                validate("device_status", body)
                self.edge_status.append(body)
            else:
                self._on_batch(body)
        except Exception as exc:  # surfaced by the tests through self.errors
            self.errors.append(f"{msg.topic}: {exc!r}")

    def _on_batch(self, batch: dict[str, Any]) -> None:
        validate("uplink_batch", batch)
        for event in batch["events"]:
            validate_event(event)
        epoch, seq = batch["epoch"], batch["seq"]
        with self.lock:
            self.deliveries.append((epoch, seq, tuple(e["type"] for e in batch["events"])))
            previous = self.batches.setdefault((epoch, seq), batch["events"])
            if previous != batch["events"]:
                self.errors.append(f"batch {epoch}/{seq} was resent with different events")
            done = self.committed.get(epoch, 0)
            while (epoch, done + 1) in self.batches:
                done += 1
                self.events.extend(self.batches[(epoch, done)])
            self.committed[epoch] = done
            if not self.ack or done == 0:
                return
        ack = {
            "edge_id": batch["edge_id"],
            "epoch": epoch,
            "seq": done,
            "ts": datetime.now(UTC).isoformat(),
        }
        validate("uplink_ack", ack)
        self._client.publish(topics.edge_topic(SITE, EDGE_ID, topics.ACK), json.dumps(ack), qos=1)

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if e["type"] == event_type]

    def deliveries_of(self, seq: int) -> int:
        with self.lock:
            return sum(1 for _, s, _ in self.deliveries if s == seq)

    def reported_epcs(self) -> set[str]:
        return {r["epc"] for body in list(self.reads_published) for r in body["reads"]}

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    accounts = [
        BrokerAccount(EDGE_ID, EDGE),
        BrokerAccount("gate-01", DEVICE),
        BrokerAccount("scale-01", DEVICE),
        BrokerAccount("gate-99", DEVICE),
        BrokerAccount("sim", SIM),
        BrokerAccount("central", CENTRAL),
    ]
    with LocalBroker(tmp_path / "broker", accounts) as running:
        yield running


def edge_config(broker: LocalBroker, tmp_path: Path, ack_timeout_s: float = 1.0):
    return parse_edge_config(
        {
            "edge_id": EDGE_ID,
            "site": SITE,
            "data_dir": str(tmp_path / "edge"),
            "broker": {
                "host": broker.host,
                "port": broker.port,
                "username": EDGE_ID,
                "password": broker.account(EDGE_ID).password,
            },
            "uplink": {
                "max_batch_delay_s": 0.05,
                "max_in_flight": 4,
                "ack_timeout_s": ack_timeout_s,
            },
            "devices": [
                {"id": "gate-01", "kind": "rfid_gate", "dedup_window_s": 3.0, "pass_gap_s": 0.5},
                {
                    "id": "scale-01",
                    "kind": "scale",
                    "window": 5,
                    "max_spread_kg": 0.2,
                    "min_load_kg": 2.0,
                },
            ],
        }
    )


def standins_config(broker: LocalBroker):
    return parse_standins_config(
        {
            "site": SITE,
            "broker": {"host": broker.host, "port": broker.port},
            "seed": 5,
            "control": {"username": "sim", "password": broker.account("sim").password},
            "docks": [
                {
                    "dock": "DOCK-01",
                    "gate": {
                        "id": "gate-01",
                        "password": broker.account("gate-01").password,
                        "read_cycle_s": 0.1,
                        "pass_duration_s": 0.8,
                        "miss_rate": 0.3,
                        "duplicate_rate": 0.3,
                    },
                    "scale": {
                        "id": "scale-01",
                        "password": broker.account("scale-01").password,
                        "sample_period_s": 0.05,
                        "noise_kg": 0.02,
                        "settle_s": 0.5,
                        "dwell_s": 1.0,
                    },
                }
            ],
        }
    )


@pytest.fixture
def central(broker: LocalBroker) -> Iterator[FakeCentral]:
    fake = FakeCentral(broker)
    yield fake
    fake.close()
    assert fake.errors == []


@pytest.fixture
def agent(broker: LocalBroker, tmp_path: Path, central: FakeCentral) -> Iterator[EdgeAgent]:
    running = EdgeAgent(edge_config(broker, tmp_path))
    running.start()
    assert running.wait_connected(10)
    yield running
    running.stop()


@pytest.fixture
def standins(broker: LocalBroker, agent: EdgeAgent) -> Iterator[DeviceStandIns]:
    running = DeviceStandIns(standins_config(broker))
    running.start()
    assert running.wait_connected(10)
    yield running
    running.stop()


def publish_as(broker: LocalBroker, username: str, topic: str, payload: bytes) -> None:
    c = client(broker, username, f"{username}-test")
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.publish(topic, payload, qos=1).wait_for_publish(5)
    c.disconnect()
    c.loop_stop()


def test_a_pallet_sent_through_the_sim_control_topic_becomes_one_gate_pass_and_one_weight(
    broker, central, agent, standins
):
    control = {"pallet_id": "PAL-1", "epcs": EPCS, "gross_kg": 356.4}
    publish_as(
        broker, "sim", topics.sim_topic(SITE, "DOCK-01", "pallet"), json.dumps(control).encode()
    )

    wait_for(
        lambda: central.of_type("rfid.gate_pass") and central.of_type("scale.stable_weight"),
        15,
        "events",
    )
    time.sleep(1.0)  # anything extra (a second pass or weight) would arrive by now
    [gate_pass] = central.of_type("rfid.gate_pass")
    [weight] = central.of_type("scale.stable_weight")
    reported = central.reported_epcs()
    assert reported <= set(EPCS) and len(reported) >= len(EPCS) - 2  # 30 % misses per read cycle
    assert {t["epc"] for t in gate_pass["data"]["tags"]} == reported
    assert gate_pass["data"]["direction"] == "in" and gate_pass["source"] == "gate-01"
    assert abs(weight["data"]["kg"] - 356.4) < 0.1 and weight["source"] == "scale-01"
    online = {e["source"] for e in central.of_type("device.status") if e["data"]["online"]}
    assert online == {"gate-01", "scale-01"}
    assert central.edge_status[-1]["online"] is True
    stats = agent.stats()
    assert stats["dead_lettered"] == 0 and stats["converted"] > 20 and stats["acked"] >= 1
    wait_for(lambda: agent.stats()["pending"] == 0, 5, "every event acked")


def test_the_in_process_pallet_call_and_the_edge_status_on_shutdown(
    broker, central, agent, standins
):
    job = standins.pass_pallet("DOCK-01", EPCS[:4], 25.0)
    assert job.done.wait(10)
    wait_for(
        lambda: central.of_type("rfid.gate_pass") and central.of_type("scale.stable_weight"),
        5,
        "events",
    )
    assert {
        t["epc"] for t in central.of_type("rfid.gate_pass")[0]["data"]["tags"]
    } == job.reported_epcs
    agent.stop()
    wait_for(
        lambda: central.edge_status and not central.edge_status[-1]["online"], 5, "offline status"
    )
    assert central.edge_status[-1]["reason"] == "shutdown"


def test_a_malformed_payload_is_a_dead_letter_and_conversion_goes_on(
    broker, central, agent, standins, tmp_path
):
    reads = topics.device_topic(SITE, topics.RFID, "gate-01", topics.READS)
    publish_as(broker, "gate-01", reads, b"{this is not json")
    stray = topics.device_topic(SITE, topics.RFID, "gate-99", topics.READS)
    publish_as(
        broker, "gate-99", stray, b'{"reader_id": "gate-99", "seq": 1, "sent_at": "x", "reads": []}'
    )

    letters = wait_for(
        lambda: (
            len(central.of_type("edge.dead_letter")) >= 2 and central.of_type("edge.dead_letter")
        ),
        5,
        "dead letters",
    )
    by_topic = {e["data"]["topic"]: e["data"]["reason"] for e in letters}
    assert "not JSON" in by_topic[reads]
    assert "unknown device 'gate-99'" in by_topic[stray]
    assert agent.stats()["dead_lettered"] == 2

    job = standins.pass_pallet("DOCK-01", EPCS[:3], 40.0)
    assert job.done.wait(10)
    wait_for(
        lambda: central.of_type("scale.stable_weight") and central.of_type("rfid.gate_pass"),
        5,
        "events",
    )
    agent.stop()
    stored = DeadLetterStore(tmp_path / "edge" / "edge.sqlite").recent()
    assert {(topic, payload[:5]) for topic, _, payload, _ in stored} == {
        (reads, b"{this"),
        (stray, b'{"rea'),
    }


def device_status(device_id: str, online: bool) -> bytes:
    ts = datetime.now(UTC).isoformat()
    return json.dumps(
        {"device_id": device_id, "online": online, "ts": ts, "reason": "heartbeat"}
    ).encode()


def test_unacked_batches_are_resent_after_the_ack_timeout_and_acked_ones_are_not(
    broker, central, agent
):
    status = topics.device_topic(SITE, topics.RFID, "gate-01", topics.STATUS)
    central.ack = False
    publish_as(broker, "gate-01", status, device_status("gate-01", True))
    wait_for(lambda: central.deliveries_of(1) >= 2, 5, "batch 1 resent after the 1 s ack timeout")
    assert agent.stats()["resent"] >= 1

    central.ack = True
    publish_as(broker, "gate-01", status, device_status("gate-01", False))
    wait_for(lambda: agent.stats()["pending"] == 0, 5, "both batches acked")
    before = (central.deliveries_of(1), central.deliveries_of(2))
    time.sleep(2.5)  # more than two ack timeouts
    assert (central.deliveries_of(1), central.deliveries_of(2)) == before
    assert [e["data"]["online"] for e in central.of_type("device.status")] == [True, False]


def test_unacked_batches_are_resent_after_a_broker_restart(broker, central, tmp_path):
    agent = EdgeAgent(edge_config(broker, tmp_path, ack_timeout_s=60))  # no timeout resends here
    agent.start()
    try:
        assert agent.wait_connected(10)
        status = topics.device_topic(SITE, topics.RFID, "gate-01", topics.STATUS)
        publish_as(broker, "gate-01", status, device_status("gate-01", True))
        wait_for(lambda: agent.stats()["acked"] == 1, 5, "batch 1 acked")
        central.ack = False
        publish_as(broker, "gate-01", status, device_status("gate-01", False))
        wait_for(lambda: central.deliveries_of(2) == 1, 5, "batch 2 delivered")

        broker.restart()
        central.ack = True
        wait_for(lambda: central.deliveries_of(2) >= 2, 10, "batch 2 resent after the reconnect")
        wait_for(lambda: agent.stats()["pending"] == 0, 5, "batch 2 acked")
        assert central.deliveries_of(1) == 1
        assert agent.stats()["resent"] >= 1  # the edge resent it, not the broker
        assert [e["data"]["online"] for e in central.of_type("device.status")] == [True, False]
    finally:
        agent.stop()


def test_events_unacked_when_the_edge_stops_are_sent_by_the_next_run_in_the_same_epoch(
    broker, central, tmp_path
):
    status = topics.device_topic(SITE, topics.RFID, "gate-01", topics.STATUS)
    central.ack = False
    first = EdgeAgent(edge_config(broker, tmp_path))
    first.start()
    assert first.wait_connected(10)
    publish_as(broker, "gate-01", status, device_status("gate-01", True))
    wait_for(lambda: central.deliveries_of(1) == 1, 5, "batch 1 delivered")
    first.stop()

    central.ack = True
    second = EdgeAgent(edge_config(broker, tmp_path))
    second.start()
    try:
        assert second.epoch == first.epoch
        wait_for(lambda: second.stats()["pending"] == 0, 10, "batch 1 acked after the restart")
        assert [e["data"]["online"] for e in central.of_type("device.status")] == [True]
        assert {epoch for epoch, _, _ in central.deliveries} == {first.epoch}
    finally:
        second.stop()

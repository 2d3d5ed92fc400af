"""Routing device messages: events for good payloads, dead letters with a reason for bad ones."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from firmware_interfaces import topics
from firmware_interfaces.validation import validate_event

from edge.config import BrokerConfig, EdgeConfig, RfidGateConfig, ScaleConfig
from edge.deadletter import MAX_UPLINK_PAYLOAD, DeadLetter, DeadLetterStore
from edge.router import DeviceRouter

NOW = datetime(2025, 3, 1, 8, 0, 5, tzinfo=UTC)
GATE_TOPIC = topics.device_topic("wh1", "rfid", "gate-01", "reads")
SCALE_TOPIC = topics.device_topic("wh1", "scale", "scale-01", "weight")


@pytest.fixture
def router(tmp_path: Path) -> DeviceRouter:
    config = EdgeConfig(
        edge_id="edge-01",
        site="wh1",
        data_dir=tmp_path,
        broker=BrokerConfig(),
        devices=(RfidGateConfig("gate-01"), ScaleConfig("scale-01")),
    )
    return DeviceRouter(config)


def test_good_reads_open_a_pass_and_are_not_dead_letters(router, fixture_bytes):
    routed = router.route(GATE_TOPIC, fixture_bytes("rfid_reads_inbound.json"), NOW)
    assert routed.dead_letter is None and routed.events == []
    [event] = router.flush()
    assert event.data["direction"] == "in" and len(event.data["tags"]) == 2


def test_device_status_is_an_event(router, fixture_bytes):
    topic = topics.device_topic("wh1", "rfid", "gate-01", "status")
    [event] = router.route(topic, fixture_bytes("device_status_online.json"), NOW).events
    validate_event(event.to_wire())


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (GATE_TOPIC, b"{not json", "not JSON"),
        (GATE_TOPIC, b'{"reader_id": "gate-01"}', "required property"),
        (
            SCALE_TOPIC,
            b'{"scale_id": "scale-01", "seq": 1, "ts": "yesterday", "gross_kg": 1}',
            "ts",
        ),
        (topics.device_topic("wh1", "rfid", "gate-77", "reads"), b"{}", "unknown device 'gate-77'"),
        (
            topics.device_topic("wh1", "scale", "gate-01", "weight"),
            b"{}",
            "is a 'rfid' device, not 'scale'",
        ),
        (
            topics.device_topic("wh1", "rfid", "gate-01", "weight"),
            b"{}",
            "unexpected channel 'weight'",
        ),
        (topics.device_topic("wh2", "rfid", "gate-01", "reads"), b"{}", "site 'wh2'"),
        ("whs/v1/wh1/devices/rfid", b"{}", "not a device topic"),
    ],
)
def test_unusable_messages_become_dead_letters_with_the_reason(router, topic, payload, reason):
    routed = router.route(topic, payload, NOW)
    assert routed.events == []
    assert routed.dead_letter is not None
    assert reason in routed.dead_letter.reason
    assert routed.dead_letter.payload == payload and routed.dead_letter.topic == topic


def test_bad_epc_in_a_batch_dead_letters_the_whole_batch(router, fixture_bytes):
    routed = router.route(GATE_TOPIC, fixture_bytes("rfid_reads_bad_epc.json"), NOW)
    assert routed.dead_letter is not None and "epc" in routed.dead_letter.reason
    assert router.flush() == []


def test_commands_to_devices_and_cleared_retained_status_are_ignored(router):
    assert router.route(topics.device_topic("wh1", "rfid", "gate-01", "cmd"), b"{}", NOW).ignored
    assert router.route(topics.device_topic("wh1", "rfid", "gate-01", "status"), b"", NOW).ignored


def test_dead_letter_event_carries_the_payload_and_obeys_its_schema():
    letter = DeadLetter("t/x", "not JSON", b"\x00\xffabc", NOW)
    wire = letter.to_event("edge-01").to_wire()
    validate_event(wire)
    assert wire["type"] == "edge.dead_letter" and wire["source"] == "edge-01"
    assert base64.b64decode(wire["data"]["payload_b64"]) == b"\x00\xffabc"
    assert wire["data"]["received_at"] == "2025-03-01T08:00:05.000Z"


def test_a_huge_dead_letter_is_truncated_upstream_but_kept_whole_locally(tmp_path):
    payload = b"x" * (MAX_UPLINK_PAYLOAD + 10)
    letter = DeadLetter("t/x", "not JSON", payload, NOW)
    data = letter.to_event("edge-01").data
    assert len(base64.b64decode(data["payload_b64"])) == MAX_UPLINK_PAYLOAD
    assert "truncated" in data["reason"]
    store = DeadLetterStore(tmp_path / "edge.sqlite")
    store.add(letter)
    [(topic, reason, kept, received_at)] = store.recent()
    assert (topic, reason, kept, received_at) == (
        "t/x",
        "not JSON",
        payload,
        "2025-03-01T08:00:05.000Z",
    )
    store.close()
    assert DeadLetterStore(tmp_path / "edge.sqlite").count() == 1  # survives a restart

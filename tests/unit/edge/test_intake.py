"""Device messages reach the journal in group commits, are acked only once durable, and a full
journal blocks or rejects (never drops silently)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from firmware_interfaces import topics
from firmware_interfaces.validation import validate_event

from edge.config import parse_edge_config
from edge.deadletter import DeadLetterStore
from edge.intake import Intake
from edge.journal import SqliteOutbox
from edge.router import DeviceRouter

NOW = datetime(2025, 3, 1, 8, 0, 5, tzinfo=UTC)
TOPIC = topics.device_topic("wh1", "rfid", "gate-01", "reads")


def reads(seq: int, *epcs: str) -> bytes:
    ts = "2025-03-01T08:00:00.000Z"
    body = {
        "reader_id": "gate-01",
        "seq": seq,
        "sent_at": ts,
        "reads": [{"epc": e, "antenna": 1, "peak_rssi": -50.0, "first_seen": ts} for e in epcs],
    }
    return json.dumps(body).encode()


def epc(i: int) -> str:
    return f"30742574{i:016X}"


class Rig:
    """An intake over a real SQLite journal, with the broker's acks recorded."""

    def __init__(self, folder: Path, **uplink: object) -> None:
        self.folder = folder
        self.config = parse_edge_config(
            {
                "edge_id": "edge-01",
                "site": "wh1",
                "data_dir": str(folder),
                "broker": {},
                "uplink": uplink,
                "devices": [
                    {"id": "gate-01", "kind": "rfid_gate", "mode": "reads", "dedup_window_s": 0}
                ],
            }
        )
        self.outbox = SqliteOutbox(folder)
        self.letters = DeadLetterStore(folder / "edge.sqlite")
        self.acked: list[int] = []
        self.pending_at_ack: list[int] = []
        self.intake = Intake(
            "edge-01",
            self.config.uplink,
            DeviceRouter(self.config),
            self.outbox,
            self.letters,
            self._ack,
            lambda: NOW,
        )

    def _ack(self, acks: list[tuple[int, int]]) -> None:
        for mid, _qos in acks:
            self.acked.append(mid)
            self.pending_at_ack.append(self.outbox.pending())

    def events(self) -> list[dict]:
        while self.outbox.next_batch(1000):
            pass
        return [e for b in self.outbox.unacked() for e in b.events]

    def close(self) -> None:
        self.outbox.close()
        self.letters.close()


@pytest.fixture
def rig(tmp_path: Path):
    r = Rig(tmp_path)
    yield r
    r.close()


def test_messages_are_acked_only_after_their_events_are_in_the_journal(rig: Rig) -> None:
    for i in range(3):
        rig.intake.offer(TOPIC, reads(i, epc(i)), mid=10 + i, qos=1)
    assert rig.acked == []  # queued, not yet durable
    assert rig.intake.drain() == 3
    assert rig.acked == [10, 11, 12]
    assert rig.pending_at_ack == [3, 3, 3]  # all three events were committed before any ack
    events = rig.events()
    assert [e["data"]["epc"] for e in events] == [epc(0), epc(1), epc(2)]
    assert all(validate_event(e) for e in events)


def test_a_redelivered_message_is_acked_again_but_not_journaled_twice_even_after_restart(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    rig.intake.offer(TOPIC, reads(1, epc(1)), mid=1, qos=1)
    rig.intake.drain()
    rig.close()  # the process dies after the commit, before the broker saw the ack
    again = Rig(tmp_path)
    again.intake.offer(TOPIC, reads(1, epc(1)), mid=1, qos=1)  # the broker delivers it again
    again.intake.offer(TOPIC, reads(2, epc(2)), mid=2, qos=1)
    again.intake.drain()
    assert again.acked == [1, 2]
    assert again.intake.counters["redelivered"] == 1
    assert [e["data"]["epc"] for e in again.events()] == [epc(1), epc(2)]
    again.close()


def test_a_burst_of_one_read_messages_keeps_its_order_and_is_known_after_a_restart(
    tmp_path: Path,
) -> None:
    rig = Rig(tmp_path)
    for i in range(300):
        rig.intake.offer(TOPIC, reads(i, epc(i)), mid=i + 1, qos=1)
    assert rig.intake.drain() == 300
    assert rig.acked == list(range(1, 301)) and set(rig.pending_at_ack) == {300}
    rig.close()  # the broker never saw the acks: it delivers the whole burst again, and more
    again = Rig(tmp_path)
    for i in range(310):
        again.intake.offer(TOPIC, reads(i, epc(i)), mid=i + 1, qos=1)
    again.intake.drain()
    assert again.intake.counters["redelivered"] == 300
    assert [e["data"]["epc"] for e in again.events()] == [epc(i) for i in range(310)]
    again.close()


def test_block_holds_messages_unacked_until_central_makes_room(tmp_path: Path) -> None:
    rig = Rig(tmp_path, journal_max_events=3, when_full="block")
    for i in range(4):
        rig.intake.offer(TOPIC, reads(i, epc(i)), mid=i, qos=1)
    rig.intake.drain()
    assert rig.acked == [0, 1, 2, 3]  # the first group fits (the limit is checked per group)
    rig.intake.offer(TOPIC, reads(9, epc(9)), mid=9, qos=1)
    rig.intake.drain()
    assert rig.acked == [0, 1, 2, 3] and rig.intake.queued() == 1  # held, not acked, not lost
    alarm = rig.events()[-1]
    assert alarm["type"] == "edge.alarm" and alarm["data"]["active"] is True
    assert validate_event(alarm)
    rig.outbox.ack(rig.outbox.unacked()[-1].seq)  # central acked everything
    rig.intake.drain()
    assert rig.acked[-1] == 9 and rig.intake.queued() == 0
    kinds = [(e["type"], e["data"].get("active")) for e in rig.events()]
    assert kinds == [("edge.alarm", False), ("rfid.tag_read", None)]
    assert rig.intake.counters["rejected"] == 0
    rig.close()


def test_reject_new_acks_but_keeps_each_refused_message_as_a_dead_letter(tmp_path: Path) -> None:
    rig = Rig(tmp_path, journal_max_events=1, when_full="reject-new")
    rig.intake.offer(TOPIC, reads(0, epc(0)), mid=0, qos=1)
    rig.intake.drain()
    rig.intake.offer(TOPIC, reads(1, epc(1)), mid=1, qos=1)
    rig.intake.offer(TOPIC, reads(2, epc(2)), mid=2, qos=1)
    rig.intake.drain()
    assert rig.acked == [0, 1, 2]
    assert rig.intake.counters["rejected"] == 2
    letters = rig.letters.recent()
    assert len(letters) == 2 and all("journal full" in reason for _, reason, _, _ in letters)
    assert {json.loads(p)["seq"] for _, _, p, _ in letters} == {1, 2}
    events = rig.events()
    assert [e["type"] for e in events] == ["rfid.tag_read", "edge.alarm"]
    assert events[1]["data"]["policy"] == "reject-new"
    rig.close()


def test_a_full_journal_under_block_holds_qos0_messages_in_memory(tmp_path: Path) -> None:
    rig = Rig(tmp_path, journal_max_events=1, when_full="block")
    rig.intake.offer(TOPIC, reads(0, epc(0)), mid=0, qos=0)
    rig.intake.drain()
    rig.intake.offer(TOPIC, reads(1, epc(1)), mid=0, qos=0)
    rig.intake.drain()
    assert rig.intake.full and rig.intake.queued() == 1
    assert rig.intake.counters["dropped_qos0"] == 0
    rig.close()

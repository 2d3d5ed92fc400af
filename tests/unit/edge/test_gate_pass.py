"""RFID: de-duplication windows, direction from antenna order, passes grouped by quiet gap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from firmware_interfaces.validation import validate

from edge.converters.rfid import (
    Deduplicator,
    GatePassTracker,
    TagRead,
    direction_from_antennas,
    majority_direction,
)

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
EPC = "3034257BF7194E40000000{:02X}"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def read(tag: int, antenna: int, seconds: float, rssi: float = -55.0) -> TagRead:
    return TagRead("gate-01", EPC.format(tag), antenna, rssi, at(seconds), at(seconds))


def tracker(**kw) -> GatePassTracker:
    return GatePassTracker("gate-01", **{"pass_gap_s": 1.0, "dedup_window_s": 5.0, **kw})


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (1, 2, "in"),
        (2, 1, "out"),
        (1, 1, "unknown"),
        (2, 2, "unknown"),
        (3, 2, "unknown"),
        (1, 4, "unknown"),
    ],
)
def test_direction_from_antenna_order(first, last, expected):
    assert direction_from_antennas(first, last, outer=[1], inner=[2]) == expected


def test_direction_with_several_antennas_per_side():
    assert direction_from_antennas(3, 2, outer=[1, 3], inner=[2, 4]) == "in"
    assert direction_from_antennas(4, 1, outer=[1, 3], inner=[2, 4]) == "out"


@pytest.mark.parametrize(
    ("directions", "expected"),
    [
        (["in", "in", "out"], "in"),
        (["out", "unknown", "out", "in"], "out"),
        (["in", "out"], "unknown"),
        ([], "unknown"),
        (["unknown", "unknown", "in"], "unknown"),
    ],
)
def test_pass_direction_is_the_majority_of_tag_directions(directions, expected):
    assert majority_direction(directions) == expected


def test_deduplicator_window():
    dedup = Deduplicator(window_s=5.0)
    assert dedup.is_repeat("A", at(0)) is False
    assert dedup.is_repeat("A", at(4.9)) is True
    # the window slides with every sighting: a tag that keeps being read stays a repeat
    assert dedup.is_repeat("A", at(9.5)) is True
    assert dedup.is_repeat("A", at(14.6)) is False
    assert dedup.is_repeat("B", at(14.6)) is False


def test_inbound_pass_is_emitted_once_the_gate_is_quiet_for_the_gap():
    gate = tracker()
    assert gate.add([read(1, 1, 0.0), read(2, 1, 0.1)], received_at=at(0.1)) == []
    assert gate.add([read(1, 2, 0.6), read(2, 2, 0.7), read(1, 2, 0.8)], received_at=at(0.8)) == []
    assert gate.poll(at(1.7)) == []  # 0.9 s quiet: not yet
    [event] = gate.poll(at(1.8))

    validate("event_gate_pass", event.data)
    assert event.type == "rfid.gate_pass" and event.source == "gate-01"
    assert event.data["direction"] == "in"
    assert [t["epc"] for t in event.data["tags"]] == [EPC.format(1), EPC.format(2)]
    assert [t["direction"] for t in event.data["tags"]] == ["in", "in"]
    assert event.data["tags"][0]["antennas"] == [1, 2]
    assert event.data["started_at"] == "2025-03-01T08:00:00.000Z"
    assert event.data["ended_at"] == "2025-03-01T08:00:00.800Z"
    assert gate.poll(at(10)) == []  # nothing left open


def test_outbound_pass_and_peak_rssi():
    gate = tracker()
    gate.add([read(1, 2, 0.0, rssi=-70), read(1, 1, 0.5, rssi=-48.5)], received_at=at(0.5))
    [event] = gate.poll(at(2.0))
    assert event.data["direction"] == "out"
    assert event.data["tags"][0]["peak_rssi"] == -48.5


def test_reads_arriving_out_of_order_still_give_the_direction_by_read_time():
    gate = tracker()
    gate.add([read(1, 2, 0.6)], received_at=at(0.7))
    gate.add([read(1, 1, 0.1)], received_at=at(0.8))  # a late report of an earlier read
    [event] = gate.poll(at(2.0))
    assert event.data["tags"][0]["direction"] == "in"


def test_duplicate_reads_within_a_pass_are_one_tag():
    gate = tracker()
    gate.add([read(1, 1, 0.0), read(1, 1, 0.0), read(1, 1, 0.2)], received_at=at(0.2))
    [event] = gate.poll(at(5))
    assert len(event.data["tags"]) == 1
    assert event.data["tags"][0]["direction"] == "unknown"  # only ever seen outside


def test_a_quiet_gap_splits_two_pallets_into_two_passes():
    gate = tracker()
    gate.add([read(1, 1, 0.0), read(1, 2, 0.5)], received_at=at(0.5))
    first = gate.add([read(2, 1, 2.0), read(2, 2, 2.5)], received_at=at(2.0))  # 1.5 s later
    [second] = gate.poll(at(4.0))
    assert [t["epc"] for t in first[0].data["tags"]] == [EPC.format(1)]
    assert [t["epc"] for t in second.data["tags"]] == [EPC.format(2)]


def test_a_tag_lingering_after_its_pass_does_not_make_a_new_pass_within_the_window():
    gate = tracker(dedup_window_s=3.0)
    gate.add([read(1, 1, 0.0), read(1, 2, 0.5)], received_at=at(0.5))
    assert len(gate.poll(at(2.0))) == 1
    gate.add([read(1, 2, 2.5)], received_at=at(2.5))  # stray re-read 2 s after: duplicate
    assert gate.poll(at(10)) == []
    assert gate.duplicates_dropped == 1


def test_the_same_tag_passing_again_after_the_window_is_a_new_pass():
    gate = tracker(dedup_window_s=3.0)
    gate.add([read(1, 1, 0.0), read(1, 2, 0.5)], received_at=at(0.5))
    gate.poll(at(2.0))
    gate.add([read(1, 2, 10.0), read(1, 1, 10.5)], received_at=at(10.5))  # going back out
    [event] = gate.poll(at(12))
    assert event.data["direction"] == "out"


def test_a_duplicate_does_not_keep_a_new_pass_open():
    gate = tracker(dedup_window_s=10.0)
    gate.add([read(1, 1, 0.0), read(1, 2, 0.2)], received_at=at(0.2))
    gate.poll(at(1.5))
    gate.add([read(2, 1, 1.6)], received_at=at(1.6))
    gate.add([read(1, 2, 2.4)], received_at=at(2.4))  # lingering tag 1: dropped
    [event] = gate.poll(at(2.7))  # 1.1 s after tag 2's last accepted read
    assert [t["epc"] for t in event.data["tags"]] == [EPC.format(2)]

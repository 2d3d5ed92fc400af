"""Converters against the JSON fixtures in tests/data/edge."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from firmware_interfaces.validation import ContractError, validate

from edge.converters.rfid import parse_rfid_reads
from edge.converters.scale import parse_scale_weight
from edge.converters.status import parse_device_status
from edge.events import format_ts, parse_ts


def test_rfid_reads_fixture_becomes_tag_reads_with_uppercase_epcs_and_utc_times(fixture_bytes):
    batch = parse_rfid_reads(fixture_bytes("rfid_reads_inbound.json"), "gate-01")

    assert batch.reader_id == "gate-01" and batch.seq == 17
    assert [(r.epc[-2:], r.antenna) for r in batch.reads] == [
        ("01", 1),
        ("02", 1),
        ("01", 2),
        ("02", 2),
    ]
    assert batch.reads[0].epc == "3034257BF7194E4000000001"
    assert batch.reads[0].read_count == 3
    assert batch.reads[0].last_seen == datetime(2025, 3, 1, 8, 0, 0, 300000, tzinfo=UTC)
    # a read without last_seen was seen at one instant; +00:00 offsets are accepted
    assert batch.reads[3].last_seen == batch.reads[3].first_seen
    assert batch.reads[3].first_seen.tzinfo is not None


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("rfid_reads_bad_epc.json", "reads/0/epc"),
        ("rfid_reads_partial_word.json", "16-bit words"),
        ("rfid_reads_wrong_reader.json", "does not match the topic's device"),
        ("rfid_reads_missing_seq.json", "'seq' is a required property"),
    ],
)
def test_unusable_rfid_payloads_are_refused_with_the_reason(fixture_bytes, fixture, reason):
    with pytest.raises(ContractError, match=reason):
        parse_rfid_reads(fixture_bytes(fixture), "gate-01")


def test_scale_fixture_with_motion_flag(fixture_bytes):
    sample = parse_scale_weight(fixture_bytes("scale_weight_settled.json"), "scale-01")
    assert (sample.scale_id, sample.seq, sample.gross_kg, sample.motion) == (
        "scale-01",
        120,
        412.37,
        False,
    )


def test_scale_fixture_without_motion_flag_and_with_an_offset_is_normalised_to_utc(fixture_bytes):
    sample = parse_scale_weight(fixture_bytes("scale_weight_no_motion_flag.json"), "scale-01")
    assert sample.motion is None
    assert format_ts(sample.ts) == "2025-03-01T08:00:05.400Z"


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [("scale_weight_too_heavy.json", "gross_kg"), ("scale_weight_string_kg.json", "gross_kg")],
)
def test_unusable_scale_payloads_are_refused_with_the_reason(fixture_bytes, fixture, reason):
    with pytest.raises(ContractError, match=reason):
        parse_scale_weight(fixture_bytes(fixture), "scale-01")


def test_scale_payload_from_another_scale_is_refused(fixture_bytes):
    with pytest.raises(ContractError, match="does not match"):
        parse_scale_weight(fixture_bytes("scale_weight_settled.json"), "scale-02")


def test_device_status_becomes_a_device_status_event_whose_data_obeys_the_schema(fixture_bytes):
    event = parse_device_status(fixture_bytes("device_status_online.json"), "gate-01")
    assert (event.type, event.source, event.data["online"]) == ("device.status", "gate-01", True)
    validate("device_status", event.data)
    assert event.to_wire()["ts"] == "2025-03-01T07:59:00.000Z"


def test_not_json_is_refused():
    with pytest.raises(ContractError, match="not JSON"):
        parse_scale_weight(b"\xff\xfe garbage", "scale-01")


def test_deeply_nested_json_is_refused_not_crashing():
    with pytest.raises(ContractError):
        parse_rfid_reads(b"[" * 100_000 + b"]" * 100_000, "gate-01")


def test_times_on_the_wire_are_utc_with_z_and_naive_times_are_refused():
    assert format_ts(parse_ts("2025-03-01T09:00:00+01:00")) == "2025-03-01T08:00:00.000Z"
    with pytest.raises(ValueError, match="naive"):
        format_ts(datetime(2025, 3, 1))

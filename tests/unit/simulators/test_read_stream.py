"""The benchmark's device stand-in: bodies built ahead of time carry the time they are sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson

from simulators.devices.read_stream import iso_ts, prepare_reads_payload, reads_payload


def test_a_prepared_body_stamped_at_send_time_is_the_message_built_then():
    prepared = prepare_reads_payload("gate-03", 3, 1234, 50)
    for sent in (datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC), datetime.now(UTC)):
        assert prepared.stamp(iso_ts(sent).encode()) == reads_payload("gate-03", 3, 1234, 50, sent)


def test_every_time_field_of_a_prepared_body_is_stamped_and_the_reads_stay_distinct():
    sent = datetime.now(UTC) + timedelta(days=400)
    body = orjson.loads(prepare_reads_payload("gate-01", 1, 9, 50).stamp(iso_ts(sent).encode()))
    assert body["sent_at"] == iso_ts(sent)
    assert {r["first_seen"] for r in body["reads"]} == {iso_ts(sent)}
    assert len({r["epc"] for r in body["reads"]}) == 50
    other = orjson.loads(prepare_reads_payload("gate-01", 1, 10, 50).stamp(iso_ts(sent).encode()))
    assert not {r["epc"] for r in body["reads"]} & {r["epc"] for r in other["reads"]}

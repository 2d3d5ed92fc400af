"""Uplink flow control: batching, max in flight, acks, resends, epochs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from firmware_interfaces.validation import validate

from edge.config import UplinkConfig
from edge.outbox import Batch, MemoryOutbox, bump_epoch, read_epoch
from edge.uplink import UplinkSender, batch_payload


def ev(i: int) -> dict:
    return {
        "type": "device.status",
        "source": "gate-01",
        "ts": "2025-03-01T08:00:00Z",
        "data": {"i": i},
    }


class Wire:
    """A fake broker link: records what was published; can be 'down'."""

    def __init__(self) -> None:
        self.sent: list[Batch] = []
        self.up = True

    def publish(self, batch: Batch) -> bool:
        if self.up:
            self.sent.append(batch)
        return self.up

    @property
    def seqs(self) -> list[int]:
        return [b.seq for b in self.sent]


def make(epoch: int = 7, **kw) -> tuple[UplinkSender, MemoryOutbox, Wire]:
    config = UplinkConfig(
        **{
            "max_batch_events": 3,
            "max_batch_delay_s": 0.2,
            "max_in_flight": 2,
            "ack_timeout_s": 5.0,
            **kw,
        }
    )
    outbox, wire = MemoryOutbox(epoch), Wire()
    return UplinkSender(outbox, config, wire.publish), outbox, wire


def add(sender: UplinkSender, outbox: MemoryOutbox, n: int, now: float, start: int = 0) -> None:
    outbox.append([ev(start + i) for i in range(n)])
    sender.notify_appended(now)


def test_a_few_events_wait_for_the_batch_delay_then_go_as_one_batch():
    sender, outbox, wire = make()
    add(sender, outbox, 2, now=0.0)
    assert sender.pump(0.1) == 0
    assert sender.pump(0.2) == 1
    assert wire.seqs == [1] and [e["data"]["i"] for e in wire.sent[0].events] == [0, 1]


def test_a_full_batch_goes_at_once_and_seqs_are_contiguous_from_1():
    sender, outbox, wire = make(max_in_flight=10)
    add(sender, outbox, 7, now=0.0)
    sender.pump(0.0)
    assert wire.seqs == [1, 2]  # two full batches; the 7th event waits for the delay
    sender.pump(0.3)
    assert wire.seqs == [1, 2, 3]
    assert [len(b.events) for b in wire.sent] == [3, 3, 1]


def test_at_most_max_in_flight_unacked_batches_then_more_after_an_ack():
    sender, outbox, wire = make(max_in_flight=2)
    add(sender, outbox, 12, now=0.0)
    sender.pump(1.0)
    assert wire.seqs == [1, 2]
    assert sender.on_ack(7, 1) == 1
    sender.pump(1.1)
    assert wire.seqs == [1, 2, 3]
    sender.on_ack(7, 3)
    sender.pump(1.2)
    assert wire.seqs == [1, 2, 3, 4]
    assert outbox.pending() == 3


def test_acked_batches_are_dropped_and_unacked_ones_resent_in_order_after_the_timeout():
    sender, outbox, wire = make(max_in_flight=3, ack_timeout_s=5.0)
    add(sender, outbox, 12, now=0.0)
    sender.pump(0.0)
    sender.on_ack(7, 1)
    sender.pump(4.9)
    assert wire.seqs == [1, 2, 3, 4]
    sender.pump(5.0)  # batch 2 was sent at 0.0: timed out
    assert wire.seqs == [1, 2, 3, 4, 2, 3, 4]
    sender.pump(6.0)  # resent at 5.0: no new resend yet
    assert len(wire.sent) == 7
    assert sender.stats["batches_resent"] == 3 and sender.stats["batches_sent"] == 4


def test_after_a_reconnect_every_unacked_batch_is_resent_in_order():
    sender, outbox, wire = make(max_in_flight=3)
    add(sender, outbox, 9, now=0.0)
    sender.pump(0.0)
    sender.on_ack(7, 2)
    sender.resend_all()
    sender.pump(0.1)
    assert wire.seqs == [1, 2, 3, 3]


def test_while_the_link_is_down_nothing_is_lost_and_order_is_kept():
    sender, outbox, wire = make(max_in_flight=4)
    wire.up = False
    add(sender, outbox, 6, now=0.0)
    sender.pump(0.0)
    wire.up = True
    sender.pump(0.1)
    assert wire.seqs == [1, 2]
    assert [e["data"]["i"] for b in wire.sent for e in b.events] == list(range(6))


def test_acks_of_another_epoch_are_ignored():
    sender, outbox, _ = make()
    add(sender, outbox, 3, now=0.0)
    sender.pump(0.0)
    assert sender.on_ack(6, 1) == 0
    assert outbox.pending() == 3


def test_an_ack_beyond_what_was_sent_drops_only_what_exists():
    sender, outbox, wire = make()
    add(sender, outbox, 3, now=0.0)
    sender.pump(0.0)
    assert sender.on_ack(7, 99) == 1
    add(sender, outbox, 3, now=1.0)
    sender.pump(1.0)
    assert wire.seqs == [1, 2]


def test_batch_payload_obeys_uplink_batch():
    body = json.loads(
        batch_payload("edge-01", "wh1", 7, Batch(3, (ev(0),)), datetime(2025, 3, 1, tzinfo=UTC))
    )
    validate("uplink_batch", body)
    assert (body["epoch"], body["seq"], body["sent_at"]) == (7, 3, "2025-03-01T00:00:00.000Z")


def test_epoch_is_persisted_and_only_grows(tmp_path):
    assert read_epoch(tmp_path) is None
    first = bump_epoch(tmp_path)
    assert read_epoch(tmp_path) == first
    second = bump_epoch(tmp_path)
    assert second > first and read_epoch(tmp_path) == second


def test_epoch_stays_above_any_previous_one_even_if_the_clock_is_behind(tmp_path):
    (tmp_path / "epoch").write_text("99999999999\n")
    assert bump_epoch(tmp_path) == 100000000000


def test_a_stale_ack_resends_from_the_acked_point_without_waiting_for_the_timeout():
    sender, outbox, wire = make(ack_timeout_s=10.0, gap_resend_s=0.5)
    add(sender, outbox, 9, now=0.0)
    sender.pump(0.0)
    assert wire.seqs == [1, 2]
    sender.on_ack(7, 1, now=0.1)  # batch 2 went to another worker that has not committed yet
    sender.pump(0.1)
    assert wire.seqs == [1, 2, 3]
    assert sender.on_ack(7, 1, now=0.2) == 0  # a repeat so soon: batch 3 may still be in transit
    sender.pump(0.2)
    assert wire.seqs == [1, 2, 3]
    sender.on_ack(7, 1, now=0.8)  # central gave up waiting for batch 2: resend now, not at 10 s
    sender.pump(0.8)
    assert wire.seqs == [1, 2, 3, 2, 3]
    assert sender.stats["stale_acks"] == 1


def test_an_ack_naming_a_skipped_batch_resends_just_that_batch_at_once():
    # Central applied batch 1, parked batch 3 (its predecessor was at the other worker) and gave
    # it up; meanwhile batch 2 was committed and acked first. The old stale-ack rule would not
    # fire (batch 2 is no longer the oldest unacked), so batch 3 used to wait for the timeout.
    sender, outbox, wire = make(ack_timeout_s=10.0, gap_resend_s=0.5, max_in_flight=3)
    add(sender, outbox, 15, now=0.0)
    sender.pump(0.0)
    assert wire.seqs == [1, 2, 3]
    sender.on_ack(7, 2, now=0.05)
    sender.pump(0.05)
    assert wire.seqs == [1, 2, 3, 4, 5]
    sender.on_ack(7, 1, now=0.1, gap=3)  # late: batch 3 was given up when the cursor was at 1
    sender.pump(0.1)
    assert wire.seqs == [1, 2, 3, 4, 5, 3]  # only batch 3 again, long before ack_timeout_s
    sender.on_ack(7, 2, now=0.2, gap=6)  # a batch that was never sent is not "resent"
    sender.on_ack(7, 5, now=0.3)
    sender.pump(0.3)
    assert wire.seqs == [1, 2, 3, 4, 5, 3]
    assert sender.stats["batches_resent"] == 1

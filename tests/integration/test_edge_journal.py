"""The SQLite journal: same behaviour as the in-memory outbox, and it survives a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.journal import JOURNAL_FILE, SqliteOutbox
from edge.outbox import MemoryOutbox, read_epoch


def ev(i: int) -> dict:
    return {
        "type": "device.status",
        "source": "gate-01",
        "ts": "2025-03-01T08:00:00Z",
        "data": {"i": i},
    }


@pytest.fixture(params=["memory", "sqlite"])
def outbox(request, tmp_path: Path):
    box = MemoryOutbox(1) if request.param == "memory" else SqliteOutbox(tmp_path)
    yield box
    if isinstance(box, SqliteOutbox):
        box.close()


def test_batches_are_numbered_in_order_and_acks_drop_them(outbox):
    assert outbox.next_batch(10) is None
    outbox.append([ev(i) for i in range(5)])
    assert (outbox.pending(), outbox.unbatched()) == (5, 5)
    first, second = outbox.next_batch(3), outbox.next_batch(3)
    assert (first.seq, second.seq) == (1, 2)
    assert [e["data"]["i"] for e in first.events + second.events] == [0, 1, 2, 3, 4]
    assert outbox.next_batch(3) is None and outbox.unbatched() == 0
    assert outbox.ack(1) == 1
    assert [b.seq for b in outbox.unacked()] == [2] and outbox.pending() == 2
    assert outbox.ack(1) == 0  # acks are idempotent
    assert outbox.ack(10) == 1 and outbox.pending() == 0
    outbox.append([ev(9)])
    assert outbox.next_batch(3).seq == 3


def test_the_journal_keeps_its_epoch_batches_and_waiting_events_across_a_restart(tmp_path: Path):
    box = SqliteOutbox(tmp_path)
    epoch = box.epoch
    box.append([ev(i) for i in range(7)])
    box.next_batch(3)
    second = box.next_batch(3)
    box.ack(1)
    box.close()

    again = SqliteOutbox(tmp_path)
    assert again.epoch == epoch
    assert again.unacked() == [second]  # same seq, same events
    assert (again.unbatched(), again.pending()) == (1, 4)
    assert again.next_batch(3).seq == 3
    again.close()


def test_losing_the_journal_starts_a_higher_epoch(tmp_path: Path):
    box = SqliteOutbox(tmp_path)
    epoch = box.epoch
    box.append([ev(0)])
    box.next_batch(1)
    box.close()
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / (JOURNAL_FILE + suffix)).unlink(missing_ok=True)

    fresh = SqliteOutbox(tmp_path)
    assert fresh.epoch > epoch and read_epoch(tmp_path) == fresh.epoch
    assert fresh.unacked() == [] and fresh.pending() == 0
    fresh.append([ev(1)])
    assert fresh.next_batch(1).seq == 1
    fresh.close()

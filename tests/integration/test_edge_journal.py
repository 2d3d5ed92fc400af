"""The SQLite journal: same behaviour as the in-memory outbox, and it survives a restart."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from edge.events import EncodedEvents
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


def rows(*counts: int, start: int = 0) -> list[EncodedEvents]:
    """Encoded rows holding `counts` events, numbered on from `start`."""
    out, i = [], start
    for n in counts:
        out.append(EncodedEvents(n, ",".join(json.dumps(ev(i + k)) for k in range(n))))
        i += n
    return out


def test_rows_of_several_events_are_sealed_whole_and_in_order(outbox):
    outbox.append([ev(0), *rows(3, 4, start=1), ev(8)])
    assert (outbox.pending(), outbox.unbatched()) == (9, 9)
    sizes = []
    while (batch := outbox.next_batch(5)) is not None:
        sizes.append(batch.size)
        assert batch.size == len(batch.events)
    events = [e["data"]["i"] for b in outbox.unacked() for e in b.events]
    assert events == list(range(9))
    assert max(sizes) <= 5 and sum(sizes) == 9


def test_a_row_larger_than_a_batch_is_sealed_alone_and_survives_a_restart(tmp_path: Path):
    box = SqliteOutbox(tmp_path)
    box.append(rows(2, 7, 1))
    first, second = box.next_batch(5), box.next_batch(5)
    assert (first.size, second.size) == (2, 7)
    box.close()
    again = SqliteOutbox(tmp_path)
    assert [b.size for b in again.unacked()] == [2, 7] and again.unbatched() == 1
    assert [e["data"]["i"] for b in again.unacked() for e in b.events] == list(range(9))
    assert again.next_batch(5).size == 1
    again.close()


def old_journal(
    tmp_path: Path, next_seq: int, schema: str, events: Sequence[tuple[object, ...]] = ()
) -> None:
    """A journal file as an earlier edge version left it: epoch 42, `schema`, event rows."""
    tmp_path.mkdir(exist_ok=True)
    db = sqlite3.connect(tmp_path / JOURNAL_FILE)
    db.executescript(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
        f"INSERT INTO meta VALUES ('epoch', 42), ('next_seq', {next_seq});" + schema
    )
    if events:
        db.executemany("INSERT INTO events (id, batch_seq, body) VALUES (?, ?, ?)", events)
    db.commit()
    db.close()


def test_a_journal_from_before_multi_event_rows_is_read_and_kept(tmp_path: Path):
    old_journal(
        tmp_path,
        2,
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, batch_seq INTEGER,"
        " body TEXT NOT NULL);",
        [(1, 1, json.dumps(ev(0))), (2, 1, json.dumps(ev(1))), (3, None, json.dumps(ev(2)))],
    )
    box = SqliteOutbox(tmp_path)
    assert box.epoch == 42 and (box.pending(), box.unbatched()) == (3, 1)
    assert [(b.seq, b.size) for b in box.unacked()] == [(1, 2)]
    box.append(rows(2, start=3))
    batch = box.next_batch(10)
    assert batch.seq == 2 and [e["data"]["i"] for e in batch.events] == [2, 3, 4]
    box.close()


def test_an_old_layout_journal_keeps_its_batches_through_an_ack_and_a_restart(tmp_path: Path):
    old_journal(
        tmp_path,
        3,
        "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, batch_seq INTEGER,"
        " body TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 1);",
        [(i + 1, seq, json.dumps(ev(i))) for i, seq in enumerate([1, 1, 2, 2, None])],
    )
    box = SqliteOutbox(tmp_path)
    assert [(b.seq, b.size) for b in box.unacked()] == [(1, 2), (2, 2)]
    assert box.ack(1) == 1
    box.close()
    again = SqliteOutbox(tmp_path)
    assert [(b.seq, b.size) for b in again.unacked()] == [(2, 2)] and again.unbatched() == 1
    assert [e["data"]["i"] for e in again.unacked()[0].events] == [2, 3]
    batch = again.next_batch(10)
    assert batch.seq == 3 and [e["data"]["i"] for e in batch.events] == [4]
    again.close()


def test_a_journal_with_one_seen_row_per_message_still_knows_those_messages(tmp_path: Path):
    old_journal(
        tmp_path,
        1,
        "CREATE TABLE seen (key INTEGER PRIMARY KEY, n INTEGER NOT NULL);"
        "INSERT INTO seen VALUES (9000000000000000001, 1), (17, 2), (5, 3);",
    )
    box = SqliteOutbox(tmp_path)
    assert box.seen([5, 17, 9000000000000000001, 6]) == {5, 17, 9000000000000000001}
    box.append(rows(1), [6])
    box.close()
    again = SqliteOutbox(tmp_path)  # moved over once, and the new key kept beside them
    assert again.seen([5, 17, 9000000000000000001, 6, 7]) == {5, 17, 9000000000000000001, 6}
    again.close()


def test_only_the_most_recent_message_keys_are_remembered_across_a_restart(tmp_path: Path):
    box = SqliteOutbox(tmp_path, remember_keys=100)
    for group in range(30):  # 300 keys in groups of 10
        box.append(rows(1, start=group), list(range(group * 10, group * 10 + 10)))
    box.close()
    again = SqliteOutbox(tmp_path, remember_keys=100)
    remembered = again.seen(range(300))
    assert set(range(200, 300)) <= remembered  # the newest are always known
    assert not remembered & set(range(0, 100))  # the oldest are forgotten
    again.close()

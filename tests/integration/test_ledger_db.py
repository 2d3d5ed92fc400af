"""The stock ledger on SQLite and PostgreSQL: stock always equals the sum of the ledger."""

from __future__ import annotations

import threading
from collections import defaultdict

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central.common.errors import InsufficientStock
from central.db.tables import Stock, StockMove
from central.inventory import service
from central.inventory.domain import Move, MoveReason, VirtualLocation
from tests.helpers import seeded_sessions

pytestmark = pytest.mark.integration


def ledger_sum(session: Session) -> dict[tuple[int, int, int], int]:
    totals: dict[tuple[int, int, int], int] = defaultdict(int)
    for m in session.scalars(select(StockMove)):
        totals[(m.from_location_id, m.sku_id, m.lot_id)] -= m.qty
        totals[(m.to_location_id, m.sku_id, m.lot_id)] += m.qty
    return {k: v for k, v in totals.items() if v}


def stock_rows(session: Session) -> dict[tuple[int, int, int], int]:
    return {
        (s.location_id, s.sku_id, s.lot_id): s.qty for s in session.scalars(select(Stock)) if s.qty
    }


def ids(sessions: sessionmaker[Session]) -> tuple[int, int, int, int, int]:
    with sessions.begin() as s:
        site = service.get_site(s, "wh1")
        supplier = service.virtual_location(s, site.id, VirtualLocation.SUPPLIER).id
        dock = service.get_location(s, site.id, "DOCK-01").id
        shelf = service.get_location(s, site.id, "A01-B01").id
        sku = service.get_sku(s, "TEA-500").id
        lot = service.lot_for(s, sku, "L1").id
    return supplier, dock, shelf, sku, lot


def test_moves_keep_stock_equal_to_ledger(database_url: str) -> None:
    with seeded_sessions(database_url) as sessions:
        supplier, dock, shelf, sku, lot = ids(sessions)
        with sessions.begin() as s:
            service.post_moves(s, [Move(sku, lot, 12, supplier, dock, MoveReason.RECEIPT)], "test")
        with sessions.begin() as s:
            service.post_moves(s, [Move(sku, lot, 5, dock, shelf, MoveReason.PUTAWAY)], "test")
        with sessions.begin() as s:
            assert stock_rows(s) == ledger_sum(s)
            assert stock_rows(s)[(dock, sku, lot)] == 7
            assert stock_rows(s)[(shelf, sku, lot)] == 5
            assert stock_rows(s)[(supplier, sku, lot)] == -12


def test_failed_step_rolls_back_whole(database_url: str) -> None:
    with seeded_sessions(database_url) as sessions:
        supplier, dock, shelf, sku, lot = ids(sessions)
        with pytest.raises(InsufficientStock), sessions.begin() as s:
            # the first move alone would succeed; the second fails, so neither may stay
            service.post_moves(
                s,
                [
                    Move(sku, lot, 3, supplier, dock, MoveReason.RECEIPT),
                    Move(sku, lot, 4, dock, shelf, MoveReason.PUTAWAY),
                ],
                "test",
            )
        with sessions.begin() as s:
            assert stock_rows(s) == {}
            assert s.scalars(select(StockMove)).all() == []


def test_concurrent_takes_never_drive_stock_negative(database_url: str) -> None:
    with seeded_sessions(database_url) as sessions:
        supplier, dock, shelf, sku, lot = ids(sessions)
        with sessions.begin() as s:
            service.post_moves(s, [Move(sku, lot, 20, supplier, dock, MoveReason.RECEIPT)], "test")
        outcomes: list[str] = []
        lock = threading.Lock()

        def take() -> None:
            try:
                with sessions.begin() as s:
                    service.post_moves(
                        s, [Move(sku, lot, 3, dock, shelf, MoveReason.PUTAWAY)], "worker"
                    )
                result = "ok"
            except InsufficientStock:
                result = "short"
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=take) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count("ok") == 6  # 6 x 3 = 18 <= 20; a 7th would need 21
        assert outcomes.count("short") == 10
        with sessions.begin() as s:
            assert stock_rows(s)[(dock, sku, lot)] == 2
            assert stock_rows(s) == ledger_sum(s)

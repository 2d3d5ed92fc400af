"""The ledger write: stock into a location and its `stock_moves` line, in Core statements.

`service.post_moves` and the SQLite path of a pick confirmation both write through here. (The
PostgreSQL pick confirmation writes the same two rows inside its one data-modifying CTE
statement, `outbound.picking_sql._PICK_PG`, to keep the confirm at one round trip.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, text

from central.db.tables import StockMove
from central.inventory.domain import Move

MOVES = cast(Table, StockMove.__table__)

# Same text on PostgreSQL and SQLite (both have ON CONFLICT); creates the row atomically.
_ADD_TO_STOCK = text(
    "INSERT INTO stock (location_id, sku_id, lot_id, qty, reserved) "
    "VALUES (:loc, :sku, :lot, :n, 0) "
    "ON CONFLICT (location_id, sku_id, lot_id) DO UPDATE SET qty = stock.qty + excluded.qty"
)
_MOVE = insert(MOVES).returning(MOVES.c.id, sort_by_parameter_order=True)


def add_to_stock(
    connection: Connection, location_id: int, sku_id: int, lot_id: int, n: int
) -> None:
    """Add `n` (may be negative) to one stock row, creating it when missing."""
    connection.execute(_ADD_TO_STOCK, {"loc": location_id, "sku": sku_id, "lot": lot_id, "n": n})


def move_row(move: Move, actor: str, now: datetime) -> dict[str, Any]:
    """The `stock_moves` row of one move."""
    return {
        "ts": now,
        "sku_id": move.sku_id,
        "lot_id": move.lot_id,
        "qty": move.qty,
        "from_location_id": move.from_location_id,
        "to_location_id": move.to_location_id,
        "reason": move.reason.value,
        "ref_type": move.ref_type,
        "ref_id": move.ref_id,
        "actor": actor,
        "note": move.note,
    }


def book(
    connection: Connection,
    moves: Sequence[Move],
    actor: str,
    now: datetime,
    take: Callable[[Move], None] | None = None,
) -> list[dict[str, Any]]:
    """Write moves: each one's stock off (`take`) and into stock, in order; then every ledger line.

    Returns the `stock_moves` rows written, with their ids. Without `take` the source side is
    the caller's (a pick takes reserved stock beforehand).
    """
    rows = []
    for m in moves:
        if take is not None:
            take(m)
        add_to_stock(connection, m.to_location_id, m.sku_id, m.lot_id, m.qty)
        rows.append(move_row(m, actor, now))
    ids = connection.execute(_MOVE, rows).scalars().all()
    return [{"id": i, **row} for i, row in zip(ids, rows, strict=True)]

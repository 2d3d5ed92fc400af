"""The statements of a pick confirmation, built once at import (Core, no ORM round trips).

A handheld confirm is the busiest write of the system; building statements per request and
loading ORM objects cost more CPU than the database work itself, so they live here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Connection,
    Row,
    Table,
    and_,
    bindparam,
    case,
    func,
    select,
    text,
    update,
)

from central.common.errors import Conflict, InsufficientStock
from central.db.tables import (
    Location,
    Lot,
    OrderLine,
    PickBatch,
    PickLine,
    Reservation,
    Sku,
    Stock,
)
from central.inventory import ledger
from central.inventory.domain import LocationKind, Move, MoveReason

LINES = cast(Table, PickLine.__table__)
BATCHES = cast(Table, PickBatch.__table__)
LOCATIONS = cast(Table, Location.__table__)
SKUS = cast(Table, Sku.__table__)
LOTS = cast(Table, Lot.__table__)
RESERVATIONS = cast(Table, Reservation.__table__)
ORDER_LINES = cast(Table, OrderLine.__table__)
STOCK = cast(Table, Stock.__table__)
TOTES = LOCATIONS.alias("tote")


class Item(NamedTuple):
    """The codes an item scan is checked against."""

    code: str
    gtin: str | None


# The line with its location, SKU, lot, reservation's stock row, order and (if it exists yet)
# its tote's location, in one read. On PostgreSQL the line and its batch are locked: two
# confirms of one line get one 200 and one 409, and confirms within a batch take turns, so the
# completion check of the batch and of its orders sees every earlier confirm.
LINE = (
    select(
        LINES.c.seq,
        LINES.c.batch_id,
        LINES.c.qty,
        LINES.c.qty_picked,
        LINES.c.tote,
        LINES.c.status,
        LINES.c.picker,
        LINES.c.sku_id,
        LINES.c.lot_id,
        LINES.c.location_id,
        LINES.c.reservation_id,
        LINES.c.order_line_id,
        LOCATIONS.c.code.label("location"),
        LOCATIONS.c.site_id,
        SKUS.c.code.label("sku"),
        SKUS.c.name.label("sku_name"),
        SKUS.c.gtin,
        LOTS.c.code.label("lot"),
        RESERVATIONS.c.stock_id,
        ORDER_LINES.c.order_id,
        TOTES.c.id.label("tote_id"),
    )
    .select_from(
        LINES.join(BATCHES, BATCHES.c.id == LINES.c.batch_id)
        .join(LOCATIONS, LOCATIONS.c.id == LINES.c.location_id)
        .join(SKUS, SKUS.c.id == LINES.c.sku_id)
        .join(LOTS, LOTS.c.id == LINES.c.lot_id)
        .join(RESERVATIONS, RESERVATIONS.c.id == LINES.c.reservation_id)
        .join(ORDER_LINES, ORDER_LINES.c.id == LINES.c.order_line_id)
        .outerjoin(
            TOTES, and_(TOTES.c.site_id == LOCATIONS.c.site_id, TOTES.c.code == LINES.c.tote)
        )
    )
    .where(LINES.c.id == bindparam("line_id"))
    .with_for_update(of=[LINES, BATCHES])
)

# Release the reservation and take the stock off the location in one conditional update.
_TAKE = (
    update(STOCK)
    .where(
        STOCK.c.id == bindparam("sid"),
        STOCK.c.reserved >= bindparam("n"),
        STOCK.c.qty >= bindparam("n"),
    )
    .values(qty=STOCK.c.qty - bindparam("n"), reserved=STOCK.c.reserved - bindparam("n"))
)
_STOCK_ROW = select(STOCK.c.qty, STOCK.c.reserved).where(STOCK.c.id == bindparam("sid"))
_RESERVATION = (
    update(RESERVATIONS)
    .where(RESERVATIONS.c.id == bindparam("rid"))
    .values(
        qty=RESERVATIONS.c.qty - bindparam("n"),
        status=case((RESERVATIONS.c.qty == bindparam("n"), "picked"), else_=RESERVATIONS.c.status),
    )
)
_LINE = (
    update(LINES)
    .where(LINES.c.id == bindparam("lid"))
    .values(
        qty_picked=bindparam("picked"),
        status=bindparam("st"),
        done_by=bindparam("by", type_=LINES.c.done_by.type),
        done_at=bindparam("at", type_=LINES.c.done_at.type),
    )
)
_ORDER_LINE = (
    update(ORDER_LINES)
    .where(ORDER_LINES.c.id == bindparam("olid"))
    .values(qty_picked=ORDER_LINES.c.qty_picked + bindparam("n"))
)
# Open lines of a batch other than one, and how many of them belong to one order (an order's
# pick lines are all in one batch: a wave puts each order into exactly one batch).
_OPEN = (
    select(
        func.count(),
        func.coalesce(func.sum(case((ORDER_LINES.c.order_id == bindparam("oid"), 1), else_=0)), 0),
    )
    .select_from(LINES.join(ORDER_LINES, ORDER_LINES.c.id == LINES.c.order_line_id))
    .where(
        LINES.c.batch_id == bindparam("bid"),
        LINES.c.status == "open",
        LINES.c.id != bindparam("lid"),
    )
)
BATCH_DONE = update(BATCHES).where(BATCHES.c.id == bindparam("batch_id")).values(status="done")


# Same text on PostgreSQL and SQLite (both have ON CONFLICT); SQLAlchemy's dialect upsert
# constructs carry no cache key and would be compiled again on every confirm.
_NEW_TOTE = text(  # the no-op update makes RETURNING give the id of an existing row as well
    "INSERT INTO locations (site_id, code, kind) VALUES (:site, :code, :kind) "
    "ON CONFLICT (site_id, code) DO UPDATE SET kind = locations.kind RETURNING id"
)
# `write_pick` on PostgreSQL: the statements below (and the open counts, from the statement's
# snapshot, so without this line) in one round trip. Nothing changes unless `take` found its row.
_PICK_PG = text(
    """
WITH take AS (
    UPDATE stock SET qty = qty - :n, reserved = reserved - :n
    WHERE id = :sid AND reserved >= :n AND qty >= :n RETURNING id
), reservation AS (
    UPDATE reservations
    SET qty = qty - :n, status = CASE WHEN qty = :n THEN 'picked' ELSE status END
    WHERE id = :rid AND EXISTS (SELECT FROM take)
), line AS (
    UPDATE pick_lines SET qty_picked = :picked, status = :st, done_by = :by, done_at = :at
    WHERE id = :lid AND EXISTS (SELECT FROM take)
), order_line AS (
    UPDATE order_lines SET qty_picked = qty_picked + :n
    WHERE id = :olid AND EXISTS (SELECT FROM take)
), into_tote AS (
    INSERT INTO stock (location_id, sku_id, lot_id, qty, reserved)
    SELECT :tote, :sku, :lot, :n, 0 FROM take
    ON CONFLICT (location_id, sku_id, lot_id) DO UPDATE SET qty = stock.qty + excluded.qty
), move AS (
    INSERT INTO stock_moves
        (ts, sku_id, lot_id, qty, from_location_id, to_location_id, reason, ref_type, ref_id, actor)
    SELECT :now, :sku, :lot, :n, :loc, :tote, :reason, 'pick_line', :ref, :actor FROM take
)
SELECT
    (SELECT count(*) FROM take),
    (SELECT count(*) FROM pick_lines
     WHERE batch_id = :bid AND status = 'open' AND id <> :lid),
    (SELECT count(*) FROM pick_lines JOIN order_lines ON order_lines.id = pick_lines.order_line_id
     WHERE pick_lines.batch_id = :bid AND pick_lines.status = 'open' AND pick_lines.id <> :lid
       AND order_lines.order_id = :oid)
"""
)


def take_reserved(connection: Connection, line_id: int, stock_id: int, qty: int) -> None:
    """Take `qty` off the reserved stock row; 409 saying whether reservation or stock fell short."""
    if connection.execute(_TAKE, {"sid": stock_id, "n": qty}).rowcount != 1:
        _refuse(connection, line_id, stock_id, qty)


def _refuse(connection: Connection, line_id: int, stock_id: int, qty: int) -> None:
    """409: the reservation or the stock on the shelf no longer covers `qty`."""
    on_hand, reserved = connection.execute(_STOCK_ROW, {"sid": stock_id}).one()
    if reserved < qty:
        raise Conflict(f"reservation of pick line {line_id} no longer covers {qty}")
    raise InsufficientStock(f"the location holds only {on_hand} of the line's SKU and lot")


def tote_location(connection: Connection, site_id: int, code: str) -> int:
    """The id of a tote's location, created on its first pick."""
    values = {"site": site_id, "code": code, "kind": LocationKind.TOTE.value}
    return int(connection.execute(_NEW_TOTE, values).scalar_one())


def pick_move(line_id: int, line: Row[Any], qty: int, tote_id: int) -> Move:
    """The ledger move of picking `qty` of a line: its location -> the tote."""
    return Move(
        line.sku_id,
        line.lot_id,
        qty,
        line.location_id,
        tote_id,
        MoveReason.PICK,
        "pick_line",
        str(line_id),
    )


def record_pick(
    connection: Connection,
    line_id: int,
    line: Row[Any],
    qty: int,
    done: bool,
    actor: str,
    now: datetime,
) -> None:
    """The reservation, pick line and order line after picking `qty`."""
    connection.execute(_RESERVATION, {"rid": line.reservation_id, "n": qty})
    connection.execute(
        _LINE,
        {
            "lid": line_id,
            "picked": line.qty_picked + qty,
            "st": "picked" if done else "open",
            "by": actor if done else None,
            "at": now if done else None,
        },
    )
    connection.execute(_ORDER_LINE, {"olid": line.order_line_id, "n": qty})


def open_counts(
    connection: Connection, batch_id: int, order_id: int, line_id: int
) -> tuple[int, int]:
    """Open lines left in a batch besides `line_id`, and how many of them are of one order."""
    values = {"bid": batch_id, "oid": order_id, "lid": line_id}
    in_batch, of_order = connection.execute(_OPEN, values).one()
    return int(in_batch), int(of_order)


def write_pick(
    connection: Connection,
    line_id: int,
    line: Row[Any],
    qty: int,
    tote_id: int,
    actor: str,
    now: datetime,
) -> tuple[int, int] | None:
    """Every write of picking `qty`; when that finishes the line, what is left open (see above).

    On PostgreSQL one statement (data-modifying CTEs, each row change conditional on the stock
    update), so a confirm costs one round trip for its writes instead of six; elsewhere the
    same changes one statement at a time.
    """
    done = line.qty_picked + qty == line.qty
    move = pick_move(line_id, line, qty, tote_id)
    if connection.dialect.name == "postgresql":
        values = {
            "n": qty,
            "sid": line.stock_id,
            "rid": line.reservation_id,
            "lid": line_id,
            "picked": line.qty_picked + qty,
            "st": "picked" if done else "open",
            "by": actor if done else None,
            "at": now if done else None,
            "olid": line.order_line_id,
            "tote": move.to_location_id,
            "sku": move.sku_id,
            "lot": move.lot_id,
            "loc": move.from_location_id,
            "now": now,
            "reason": move.reason.value,
            "ref": move.ref_id,
            "actor": actor,
            "bid": line.batch_id,
            "oid": line.order_id,
        }
        taken, in_batch, of_order = connection.execute(_PICK_PG, values).one()
        if not taken:
            _refuse(connection, line_id, line.stock_id, qty)
        return (int(in_batch), int(of_order)) if done else None
    take_reserved(connection, line_id, line.stock_id, qty)
    ledger.book(connection, [move], actor, now)
    record_pick(connection, line_id, line, qty, done, actor, now)
    return open_counts(connection, line.batch_id, line.order_id, line_id) if done else None

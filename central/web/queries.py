"""Read models of the web screens: task counts, the current pick line, waves and queues."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from central.db.tables import (
    Asn,
    Discrepancy,
    Location,
    Lot,
    Order,
    OrderLine,
    PickBatch,
    PickLine,
    Sku,
    Wave,
)
from central.orders.domain import OrderStatus
from central.outbound.picking import HANDHELD_LINE, has_handheld_lines


@dataclass(frozen=True)
class Progress:
    """Lines of a batch: done (picked or short) and in total."""

    done: int
    total: int


@dataclass(frozen=True)
class LineView:
    """The pick line on screen."""

    id: int
    location: str
    sku: str
    name: str
    gtin: str | None
    lot: str
    qty: int
    remaining: int
    tote: str


def my_batch(session: Session, user: str) -> PickBatch | None:
    """The open batch assigned to `user` (without claiming a new one)."""
    return session.scalar(
        select(PickBatch)
        .where(PickBatch.assignee == user, PickBatch.status == "open", has_handheld_lines())
        .order_by(PickBatch.id)
        .limit(1)
    )


def last_batch(session: Session, user: str) -> PickBatch | None:
    """The batch `user` worked on last (open or done)."""
    return session.scalar(
        select(PickBatch)
        .where(PickBatch.assignee == user)
        .order_by((PickBatch.status == "open").desc(), PickBatch.id.desc())
        .limit(1)
    )


def unclaimed_batches(session: Session) -> int:
    """Open batches nobody has taken yet."""
    return (
        session.scalar(
            select(func.count(PickBatch.id)).where(
                PickBatch.status == "open", PickBatch.assignee.is_(None), has_handheld_lines()
            )
        )
        or 0
    )


def progress(session: Session, batch_id: int) -> Progress:
    """How many lines of a batch are done."""
    done, total = session.execute(
        select(
            func.coalesce(func.sum(case((PickLine.status != "open", 1), else_=0)), 0),
            func.count(PickLine.id),
        ).where(PickLine.batch_id == batch_id)
    ).one()
    return Progress(int(done), int(total))


def current_line(session: Session, batch_id: int) -> LineView | None:
    """The next open line of a batch in walking order."""
    row = (
        session.execute(
            select(PickLine, Location.code, Sku.code, Sku.name, Sku.gtin, Lot.code)
            .join(Location, PickLine.location_id == Location.id)
            .join(Sku, PickLine.sku_id == Sku.id)
            .join(Lot, PickLine.lot_id == Lot.id)
            .where(PickLine.batch_id == batch_id, HANDHELD_LINE)
            .order_by(PickLine.seq)
            .limit(1)
        )
        .tuples()
        .first()
    )
    if row is None:
        return None
    line, location, sku, name, gtin, lot = row
    return LineView(
        line.id, location, sku, name, gtin, lot, line.qty, line.qty - line.qty_picked, line.tote
    )


def totes_ready(session: Session, site_id: int) -> list[tuple[str, int]]:
    """Totes of completely picked orders, with their order id."""
    rows = session.execute(
        select(PickLine.tote, Order.id)
        .join(OrderLine, PickLine.order_line_id == OrderLine.id)
        .join(Order, OrderLine.order_id == Order.id)
        .where(Order.site_id == site_id, Order.status == OrderStatus.PICKED.value)
        .distinct()
        .order_by(Order.id, PickLine.tote)
    ).tuples()
    return list(rows)


def exception_orders(session: Session, limit: int = 50) -> list[Order]:
    """Orders waiting in the exception queue, oldest first."""
    return list(
        session.scalars(
            select(Order)
            .where(Order.status == OrderStatus.EXCEPTION.value)
            .order_by(Order.id)
            .limit(limit)
        )
    )


def open_discrepancies(session: Session) -> list[tuple[Discrepancy, str | None]]:
    """Open receiving discrepancies with their ASN number."""
    rows = session.execute(
        select(Discrepancy, Asn.number)
        .outerjoin(Asn, Discrepancy.asn_id == Asn.id)
        .where(Discrepancy.status == "open")
        .order_by(Discrepancy.id)
    ).tuples()
    return list(rows)


@dataclass(frozen=True)
class BatchRow:
    """A batch on the dashboard."""

    id: int
    status: str
    assignee: str | None
    progress: Progress
    path_length: float


@dataclass(frozen=True)
class WaveRow:
    """A wave on the dashboard with its batches."""

    id: int
    code: str
    carrier: str | None
    status: str
    batches: list[BatchRow]


def recent_waves(session: Session, site_id: int, limit: int = 10) -> list[WaveRow]:
    """The newest waves with the progress of their batches."""
    waves = session.scalars(
        select(Wave).where(Wave.site_id == site_id).order_by(Wave.id.desc()).limit(limit)
    ).all()
    result = []
    for wave in waves:
        batches = session.scalars(
            select(PickBatch).where(PickBatch.wave_id == wave.id).order_by(PickBatch.id)
        )
        rows = [
            BatchRow(b.id, b.status, b.assignee, progress(session, b.id), b.path_length)
            for b in batches
        ]
        result.append(WaveRow(wave.id, wave.code, wave.carrier, wave.status, rows))
    return result

"""The allocation decision without a database: FEFO reservations, shortfalls, backorder splits.

Central's allocation (`central.outbound.allocation`, one order at a time, and
`central.outbound.allocate_bulk`, many orders with bulk statements) and the warehouse
simulation (`simulators.warehouse.engine`) all decide with these functions; only reading and
writing stock differs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum


class Decision(StrEnum):
    """What an allocation run decides for one order."""

    ALLOCATED = "allocated"  # every line is fully reserved
    BACKORDERED = "backordered"  # nothing could be reserved: the order waits whole
    SPLIT = "split"  # partly reserved: the reserved part goes on, the rest becomes a backorder


@dataclass(frozen=True)
class PlanLine:
    """An order line as allocation sees it (`allocated`: reserved so far)."""

    id: int
    order_id: int
    sku_id: int | None
    qty: int
    allocated: int = 0

    @property
    def missing(self) -> int:
        """What is still not reserved."""
        return self.qty - self.allocated


@dataclass(frozen=True)
class OrderPlan:
    """One order's outcome: its decision and its lines with their new reserved totals."""

    order_id: int
    decision: Decision
    lines: tuple[PlanLine, ...]

    def backorder_lines(self) -> list[PlanLine]:
        """Lines of the backorder a split creates: the missing quantity of each short line."""
        return [
            PlanLine(ln.id, ln.order_id, ln.sku_id, ln.missing)
            for ln in self.lines
            if ln.missing > 0
        ]


@dataclass(frozen=True)
class AllocationPlan:
    """Reservations of one run: qty reserved per line, the (line, stock, qty) rows, outcomes."""

    got: dict[int, int]
    reservations: list[tuple[int, int, int]]
    orders: list[OrderPlan]


def _always(_stock_id: int, _qty: int) -> bool:
    return True


def take_fefo(
    need: int,
    candidates: Iterable[tuple[int, int]],
    reserve: Callable[[int, int], bool] = _always,
) -> list[tuple[int, int]]:
    """(stock id, qty) taken from (stock id, free qty) candidates in FEFO order until `need` is
    met; `reserve(stock id, qty)` may refuse a take (the stock went meanwhile), then the next
    candidate is tried for the rest."""
    taken: list[tuple[int, int]] = []
    got = 0
    if need <= 0:
        return taken
    for stock_id, free in candidates:
        take = min(need - got, free)
        if take > 0 and reserve(stock_id, take):
            taken.append((stock_id, take))
            got += take
        if got == need:
            break
    return taken


def decide(lines: Iterable[tuple[int, int]]) -> Decision:
    """The decision for an order from its lines' (qty, reserved qty) after allocation."""
    pairs = list(lines)
    if all(allocated == qty for qty, allocated in pairs):
        return Decision.ALLOCATED
    if not any(allocated for _qty, allocated in pairs):
        return Decision.BACKORDERED
    return Decision.SPLIT


def reserve_lines(
    lines: Sequence[PlanLine], stock: dict[int, list[list[int]]]
) -> tuple[dict[int, int], list[tuple[int, int, int]]]:
    """Reserve line by line from free stock ({sku: [[stock id, free qty], ...]} in FEFO order,
    decremented in place): (qty reserved per line, (line id, stock id, qty) reservations)."""
    got: dict[int, int] = {}
    reservations: list[tuple[int, int, int]] = []
    for line in lines:
        if line.missing <= 0 or line.sku_id is None:
            continue
        cells = stock.get(line.sku_id, [])
        by_id = {cell[0]: cell for cell in cells}
        taken = take_fefo(line.missing, [(cell[0], cell[1]) for cell in cells])
        for stock_id, qty in taken:
            by_id[stock_id][1] -= qty
            reservations.append((line.id, stock_id, qty))
        got[line.id] = sum(qty for _, qty in taken)
    return got, reservations


def plan_allocation(
    order_ids: Sequence[int], lines: Sequence[PlanLine], stock: dict[int, list[list[int]]]
) -> AllocationPlan:
    """Allocate orders in the given sequence (lines in that order too) against free stock.

    Each line takes what is free, earliest expiry first; an order with every line reserved is
    allocated, one with nothing reserved stays backordered whole, one in between is split.
    """
    got, reservations = reserve_lines(lines, stock)
    by_order: dict[int, list[PlanLine]] = {order_id: [] for order_id in order_ids}
    for line in lines:
        by_order[line.order_id].append(
            replace(line, allocated=line.allocated + got.get(line.id, 0))
        )
    outcomes = [
        OrderPlan(
            order_id,
            decide((ln.qty, ln.allocated) for ln in by_order[order_id]),
            tuple(by_order[order_id]),
        )
        for order_id in order_ids
    ]
    return AllocationPlan(got, reservations, outcomes)

"""Order batching: group orders into picker tours under capacity, minimising total walking."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from optimization.layout import Point


@dataclass(frozen=True)
class Order:
    """A customer order: its pick locations and how much of the picker's capacity it takes."""

    picks: tuple[Point, ...]
    items: float = 0.0
    weight: float = 0.0
    volume: float = 0.0
    totes: int = 1


@dataclass(frozen=True)
class Capacity:
    """Per-batch limits of the pick cart."""

    items: float = float("inf")
    weight: float = float("inf")
    volume: float = float("inf")
    totes: int = 10**9


@dataclass
class _Load:
    orders: list[int] = field(default_factory=list)
    items: float = 0.0
    weight: float = 0.0
    volume: float = 0.0
    totes: int = 0

    def fits(self, o: Order, cap: Capacity) -> bool:
        return (
            self.items + o.items <= cap.items
            and self.weight + o.weight <= cap.weight
            and self.volume + o.volume <= cap.volume
            and self.totes + o.totes <= cap.totes
        )

    def add(self, i: int, o: Order) -> None:
        self.orders.append(i)
        self.items += o.items
        self.weight += o.weight
        self.volume += o.volume
        self.totes += o.totes


TourLength = Callable[[Sequence[Point]], float]


def _check(orders: Sequence[Order], cap: Capacity) -> None:
    for i, o in enumerate(orders):
        if not _Load().fits(o, cap):
            raise ValueError(f"order {i} alone exceeds the batch capacity")


def fcfs_batches(orders: Sequence[Order], cap: Capacity) -> list[list[int]]:
    """Baseline: fill batches in arrival order, opening a new one when the next order won't fit."""
    _check(orders, cap)
    batches: list[_Load] = []
    for i, o in enumerate(orders):
        if not batches or not batches[-1].fits(o, cap):
            batches.append(_Load())
        batches[-1].add(i, o)
    return [b.orders for b in batches]


def _picks(orders: Sequence[Order], batch: Sequence[int]) -> list[Point]:
    return [p for i in batch for p in orders[i].picks]


def seed_batches(
    orders: Sequence[Order], cap: Capacity, tour: TourLength, improve: bool = True
) -> list[list[int]]:
    """Seed batching (farthest order first, then smallest added tour length), then local search.

    `tour` gives the picker tour length through a set of locations (e.g. the exact router).
    The improvement phase moves and swaps orders between batches while the total shrinks.
    """
    _check(orders, cap)
    alone = [tour(o.picks) for o in orders]
    open_ = set(range(len(orders)))
    loads: list[_Load] = []
    while open_:
        seed = max(open_, key=lambda i: (alone[i], -i))
        load = _Load()
        load.add(seed, orders[seed])
        open_.discard(seed)
        while True:
            base = tour(_picks(orders, load.orders))
            options = [i for i in open_ if load.fits(orders[i], cap)]
            if not options:
                break
            extra = {i: tour(_picks(orders, [*load.orders, i])) - base for i in options}
            best = min(options, key=lambda i: (extra[i], i))
            load.add(best, orders[best])
            open_.discard(best)
        loads.append(load)
    batches = [ld.orders for ld in loads]
    return _improve(orders, cap, batches, tour) if improve else batches


def _fits(orders: Sequence[Order], batch: Sequence[int], cap: Capacity) -> bool:
    load = _Load()
    for i in batch:
        if not load.fits(orders[i], cap):
            return False
        load.add(i, orders[i])
    return True


def _improve(
    orders: Sequence[Order], cap: Capacity, batches: list[list[int]], tour: TourLength
) -> list[list[int]]:
    """First-improvement local search over moving one order and swapping two orders."""
    lengths = [tour(_picks(orders, b)) for b in batches]
    improved = True
    while improved:
        improved = False
        for a in range(len(batches)):
            for b in range(len(batches)):
                if a == b:
                    continue
                for i in list(batches[a]):
                    for j in [None, *batches[b]]:
                        new_a = [x for x in batches[a] if x != i] + ([j] if j is not None else [])
                        new_b = [x for x in batches[b] if x != j] + [i]
                        if not (_fits(orders, new_a, cap) and _fits(orders, new_b, cap)):
                            continue
                        la = tour(_picks(orders, new_a)) if new_a else 0.0
                        lb = tour(_picks(orders, new_b))
                        if la + lb < lengths[a] + lengths[b] - 1e-9:
                            batches[a], batches[b] = new_a, new_b
                            lengths[a], lengths[b] = la, lb
                            improved = True
                            break
                    if improved:
                        break
                if improved:
                    break
            if improved:
                break
    return [b for b in batches if b]


def total_length(orders: Sequence[Order], batches: list[list[int]], tour: TourLength) -> float:
    """Sum of the tour lengths of all batches."""
    return sum(tour(_picks(orders, b)) for b in batches)

"""The wave decisions without a database: which orders a wave takes, its batches, their paths.

`central.outbound.waves.release_wave` and the warehouse simulation
(`simulators.warehouse.engine`) both call these; only loading and storing orders differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from optimization import batching
from optimization.aisle_batching import estimated_seed_batches
from optimization.layout import ParallelAisleLayout, Point
from optimization.routing.problem import PickingProblem, Route
from optimization.routing.solve import pick_path

EXACT_BATCHING_MAX = 60  # up to this many orders, seed batching calls the exact router
IMPROVE_MAX = 60  # up to this many orders, local search then improves the batches

When = TypeVar("When", datetime, float)


@dataclass(frozen=True)
class WaveCandidate(Generic[When]):
    """An allocated order as wave selection sees it."""

    id: int
    ordered_at: When
    carrier: str | None = None


def select_wave(
    candidates: Iterable[WaveCandidate[When]],
    carrier: str | None,
    cutoff: When | None,
    max_orders: int,
) -> list[int]:
    """Ids of the orders a wave releases: the carrier's (if given), ordered by the cut-off (if
    given), oldest first, at most `max_orders`."""
    chosen = [
        c
        for c in candidates
        if (not carrier or c.carrier == carrier) and (cutoff is None or c.ordered_at <= cutoff)
    ]
    chosen.sort(key=lambda c: (c.ordered_at, c.id))
    return [c.id for c in chosen[:max_orders]]


def path(layout: ParallelAisleLayout, depot: Point, points: Sequence[Point], method: str) -> Route:
    """The pick path of one batch (its locations, from and back to the depot)."""
    return pick_path(PickingProblem(layout, depot, tuple(points)), method)


def tour_length(layout: ParallelAisleLayout, depot: Point, method: str) -> batching.TourLength:
    """Tour length of a set of locations by the router (what exact seed batching compares)."""

    def length(points: Sequence[Point]) -> float:
        return path(layout, depot, points, method).length if points else 0.0

    return length


def plan_batches(
    orders: Sequence[batching.Order],
    cart: batching.Capacity,
    tour: batching.TourLength,
    layout: ParallelAisleLayout,
    depot: Point,
    exact_max: int = EXACT_BATCHING_MAX,
    improve_max: int = IMPROVE_MAX,
) -> list[list[int]]:
    """Batches (order indices) under cart capacity: seed batching with the router as tour (and
    local search up to `improve_max`) up to `exact_max` orders, the vectorised aisle estimate
    above."""
    if len(orders) <= exact_max:
        return batching.seed_batches(orders, cart, tour, improve=len(orders) <= improve_max)
    return estimated_seed_batches(orders, cart, layout, depot)

"""A picking problem on a parallel-aisle layout, and the route that solves it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from optimization.layout import ParallelAisleLayout, Point


@dataclass(frozen=True)
class PickingProblem:
    """One picker tour: start and end at the depot, visit every pick location."""

    layout: ParallelAisleLayout
    depot: Point
    picks: tuple[Point, ...]
    depot_offset: float = 0.0  # walk from the cross-aisle to the depot itself, paid twice

    def __post_init__(self) -> None:
        self.layout.check(self.depot)
        if self.depot[1] not in self.layout.cross_aisles:
            raise ValueError("the depot must lie on a cross-aisle")
        for p in self.picks:
            self.layout.check(p)

    def points(self) -> list[Point]:
        """The depot followed by the picks (index 0 is the depot)."""
        return [self.depot, *self.picks]

    def distance_matrix(self) -> np.ndarray:
        """Shortest distances between depot (index 0) and picks (1..n)."""
        return self.layout.distance_matrix(self.points())


@dataclass(frozen=True)
class Route:
    """A tour: the picks in visiting order (indices into `PickingProblem.picks`) and its length."""

    length: float
    order: tuple[int, ...]
    method: str
    waypoints: tuple[Point, ...] = field(default=(), compare=False)


def tour_length(problem: PickingProblem, order: Sequence[int]) -> float:
    """Length of depot -> picks in `order` -> depot, along shortest paths."""
    dist = problem.distance_matrix()
    seq = [0, *(i + 1 for i in order), 0]
    hops = sum(float(dist[a, b]) for a, b in itertools.pairwise(seq))
    return hops + 2 * problem.depot_offset if problem.picks else 0.0

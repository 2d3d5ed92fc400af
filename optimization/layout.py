"""Warehouse layouts: parallel aisles with cross-aisles, and general graphs of locations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Point = tuple[int, float]
"""A position in a parallel-aisle layout: (aisle index, height above the bottom cross-aisle)."""


@dataclass(frozen=True)
class ParallelAisleLayout:
    """Parallel vertical aisles joined by horizontal cross-aisles (blocks lie between them).

    Aisle `i` runs at x = i * aisle_spacing; `cross_aisles` are the heights of the cross-aisles,
    ascending, the first being the bottom (front) one. A layout with two cross-aisles is a
    single-block warehouse; every further cross-aisle adds a block.
    """

    num_aisles: int
    cross_aisles: tuple[float, ...]
    aisle_spacing: float = 1.0

    def __post_init__(self) -> None:
        if self.num_aisles < 1:
            raise ValueError("a layout needs at least one aisle")
        if len(self.cross_aisles) < 2:
            raise ValueError("a layout needs at least a bottom and a top cross-aisle")
        if any(b <= a for a, b in zip(self.cross_aisles, self.cross_aisles[1:], strict=False)):
            raise ValueError("cross-aisle heights must be strictly ascending")

    @classmethod
    def single_block(
        cls, num_aisles: int, aisle_length: float, aisle_spacing: float = 1.0
    ) -> ParallelAisleLayout:
        """A warehouse with a front and a back cross-aisle only."""
        return cls(num_aisles, (0.0, float(aisle_length)), aisle_spacing)

    @classmethod
    def multi_block(
        cls, num_aisles: int, cross_aisles: Sequence[float], aisle_spacing: float = 1.0
    ) -> ParallelAisleLayout:
        """A warehouse with cross-aisles at the given heights (bottom first)."""
        return cls(num_aisles, tuple(float(c) for c in cross_aisles), aisle_spacing)

    @property
    def num_blocks(self) -> int:
        """Number of blocks (aisle sections between two consecutive cross-aisles)."""
        return len(self.cross_aisles) - 1

    @property
    def bottom(self) -> float:
        """Height of the front (bottom) cross-aisle."""
        return self.cross_aisles[0]

    @property
    def top(self) -> float:
        """Height of the back (top) cross-aisle."""
        return self.cross_aisles[-1]

    def block_of(self, y: float) -> int:
        """Index of the block holding height y (a point on a cross-aisle joins the block below)."""
        if not self.bottom <= y <= self.top:
            raise ValueError(f"height {y} lies outside the aisles")
        block = int(np.searchsorted(self.cross_aisles, y, side="left")) - 1
        return min(max(block, 0), self.num_blocks - 1)

    def check(self, point: Point) -> None:
        """Raise ValueError if the point is not on an aisle of this layout."""
        aisle, y = point
        if not 0 <= aisle < self.num_aisles:
            raise ValueError(f"aisle {aisle} outside 0..{self.num_aisles - 1}")
        self.block_of(y)

    def distance_matrix(self, a: Sequence[Point], b: Sequence[Point] | None = None) -> np.ndarray:
        """Shortest walking distances between every point of `a` and every point of `b`."""
        pa = np.asarray(a, dtype=float).reshape(-1, 2)
        pb = pa if b is None else np.asarray(b, dtype=float).reshape(-1, 2)
        xa, ya = pa[:, 0:1] * self.aisle_spacing, pa[:, 1:2]
        xb, yb = pb[None, :, 0] * self.aisle_spacing, pb[None, :, 1]
        cross = np.asarray(self.cross_aisles)[:, None, None]
        # Changing aisle means walking to some cross-aisle and along it; the best one minimises
        # the vertical detour. Within one aisle the walk is straight.
        via_cross = np.min(np.abs(ya[None] - cross) + np.abs(yb[None] - cross), axis=0)
        same_aisle = pa[:, 0:1] == pb[None, :, 0]
        return np.where(same_aisle, np.abs(ya - yb), np.abs(xa - xb) + via_cross)


@dataclass(frozen=True)
class GraphLayout:
    """A general layout: locations with coordinates joined by walkable edges."""

    coords: np.ndarray
    edges: tuple[tuple[int, int], ...]
    lengths: tuple[float, ...] | None = None

    def edge_lengths(self) -> np.ndarray:
        """Edge lengths: as given, or Euclidean between the end points."""
        if self.lengths is not None:
            return np.asarray(self.lengths, dtype=float)
        ends = np.asarray(self.edges, dtype=int).reshape(-1, 2)
        diff = self.coords[ends[:, 0]] - self.coords[ends[:, 1]]
        return np.sqrt((diff**2).sum(axis=1))

    def distance_matrix(self) -> np.ndarray:
        """All-pairs shortest-path distances (vectorised Floyd-Warshall); inf if unreachable."""
        n = len(self.coords)
        dist = np.full((n, n), np.inf)
        np.fill_diagonal(dist, 0.0)
        ends = np.asarray(self.edges, dtype=int).reshape(-1, 2)
        lengths = self.edge_lengths()
        np.minimum.at(dist, (ends[:, 0], ends[:, 1]), lengths)
        np.minimum.at(dist, (ends[:, 1], ends[:, 0]), lengths)
        for k in range(n):
            np.minimum(dist, dist[:, k : k + 1] + dist[k : k + 1, :], out=dist)
        return dist

"""Seed batching with a vectorised aisle-span estimate of the tour instead of a router call."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimization.batching import Capacity, Order, _check
from optimization.layout import ParallelAisleLayout, Point


class AisleProfile:
    """Per order, the deepest pick in each aisle (NaN: no pick there), for estimating tours."""

    def __init__(self, orders: Sequence[Order], layout: ParallelAisleLayout, depot: Point) -> None:
        self.layout = layout
        self.depot_aisle = int(depot[0])
        self.bottom = layout.cross_aisles[0]
        self.height = layout.cross_aisles[-1] - self.bottom
        depth = np.full((len(orders), layout.num_aisles), -1.0)
        for i, order in enumerate(orders):
            for aisle, y in order.picks:
                a = int(aisle)
                depth[i, a] = max(depth[i, a], float(y) - self.bottom)
        self.depth = depth

    def estimate(self, depth: np.ndarray) -> np.ndarray:
        """Tour estimates for rows of per-aisle depths: aisle span across, aisles up and back."""
        visited = depth >= 0
        # each visited aisle: walk in and back to the deepest pick, or straight through
        vertical = np.where(visited, np.minimum(2 * depth, self.height), 0.0).sum(axis=-1)
        n = depth.shape[-1]
        idx = np.arange(n)
        left = np.where(visited, idx, n).min(axis=-1)
        right = np.where(visited, idx, -1).max(axis=-1)
        left = np.minimum(left, self.depot_aisle)
        right = np.maximum(right, self.depot_aisle)
        across = 2 * self.layout.aisle_spacing * (right - left)
        return np.where(visited.any(axis=-1), vertical + across, 0.0)


def estimated_seed_batches(
    orders: Sequence[Order], cap: Capacity, layout: ParallelAisleLayout, depot: Point
) -> list[list[int]]:
    """Seed batching (farthest order first, then smallest added length) on the estimate.

    Each step scores every open order at once with numpy: O(orders x aisles) per added order,
    instead of one exact routing per candidate.
    """
    _check(orders, cap)
    if not orders:
        return []
    profile = AisleProfile(orders, layout, depot)
    alone = profile.estimate(profile.depth)
    load = np.array([[o.items, o.weight, o.volume, o.totes] for o in orders], dtype=float)
    limit = np.array([cap.items, cap.weight, cap.volume, cap.totes], dtype=float)
    open_ = np.ones(len(orders), dtype=bool)
    batches: list[list[int]] = []
    while open_.any():
        candidates = np.flatnonzero(open_)
        seed = int(candidates[np.lexsort((candidates, -alone[candidates]))[0]])
        batch = [seed]
        open_[seed] = False
        used = load[seed].copy()
        depth = profile.depth[seed].copy()
        base = float(profile.estimate(depth))
        while True:
            options = np.flatnonzero(open_)
            if options.size == 0:
                break
            options = options[np.all(used + load[options] <= limit, axis=1)]
            if options.size == 0:
                break
            merged = np.maximum(profile.depth[options], depth)
            extra = profile.estimate(merged) - base
            best = int(options[np.lexsort((options, extra))[0]])
            batch.append(best)
            open_[best] = False
            used += load[best]
            depth = np.maximum(depth, profile.depth[best])
            base = float(profile.estimate(depth))
        batches.append(batch)
    return batches

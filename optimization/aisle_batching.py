"""Seed batching with a vectorised aisle-span estimate of the tour instead of a router call."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from optimization.batching import Capacity, Order, _check
from optimization.layout import ParallelAisleLayout, Point


class AisleProfile:
    """Per order, each aisle's walking cost and the aisle span, for estimating tours.

    An aisle costs the walk in to its deepest pick and back, at most the aisle's length (then
    the picker walks through); the span costs twice the distance between the outermost aisles
    visited, the depot's aisle included. Both combine over orders by max/min, so the estimate
    of a batch plus an order is a few array operations.
    """

    def __init__(self, orders: Sequence[Order], layout: ParallelAisleLayout, depot: Point) -> None:
        self.spacing = layout.aisle_spacing
        bottom = layout.cross_aisles[0]
        height = layout.cross_aisles[-1] - bottom
        depot_aisle = int(depot[0])
        cost = np.zeros((len(orders), layout.num_aisles))
        left = np.full(len(orders), depot_aisle)
        right = np.full(len(orders), depot_aisle)
        for i, order in enumerate(orders):
            for aisle, y in order.picks:
                a = int(aisle)
                cost[i, a] = max(cost[i, a], min(2 * (float(y) - bottom), height))
                left[i] = min(left[i], a)
                right[i] = max(right[i], a)
        self.cost, self.left, self.right = cost, left, right
        self.empty = np.array([not order.picks for order in orders])

    def alone(self) -> np.ndarray:
        """The estimate of each order on its own."""
        across = 2 * self.spacing * (self.right - self.left)
        return np.where(self.empty, 0.0, self.cost.sum(axis=1) + across)


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
    p = AisleProfile(orders, layout, depot)
    alone = p.alone()
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
        cost, left, right = p.cost[seed].copy(), p.left[seed], p.right[seed]
        while True:
            options = np.flatnonzero(open_)
            options = options[((used + load[options]) <= limit).all(axis=1)]
            if options.size == 0:
                break
            vertical = np.maximum(p.cost[options], cost).sum(axis=1)
            span = np.maximum(p.right[options], right) - np.minimum(p.left[options], left)
            score = vertical + 2 * p.spacing * span  # minus the batch's own: same for all
            best = int(options[np.lexsort((options, score))[0]])
            batch.append(best)
            open_[best] = False
            used += load[best]
            cost = np.maximum(cost, p.cost[best])
            left, right = min(left, p.left[best]), max(right, p.right[best])
        batches.append(batch)
    return batches

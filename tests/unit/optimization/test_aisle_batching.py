"""Estimated seed batching: every order once, capacity kept, near the exact-tour batching."""

from __future__ import annotations

import random

from optimization.aisle_batching import estimated_seed_batches
from optimization.batching import Capacity, Order, seed_batches, total_length
from optimization.layout import ParallelAisleLayout
from optimization.routing.problem import PickingProblem
from optimization.routing.solve import pick_path

LAYOUT = ParallelAisleLayout.single_block(10, 31.0)
DEPOT = (0, 0.0)


def _tour(points: object) -> float:
    picks = tuple(points)  # type: ignore[call-overload]
    return pick_path(PickingProblem(LAYOUT, DEPOT, picks), "exact").length if picks else 0.0


def _orders(n: int, seed: int = 7) -> list[Order]:
    rng = random.Random(seed)
    orders = []
    for _ in range(n):
        picks = tuple(
            (rng.randrange(10), float(rng.randint(1, 30))) for _ in range(rng.randint(1, 4))
        )
        orders.append(Order(picks=picks, items=float(rng.randint(1, 6)), totes=1))
    return orders


def test_every_order_once_and_capacity_kept() -> None:
    orders = _orders(120)
    cap = Capacity(items=40, totes=8)
    batches = estimated_seed_batches(orders, cap, LAYOUT, DEPOT)
    assert sorted(i for b in batches for i in b) == list(range(len(orders)))
    for batch in batches:
        assert len(batch) <= 8 and sum(orders[i].items for i in batch) <= 40


def test_close_to_exact_seed_batching() -> None:
    orders = _orders(40, seed=3)
    cap = Capacity(items=40, totes=8)
    estimated = total_length(orders, estimated_seed_batches(orders, cap, LAYOUT, DEPOT), _tour)
    exact = total_length(orders, seed_batches(orders, cap, _tour, improve=False), _tour)
    assert estimated <= 1.15 * exact

"""Batching, slotting, AGV task assignment and cycle-count plans against their baselines."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from optimization.agv_assignment import assign_tasks, greedy_assignment
from optimization.batching import Capacity, Order, fcfs_batches, seed_batches, total_length
from optimization.cycle_count import abc_classes, count_schedule
from optimization.layout import ParallelAisleLayout
from optimization.routing.exact import exact_route
from optimization.routing.problem import PickingProblem
from optimization.slotting import (
    abc_assignment,
    coi_assignment,
    expected_travel,
    random_assignment,
    reslotting_plan,
)

LAYOUT = ParallelAisleLayout.single_block(10, 31, aisle_spacing=3)


def tour(points):
    return exact_route(PickingProblem(LAYOUT, (0, 0.0), tuple(points))).length


def _orders(n, seed):
    rng = np.random.default_rng(seed)
    return [
        Order(
            tuple(
                (int(a), float(y))
                for a, y in zip(rng.integers(0, 10, k), rng.integers(1, 31, k), strict=True)
            ),
            items=float(k),
            totes=1,
        )
        for k in rng.integers(1, 5, n)
    ]


def test_seed_batching_walks_less_than_first_come_first_served_within_capacity():
    orders = _orders(16, seed=2)
    cap = Capacity(items=10, totes=4)
    fcfs = fcfs_batches(orders, cap)
    seeded = seed_batches(orders, cap, tour)
    assert sorted(i for b in seeded for i in b) == list(range(len(orders)))
    for b in seeded:
        assert sum(orders[i].items for i in b) <= 10 and len(b) <= 4
    assert total_length(orders, seeded, tour) < total_length(orders, fcfs, tour)


def test_an_order_larger_than_the_cart_is_refused():
    with pytest.raises(ValueError):
        fcfs_batches([Order(((0, 1.0),), weight=30)], Capacity(weight=20))


def test_coi_slotting_beats_abc_which_beats_random_storage():
    rng = np.random.default_rng(0)
    freq = rng.pareto(1.2, 200) + 0.1  # a few fast movers, a long tail
    cube = np.ones(200)
    locations = [(a, float(y)) for a in range(10) for y in range(1, 31)]
    cost = LAYOUT.distance_matrix([(0, 0.0)], locations)[0] * 2
    coi = expected_travel(coi_assignment(cube / freq, cost), freq, cost)
    abc = expected_travel(abc_assignment(freq, cost), freq, cost)
    rnd = expected_travel(random_assignment(200, len(cost)), freq, cost)
    assert coi < abc < rnd


def test_reslotting_respects_the_move_budget_and_only_improves():
    rng = np.random.default_rng(1)
    freq = rng.random(50)
    cost = rng.random(50)
    current = rng.permutation(50)
    before = expected_travel(current, freq, cost)
    plan = reslotting_plan(current, freq, cost, max_moves=10)
    assert 0 < len(plan) <= 10
    after = current.copy()
    for move in plan:
        after[move.sku] = move.location
    assert len(set(after.tolist())) == 50  # still one SKU per location
    assert expected_travel(after, freq, cost) < before
    unlimited = reslotting_plan(current, freq, cost, max_moves=10_000)
    final = current.copy()
    for move in unlimited:
        final[move.sku] = move.location
    # enough moves reach the ideal: fastest SKU in the cheapest location
    best = expected_travel(coi_assignment(-freq, cost), freq, cost)
    assert expected_travel(final, freq, cost) == pytest.approx(best)


def test_task_assignment_is_optimal_and_never_worse_than_greedy():
    rng = np.random.default_rng(3)
    for _ in range(20):
        cost = rng.integers(1, 50, size=(5, 5)).astype(float)
        pairs = assign_tasks(cost)
        total = sum(cost[v, t] for v, t in pairs)
        brute = min(sum(cost[v, p[v]] for v in range(5)) for p in itertools.permutations(range(5)))
        assert total == brute
        assert total <= sum(cost[v, t] for v, t in greedy_assignment(cost))
    # more tasks than vehicles: every vehicle gets one distinct task
    pairs = assign_tasks(rng.random((3, 6)))
    assert len(pairs) == 3 and len({t for _, t in pairs}) == 3


def test_cycle_count_plan_counts_each_item_as_often_as_its_class_within_capacity():
    value = [1000, 500, 200, 50, 40, 30, 20, 10, 5, 5]
    classes = abc_classes(value)
    assert classes[0] == "A" and classes[-1] == "C"
    schedule = count_schedule(classes, {"A": 12, "B": 4, "C": 1}, working_days=60, daily_capacity=2)
    counted = Counter(i for day in schedule for i in day)
    for item, cls in enumerate(classes):
        assert counted[item] == {"A": 12, "B": 4, "C": 1}[cls]
    assert max(len(d) for d in schedule) <= 2
    # spread: an A item is not counted twice within a few days
    days_of_first = [d for d, items in enumerate(schedule) if 0 in items]
    assert min(np.diff(days_of_first)) >= 3
    with pytest.raises(ValueError):
        count_schedule(classes, {"A": 12, "B": 4, "C": 1}, working_days=5, daily_capacity=2)

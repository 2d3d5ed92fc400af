"""Batching against first-come-first-served and slotting against random storage."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from optimization.batching import Capacity, Order, fcfs_batches, seed_batches, total_length
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

RESULTS = Path(__file__).resolve().parent / "results" / "optimization_ops.json"
LAYOUT = ParallelAisleLayout.single_block(10, 31, aisle_spacing=3)
DEPOT = (0, 0.0)


def _tour(points) -> float:
    return exact_route(PickingProblem(LAYOUT, DEPOT, tuple(points))).length


def bench_batching(runs: int = 5, n_orders: int = 30) -> dict:
    """Seed + local search against FCFS on random orders, cart of 12 items / 4 totes."""
    cap = Capacity(items=12, totes=4)
    savings, seconds = [], []
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        orders = []
        for k in rng.integers(1, 5, n_orders):
            aisles, heights = rng.integers(0, 10, k), rng.integers(1, 31, k)
            picks = tuple((int(a), float(y)) for a, y in zip(aisles, heights, strict=True))
            orders.append(Order(picks, items=float(k)))
        base = total_length(orders, fcfs_batches(orders, cap), _tour)
        start = time.perf_counter()
        better = total_length(orders, seed_batches(orders, cap, _tour), _tour)
        seconds.append(time.perf_counter() - start)
        savings.append(100 * (1 - better / base))
    return {
        "orders": n_orders,
        "runs": runs,
        "mean_saving_vs_fcfs_pct": round(np.mean(savings), 2),
        "min_saving_pct": round(min(savings), 2),
        "mean_s": round(np.mean(seconds), 3),
    }


def bench_slotting(n_skus: int = 300) -> dict:
    """Expected travel per pick line: random, ABC and COI storage, and a 40-move re-slot."""
    rng = np.random.default_rng(0)
    freq = rng.pareto(1.2, n_skus) + 0.1
    locations = [(a, float(y)) for a in range(10) for y in range(1, 31)]
    cost = LAYOUT.distance_matrix([DEPOT], locations)[0] * 2
    rnd = random_assignment(n_skus, len(cost))
    plan = reslotting_plan(rnd, freq, cost, max_moves=40)
    reslotted = rnd.copy()
    for move in plan:
        reslotted[move.sku] = move.location
    travel = {
        "random": expected_travel(rnd, freq, cost),
        "abc": expected_travel(abc_assignment(freq, cost), freq, cost),
        "coi": expected_travel(coi_assignment(np.ones(n_skus) / freq, cost), freq, cost),
        "random_plus_40_moves": expected_travel(reslotted, freq, cost),
    }
    return {
        "skus": n_skus,
        "travel_per_line": {k: round(v, 2) for k, v in travel.items()},
        "saving_vs_random_pct": {
            k: round(100 * (1 - v / travel["random"]), 2) for k, v in travel.items()
        },
    }


def main() -> dict:
    """Run both comparisons and write the JSON summary."""
    result = {"batching": bench_batching(), "slotting": bench_slotting()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()

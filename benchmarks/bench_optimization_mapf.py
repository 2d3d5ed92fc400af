"""MAPF on a generated 161 x 63 warehouse grid: success, sum of costs over the bound, time.

Each method runs on the same scenarios: prioritised planning alone (the baseline), LaCAM with
LNS improvement, and "auto" (the default: prioritised planning, LaCAM on failure). Every plan
is checked by the independent validator from the tests.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from optimization.mapf.grid import random_tasks, warehouse_grid
from optimization.mapf.solve import solve_mapf
from tests.unit.optimization.mapf_validator import violations

RESULTS = Path(__file__).resolve().parent / "results" / "optimization_mapf.json"
AGENTS = (50, 100, 200, 300, 400)
METHODS = ("prioritized", "lacam", "auto")
SEEDS = 3
TIME_LIMIT_S = 10.0


def _row(method: str, agents: int, grid) -> dict:
    """Success, cost ratio and time of one method over the seeds."""
    solved, ratios, seconds, invalid = 0, [], [], 0
    for seed in range(SEEDS):
        tasks = random_tasks(grid, agents, seed)
        start = time.perf_counter()
        result = solve_mapf(grid, tasks, TIME_LIMIT_S, method=method)
        seconds.append(time.perf_counter() - start)
        if result is None:
            continue
        starts, goals = [t.start for t in tasks], [t.goal for t in tasks]
        if violations(grid.free, starts, goals, result.paths):
            invalid += 1
            continue
        solved += 1
        ratios.append(result.sum_of_costs / result.lower_bound)
    return {
        "method": method,
        "agents": agents,
        "runs": SEEDS,
        "success_rate": round(solved / SEEDS, 4),
        "invalid_plans": invalid,
        "mean_soc_over_lb": round(sum(ratios) / len(ratios), 4) if ratios else None,
        "worst_soc_over_lb": round(max(ratios), 4) if ratios else None,
        "mean_s": round(sum(seconds) / len(seconds), 3),
        "max_s": round(max(seconds), 3),
    }


def main() -> dict:
    """Plan each fleet size with each method on a few random scenarios; write the JSON."""
    grid = warehouse_grid()
    rows = []
    for agents in AGENTS:
        for method in METHODS:
            row = _row(method, agents, grid)
            rows.append(row)
            print(row, flush=True)
    summary = {
        "map": "warehouse_grid() 161x63, 20 rows of 10x2 shelves",
        "methods": {
            "prioritized": "prioritised space-time A* with restarts (baseline)",
            "lacam": "LaCAM + PIBT with swap, then LNS for up to 20% of the limit",
            "auto": "prioritised planning for 50% of the limit, LaCAM + LNS on failure",
        },
        "time_limit_s": TIME_LIMIT_S,
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()

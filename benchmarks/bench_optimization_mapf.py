"""MAPF on a generated 161 x 63 warehouse grid: success, sum of costs over the bound, time."""

from __future__ import annotations

import json
import time
from pathlib import Path

from optimization.mapf.grid import random_tasks, warehouse_grid
from optimization.mapf.solve import solve_mapf

RESULTS = Path(__file__).resolve().parent / "results" / "optimization_mapf.json"
AGENTS = (50, 100, 200, 300, 400)
SEEDS = 3
TIME_LIMIT_S = 10.0


def main() -> dict:
    """Plan each fleet size on a few random scenarios; write the JSON summary."""
    grid = warehouse_grid()
    rows = []
    for agents in AGENTS:
        solved, ratios, seconds = 0, [], []
        for seed in range(SEEDS):
            tasks = random_tasks(grid, agents, seed)
            start = time.perf_counter()
            result = solve_mapf(grid, tasks, TIME_LIMIT_S)
            seconds.append(time.perf_counter() - start)
            if result is not None:
                solved += 1
                ratios.append(result.sum_of_costs / result.lower_bound)
        row = {
            "agents": agents,
            "runs": SEEDS,
            "success_rate": solved / SEEDS,
            "mean_soc_over_lb": round(sum(ratios) / len(ratios), 4) if ratios else None,
            "worst_soc_over_lb": round(max(ratios), 4) if ratios else None,
            "mean_s": round(sum(seconds) / len(seconds), 3),
            "max_s": round(max(seconds), 3),
        }
        rows.append(row)
        print(row, flush=True)
    summary = {
        "map": "warehouse_grid() 161x63, 20 rows of 10x2 shelves",
        "planner": "prioritised space-time A*",
        "time_limit_s": TIME_LIMIT_S,
        "rows": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    return summary


if __name__ == "__main__":
    main()

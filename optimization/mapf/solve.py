"""One call from a grid and start/goal tasks to conflict-free paths with their costs.

Methods: "prioritized" (space-time A* in priority order; near-optimal but incomplete), "lacam"
(LaCAM with PIBT, complete, then large neighbourhood search to cut the sum of costs) and
"auto" (the default: prioritised planning with part of the time, LaCAM on failure).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from optimization.mapf.distances import distance_table
from optimization.mapf.grid import Cell, Grid, Task
from optimization.mapf.improve import improve_plan
from optimization.mapf.lacam import plan_lacam
from optimization.mapf.prioritized import lower_bound, plan_prioritized

METHODS = ("auto", "prioritized", "lacam")
PRIORITIZED_SHARE = 0.5  # of the time limit, for "auto" before it falls back to LaCAM
IMPROVE_SHARE = 0.2  # of the time limit, for improving a LaCAM plan


@dataclass(frozen=True)
class MapfResult:
    """Paths per agent as (x, y) cells per time step; agents rest at their goals afterwards."""

    paths: list[list[Cell]]
    sum_of_costs: int
    makespan: int
    lower_bound: int
    method: str = "prioritized"


def solve_mapf(
    grid: Grid, tasks: list[Task], time_limit_s: float = 10.0, method: str = "auto"
) -> MapfResult | None:
    """Plan every agent (4-connected moves and waits, unit cost); None if no plan was found."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    deadline = time.perf_counter() + time_limit_s
    for task in tasks:
        if not (grid.is_free(task.start) and grid.is_free(task.goal)):
            raise ValueError(f"task {task} starts or ends on a blocked cell")
    starts = [grid.index(t.start) for t in tasks]
    goals = [grid.index(t.goal) for t in tasks]
    if len(set(starts)) < len(starts) or len(set(goals)) < len(goals):
        raise ValueError("two agents share a start or a goal cell")
    dist = distance_table(grid, goals).tolist()
    if any(h[s] < 0 for h, s in zip(dist, starts, strict=True)):
        raise ValueError("some goal cannot be reached from its start")
    flat, used = None, method
    if method in ("auto", "prioritized"):
        share = PRIORITIZED_SHARE if method == "auto" else 1.0
        budget = share * (deadline - time.perf_counter())
        flat, used = plan_prioritized(grid, starts, goals, budget, heuristics=dist), "prioritized"
    if flat is None and method in ("auto", "lacam"):
        used = "lacam"
        outcome = plan_lacam(grid.neighbours, starts, goals, dist, deadline - time.perf_counter())
        flat = outcome.paths
        if flat is not None:
            budget = min(IMPROVE_SHARE * time_limit_s, deadline - time.perf_counter())
            flat = improve_plan(grid, flat, dist, budget)
    if flat is None:
        return None
    paths = [[grid.cell(c) for c in p] for p in flat]
    return MapfResult(
        paths=paths,
        sum_of_costs=sum(len(p) - 1 for p in paths),
        makespan=max((len(p) - 1 for p in paths), default=0),
        lower_bound=lower_bound(dist, starts),
        method=used,
    )

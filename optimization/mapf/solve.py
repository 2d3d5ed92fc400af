"""One call from a grid and start/goal tasks to conflict-free paths with their costs."""

from __future__ import annotations

from dataclasses import dataclass

from optimization.mapf.grid import Cell, Grid, Task
from optimization.mapf.prioritized import goal_distances, lower_bound, plan_prioritized


@dataclass(frozen=True)
class MapfResult:
    """Paths per agent as (x, y) cells per time step; agents rest at their goals afterwards."""

    paths: list[list[Cell]]
    sum_of_costs: int
    makespan: int
    lower_bound: int


def solve_mapf(grid: Grid, tasks: list[Task], time_limit_s: float = 10.0) -> MapfResult | None:
    """Plan every agent (4-connected moves and waits, unit cost); None if no plan was found."""
    for task in tasks:
        if not (grid.is_free(task.start) and grid.is_free(task.goal)):
            raise ValueError(f"task {task} starts or ends on a blocked cell")
    starts = [grid.index(t.start) for t in tasks]
    goals = [grid.index(t.goal) for t in tasks]
    if len(set(starts)) < len(starts) or len(set(goals)) < len(goals):
        raise ValueError("two agents share a start or a goal cell")
    heuristics = goal_distances(grid, goals)
    if any(h[s] < 0 for h, s in zip(heuristics, starts, strict=True)):
        raise ValueError("some goal cannot be reached from its start")
    flat = plan_prioritized(grid, starts, goals, time_limit_s, heuristics=heuristics)
    if flat is None:
        return None
    paths = [[grid.cell(c) for c in p] for p in flat]
    return MapfResult(
        paths=paths,
        sum_of_costs=sum(len(p) - 1 for p in paths),
        makespan=max((len(p) - 1 for p in paths), default=0),
        lower_bound=lower_bound(heuristics, starts),
    )

"""Large neighbourhood search on a conflict-free plan: replan small groups, keep what is cheaper.

After Li et al., "Anytime Multi-Agent Path Finding via Large Neighborhood Search" (IJCAI 2021):
a group of agents (one delayed agent and the agents standing on its shortest path, or random
delayed agents) is removed and replanned one by one by space-time A* around everybody else;
the new paths are kept only if their sum of costs is lower. The plan stays conflict-free.
"""

from __future__ import annotations

import random
import time

from optimization.mapf.grid import Grid
from optimization.mapf.prioritized import space_time_astar
from optimization.mapf.reservations import Reservations


def improve_plan(
    grid: Grid,
    paths: list[list[int]],
    dist: list[list[int]],
    time_limit_s: float,
    group_size: int = 8,
    seed: int = 0,
    max_expansions: int = 20_000,
    patience: int = 200,
) -> list[list[int]]:
    """A plan with a sum of costs no higher than `paths` (flat cells per step).

    Stops at the time limit, when no agent is delayed, or after `patience` groups in a row
    brought no gain.
    """
    deadline = time.perf_counter() + time_limit_s
    rng = random.Random(seed)
    paths = [list(p) for p in paths]
    n = grid.width * grid.height
    res = Reservations(n)
    for i, p in enumerate(paths):
        res.add(i, p)
    delay = [len(p) - 1 - dist[i][p[0]] for i, p in enumerate(paths)]
    idle = 0
    while time.perf_counter() < deadline and idle < patience:
        idle += 1
        late = [i for i, d in enumerate(delay) if d > 0]
        if not late:
            break
        group = _group(grid, paths, dist, res, late, delay, group_size, rng)
        old = {i: paths[i] for i in group}
        for i in group:
            res.remove(i, paths[i])
        rng.shuffle(group)
        new: dict[int, list[int]] = {}
        budget = sum(len(p) - 1 for p in old.values()) - 1  # must beat the old group cost
        rest = sum(dist[i][old[i][0]] for i in group)
        for i in group:
            start = old[i][0]
            rest -= dist[i][start]
            path = space_time_astar(
                grid, start, old[i][-1], dist[i], res, max_expansions, budget - rest
            )
            if path is None:
                break
            new[i] = path
            res.add(i, path)
            budget -= len(path) - 1
        if len(new) == len(group) and sum(map(len, new.values())) < sum(map(len, old.values())):
            idle = 0
            for i, p in new.items():
                paths[i] = p
                delay[i] = len(p) - 1 - dist[i][p[0]]
        else:
            for i, p in new.items():
                res.remove(i, p)
            for i, p in old.items():
                res.add(i, p)
    return paths


def _group(
    grid: Grid,
    paths: list[list[int]],
    dist: list[list[int]],
    res: Reservations,
    late: list[int],
    delay: list[int],
    size: int,
    rng: random.Random,
) -> list[int]:
    """A delayed agent and the agents in the way of its shortest path, topped up at random."""
    agent = rng.choices(late, weights=[delay[i] for i in late])[0]
    group = {agent}
    n, nbrs, d = res.n, grid.neighbours, dist[agent]
    cell = paths[agent][0]
    t = 0
    while d[cell] > 0 and len(group) < size:
        cell = rng.choice([v for v in nbrs[cell] if d[v] == d[cell] - 1])
        t += 1
        for tt in (t, t + 1):
            other = res.vertex.get(tt * n + cell)
            if other is not None:
                group.add(other)
        if res.rest_from.get(cell, 1 << 60) <= t:
            group.add(res.vertex[res.rest_from[cell] * n + cell])
    while len(group) < min(size, len(late)):
        group.add(rng.choice(late))
    return list(group)

"""Prioritised planning: agents one by one, space-time A* around earlier agents' reservations.

Each agent's search avoids the cells and moves reserved by agents planned before it (no vertex
and no swap conflicts) and the goals where they already rest. A run that strands an agent
restarts with that agent moved to the front of the order (until an order repeats).
"""

from __future__ import annotations

import heapq
import time

from optimization.mapf.grid import Grid
from optimization.mapf.reservations import Reservations

INF = 1 << 60


def space_time_astar(
    grid: Grid,
    start: int,
    goal: int,
    h: list[int],
    res: Reservations,
    max_expansions: int,
    max_cost: int = INF,
) -> list[int] | None:
    """Shortest conflict-free path from start to goal that can stay at the goal afterwards.

    None if there is none within `max_expansions` expanded states or `max_cost` moves.
    """
    n, nbrs = grid.width * grid.height, grid.neighbours
    vertex, edge, rest_from = res.vertex, res.edge, res.rest_from
    earliest_finish = res.last_visit(goal) + 1
    cap = res.horizon() + 1  # beyond every reservation, time no longer matters
    if rest_from.get(start, INF) <= 0:
        return None
    parents: dict[int, int] = {}
    open_: list[tuple[int, int, int, int, int]] = [
        (max(h[start], earliest_finish), h[start], 0, start, -1)
    ]
    seen: set[int] = set()
    expansions = 0
    while open_:
        f, _, neg_t, cell, parent = heapq.heappop(open_)
        if f > max_cost:
            return None
        t = -neg_t
        key = min(t, cap) * n + cell
        if key in seen:
            continue
        seen.add(key)
        parents[t * n + cell] = parent
        if cell == goal and t >= earliest_finish:
            path = []
            node = t * n + cell
            while node >= 0:
                path.append(node % n)
                node = parents[node]
            return path[::-1]
        expansions += 1
        if expansions > max_expansions:
            return None
        nt = t + 1
        for nxt in (*nbrs[cell], cell):
            if nt * n + nxt in vertex or rest_from.get(nxt, INF) <= nt:
                continue
            if nxt != cell and (t * n + nxt) * n + cell in edge:
                continue
            if min(nt, cap) * n + nxt in seen:
                continue
            hn = h[nxt]
            if hn < 0:
                continue
            fn = max(nt + hn, earliest_finish)
            heapq.heappush(open_, (fn, hn, -nt, nxt, t * n + cell))
    return None


def plan_prioritized(
    grid: Grid,
    starts: list[int],
    goals: list[int],
    time_limit_s: float = 10.0,
    max_expansions: int = 30_000,
    heuristics: list[list[int]] | None = None,
) -> list[list[int]] | None:
    """Conflict-free paths (flat cell indices per time step), or None if none found in time.

    `heuristics[i]` are distances to goal i (see `goal_distances`), computed if not given.
    """
    deadline = time.perf_counter() + time_limit_s
    heuristics = heuristics or goal_distances(grid, goals)
    for i, s in enumerate(starts):
        if heuristics[i][s] < 0:
            return None  # goal unreachable even without other agents
    # longest trips first: they have the least slack to detour
    order = sorted(range(len(starts)), key=lambda i: heuristics[i][starts[i]])
    tried: set[tuple[int, ...]] = set()
    while time.perf_counter() < deadline and tuple(order) not in tried:
        tried.add(tuple(order))
        res = Reservations(grid.width * grid.height)
        paths: list[list[int] | None] = [None] * len(starts)
        failed = None
        for i in order:
            path = space_time_astar(grid, starts[i], goals[i], heuristics[i], res, max_expansions)
            if path is None or time.perf_counter() > deadline:
                failed = i
                break
            paths[i] = path
            res.add(i, path)
        if failed is None:
            return [p for p in paths if p is not None]  # every agent planned, in input order
        order.remove(failed)
        order.insert(0, failed)
    return None


def goal_distances(grid: Grid, goals: list[int]) -> list[list[int]]:
    """Distance from every cell to each goal, ignoring other agents (-1 if unreachable)."""
    return [grid.distances_from(g).tolist() for g in goals]


def lower_bound(heuristics: list[list[int]], starts: list[int]) -> int:
    """Sum of individual shortest-path lengths, ignoring the other agents."""
    return sum(h[s] for h, s in zip(heuristics, starts, strict=True))

"""The classic single-picker routing heuristics, as baselines for the exact router.

Each heuristic uses only the front (depot side) and back cross-aisles, as in the literature;
on multi-block layouts the routes stay valid, they just ignore the middle cross-aisles.
Routes are built as waypoint sequences whose consecutive hops are straight walks, so the
length is the sum of shortest distances between consecutive waypoints.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import numpy as np

from optimization.layout import ParallelAisleLayout, Point
from optimization.routing.problem import PickingProblem, Route

Waypoint = tuple[int, float, int]  # (aisle, height, pick index or -1)


def _mirror(problem: PickingProblem) -> tuple[PickingProblem, Callable[[float], float]]:
    """Put the depot at the bottom: mirror the layout vertically if it sits at the top."""
    layout = problem.layout
    if problem.depot[1] == layout.bottom:
        return problem, lambda y: y
    if problem.depot[1] != layout.top:
        raise ValueError("the heuristics need the depot on the front or back cross-aisle")
    total = layout.bottom + layout.top
    flip = lambda y: total - y  # noqa: E731
    mirrored = ParallelAisleLayout(
        layout.num_aisles, tuple(sorted(flip(c) for c in layout.cross_aisles)), layout.aisle_spacing
    )
    picks = tuple((a, flip(y)) for a, y in problem.picks)
    depot = (problem.depot[0], flip(problem.depot[1]))
    return PickingProblem(mirrored, depot, picks, problem.depot_offset), flip


def _by_aisle(problem: PickingProblem) -> dict[int, list[tuple[float, int]]]:
    aisles: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for idx, (aisle, y) in enumerate(problem.picks):
        aisles[aisle].append((y, idx))
    for picks in aisles.values():
        picks.sort()
    return dict(sorted(aisles.items()))


def _route(problem: PickingProblem, body: list[Waypoint], method: str, flip: Callable) -> Route:
    depot = (problem.depot[0], problem.depot[1], -1)
    walk = [depot, *body, depot]
    pts = [(a, y) for a, y, _ in walk]
    dist = problem.layout.distance_matrix(pts[:-1], pts[1:]).diagonal()
    order: list[int] = []
    for _, _, idx in walk:
        if idx >= 0 and idx not in order:
            order.append(idx)
    length = float(dist.sum()) + (2 * problem.depot_offset if problem.picks else 0.0)
    waypoints: tuple[Point, ...] = tuple((a, flip(y)) for a, y in pts)
    return Route(length, tuple(order), method, waypoints)


def _up(aisle: int, picks: list[tuple[float, int]], start: float, end: float) -> list[Waypoint]:
    """Enter the aisle at `start`, visit `picks` in the given order, leave at `end`."""
    return [(aisle, start, -1), *((aisle, y, i) for y, i in picks), (aisle, end, -1)]


def _solve(problem: PickingProblem, method: str) -> Route:
    mirrored, flip = _mirror(problem)
    if not mirrored.picks:
        return Route(0.0, (), method, (problem.depot,))
    bot, top = mirrored.layout.bottom, mirrored.layout.top
    aisles = _by_aisle(mirrored)
    names = list(aisles)
    body: list[Waypoint] = []
    if method == "return" or (len(names) == 1 and method != "combined"):
        for a in names:
            body += _up(a, aisles[a], bot, bot)
    elif method == "s-shape":
        for n, a in enumerate(names):
            if n == len(names) - 1 and n % 2 == 0:
                body += _up(a, aisles[a], bot, bot)
            elif n % 2 == 0:
                body += _up(a, aisles[a], bot, top)
            else:
                body += _up(a, aisles[a][::-1], top, bot)
    elif method in ("midpoint", "largest-gap"):
        body = _split_route(mirrored, aisles, method)
    elif method == "combined":
        body = _combined(mirrored, aisles)
    else:
        raise ValueError(f"unknown heuristic {method!r}")
    return _route(mirrored, body, method, flip)


def _split(picks: list[tuple[float, int]], bot: float, top: float, method: str) -> int:
    """Number of picks (from the bottom) served from the front cross-aisle."""
    ys = [y for y, _ in picks]
    if method == "midpoint":
        return sum(1 for y in ys if y <= (bot + top) / 2)
    gaps = np.diff([bot, *ys, top])
    return int(np.argmax(gaps))


def _split_route(
    problem: PickingProblem, aisles: dict[int, list[tuple[float, int]]], method: str
) -> list[Waypoint]:
    bot, top = problem.layout.bottom, problem.layout.top
    names = list(aisles)
    left, right, depot = names[0], names[-1], problem.depot[0]
    inner = names[1:-1]
    lower = {a: aisles[a][: _split(aisles[a], bot, top, method)] for a in inner}
    upper = {a: aisles[a][_split(aisles[a], bot, top, method) :] for a in inner}
    body: list[Waypoint] = []
    # front picks left of the depot on the way out, the rest on the way back
    for a in reversed([a for a in inner if a <= depot and lower[a]]):
        body += _up(a, lower[a], bot, bot)
    body += _up(left, aisles[left], bot, top)
    for a in inner:
        if upper[a]:
            body += _up(a, upper[a][::-1], top, top)
    body += _up(right, aisles[right][::-1], top, bot)
    for a in reversed([a for a in inner if a > depot and lower[a]]):
        body += _up(a, lower[a], bot, bot)
    return body


def _combined(
    problem: PickingProblem, aisles: dict[int, list[tuple[float, int]]]
) -> list[Waypoint]:
    """Visit pick aisles left to right; per aisle traverse or return, chosen by a 2-state DP."""
    layout = problem.layout
    bot, top = layout.bottom, layout.top
    names = list(aisles)
    sides = (bot, top)
    # cost[s]: best walk so far ending at the current aisle on side s (before serving it)
    cost = [abs(problem.depot[0] - names[0]) * layout.aisle_spacing, np.inf]
    back: list[list[tuple[int, str]]] = []
    for n, a in enumerate(names):
        ys = [y for y, _ in aisles[a]]
        step = (names[n + 1] - a) * layout.aisle_spacing if n + 1 < len(names) else 0.0
        serve = {
            (0, 0): 2 * (ys[-1] - bot),
            (1, 1): 2 * (top - ys[0]),
            (0, 1): top - bot,
            (1, 0): top - bot,
        }
        new, choice = [np.inf, np.inf], [(0, ""), (0, "")]
        for (s, e), c in serve.items():
            total = cost[s] + c + step
            if total < new[e]:
                new[e], choice[e] = total, (s, "traverse" if s != e else "return")
        back.append(choice)
        cost = new
    home = [
        cost[s] + float(layout.distance_matrix([(names[-1], sides[s])], [problem.depot])[0, 0])
        for s in (0, 1)
    ]
    side = int(np.argmin(home))
    plan: list[tuple[int, int, int]] = []
    for n in range(len(names) - 1, -1, -1):
        start, _ = back[n][side]
        plan.append((names[n], start, side))
        side = start
    body: list[Waypoint] = []
    for a, s, e in reversed(plan):
        picks = aisles[a] if s == 0 else aisles[a][::-1]
        body += _up(a, picks, sides[s], sides[e])
    return body


HEURISTICS = ("s-shape", "return", "midpoint", "largest-gap", "combined")


def heuristic_route(problem: PickingProblem, method: str) -> Route:
    """Route by one of the classic heuristics (see HEURISTICS)."""
    return _solve(problem, method)

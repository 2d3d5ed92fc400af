"""One entry point for every picker-routing method."""

from __future__ import annotations

from optimization.routing.exact import MAX_CROSS_AISLES, exact_route
from optimization.routing.heuristics import HEURISTICS, heuristic_route
from optimization.routing.problem import PickingProblem, Route, tour_length
from optimization.routing.tsp import solve_tsp

METHODS = ("auto", "exact", "ortools", *HEURISTICS)


def ortools_route(problem: PickingProblem, time_limit_s: float = 1.0) -> Route:
    """Near-optimal tour by OR-Tools routing over the shortest-distance matrix."""
    order = tuple(i - 1 for i in solve_tsp(problem.distance_matrix(), time_limit_s))
    return Route(tour_length(problem, order), order, "ortools")


def pick_path(problem: PickingProblem, method: str = "auto", time_limit_s: float = 1.0) -> Route:
    """Route a picker: `auto` is exact where the layout allows it, OR-Tools elsewhere."""
    if method == "auto":
        exact_ok = len(problem.layout.cross_aisles) <= MAX_CROSS_AISLES
        method = "exact" if exact_ok else "ortools"
    if method == "exact":
        return exact_route(problem)
    if method == "ortools":
        return ortools_route(problem, time_limit_s)
    if method in HEURISTICS:
        return heuristic_route(problem, method)
    raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")

"""Picker routing on any layout by OR-Tools' routing solver over a distance matrix."""

from __future__ import annotations

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2


def solve_tsp(dist: np.ndarray, time_limit_s: float = 1.0, start: int = 0) -> list[int]:
    """A short closed tour through every node of `dist` from `start` (returns the visit order).

    The matrix is handed to the solver as a matrix (no Python callback per arc); distances are
    scaled to integers, exactly when they are integral already.
    """
    n = len(dist)
    if n <= 2:
        return [i for i in range(n) if i != start]
    integral = bool(np.all(np.abs(dist - np.round(dist)) < 1e-9))
    scale = 1.0 if integral else 1000.0
    matrix = np.round(dist * scale).astype(np.int64).tolist()
    manager = pywrapcp.RoutingIndexManager(n, 1, start)
    model = pywrapcp.RoutingModel(manager)
    transit = model.RegisterTransitMatrix(matrix)
    model.SetArcCostEvaluatorOfAllVehicles(transit)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    solution = model.SolveWithParameters(params)
    if solution is None:
        raise RuntimeError("OR-Tools found no tour")
    order, index = [], model.Start(0)
    while not model.IsEnd(index):
        node = manager.IndexToNode(index)
        if node != start:
            order.append(node)
        index = solution.Value(model.NextVar(index))
    return order

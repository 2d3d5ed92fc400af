"""Assignment of transport tasks to vehicles: minimum total empty travel (OR-Tools)."""

from __future__ import annotations

import numpy as np
from ortools.graph.python import linear_sum_assignment


def assign_tasks(cost: np.ndarray) -> list[tuple[int, int]]:
    """Optimal (vehicle, task) pairs for a vehicles x tasks cost matrix; every task if possible."""
    cost = np.asarray(cost, dtype=float)
    n_v, n_t = cost.shape
    if n_v == 0 or n_t == 0:
        return []
    integral = bool(np.all(np.abs(cost - np.round(cost)) < 1e-9))
    scale = 1 if integral else 1000
    solver = linear_sum_assignment.SimpleLinearSumAssignment()
    size = max(n_v, n_t)  # square the matrix with zero-cost dummies
    for v in range(size):
        for t in range(size):
            c = int(np.rint(cost[v, t] * scale)) if v < n_v and t < n_t else 0
            solver.add_arc_with_cost(v, t, c)
    if solver.solve() != solver.OPTIMAL:
        raise RuntimeError("assignment failed")
    pairs = [(v, solver.right_mate(v)) for v in range(n_v)]
    return [(v, t) for v, t in pairs if t < n_t]


def greedy_assignment(cost: np.ndarray) -> list[tuple[int, int]]:
    """Baseline: repeatedly give the globally nearest free vehicle its nearest task."""
    cost = np.asarray(cost, dtype=float).copy()
    pairs = []
    for _ in range(min(cost.shape)):
        v, t = np.unravel_index(int(np.argmin(cost)), cost.shape)
        pairs.append((int(v), int(t)))
        cost[v, :] = np.inf
        cost[:, t] = np.inf
    return pairs

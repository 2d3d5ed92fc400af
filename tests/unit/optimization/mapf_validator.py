"""An independent check of multi-agent plans: written from the rules, not from the planner."""

from __future__ import annotations

import numpy as np

Cell = tuple[int, int]


def violations(free: np.ndarray, starts: list[Cell], goals: list[Cell], paths) -> list[str]:
    """Every broken rule: bad start/goal, jumps, blocked cells, vertex and swap conflicts."""
    out: list[str] = []
    if len(paths) != len(starts):
        return [f"{len(paths)} paths for {len(starts)} agents"]
    paths = [[tuple(c) for c in p] for p in paths]
    for i, p in enumerate(paths):
        if not p or p[0] != tuple(starts[i]):
            out.append(f"agent {i} does not begin at its start")
        if not p or p[-1] != tuple(goals[i]):
            out.append(f"agent {i} does not end at its goal")
        for t, (x, y) in enumerate(p):
            if not (0 <= y < free.shape[0] and 0 <= x < free.shape[1] and free[y, x]):
                out.append(f"agent {i} stands on a blocked cell {(x, y)} at t={t}")
        for t in range(1, len(p)):
            (x0, y0), (x1, y1) = p[t - 1], p[t]
            if abs(x0 - x1) + abs(y0 - y1) > 1:
                out.append(f"agent {i} jumps from {p[t - 1]} to {p[t]} at t={t}")
    horizon = max((len(p) for p in paths), default=0)

    def at(i: int, t: int) -> Cell:
        return paths[i][min(t, len(paths[i]) - 1)]  # agents wait at their goals

    for t in range(horizon + 1):
        seen: dict[Cell, int] = {}
        for i in range(len(paths)):
            c = at(i, t)
            if c in seen:
                out.append(f"agents {seen[c]} and {i} both at {c} at t={t}")
            seen[c] = i
        if t:
            moves = {(at(i, t - 1), at(i, t)): i for i in range(len(paths))}
            for (a, b), i in moves.items():
                j = moves.get((b, a))
                if a != b and j is not None and i < j:
                    out.append(f"agents {i} and {j} swap {a} and {b} at t={t}")
    return out

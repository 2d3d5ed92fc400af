"""Independent check of recorded trajectories: vertex and swap conflicts between vehicles."""

from __future__ import annotations

from collections import defaultdict

from simulators.vda5050.vehicle import Trajectory


def find_conflicts(trajectories: dict[str, Trajectory], now: float) -> list[str]:
    """Two vehicles on one node at overlapping times (vertex), or crossing one edge in opposite
    directions at overlapping times (swap); each conflict described in one line."""
    out: list[str] = []
    stays: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for serial, tr in trajectories.items():
        for node, t0, t1 in tr.all_stays(now):
            stays[node].append((t0, t1, serial))
    for node, items in stays.items():
        items.sort()
        for i, (a0, a1, va) in enumerate(items):
            for b0, b1, vb in items[i + 1 :]:
                if b0 >= a1:
                    break
                if va != vb and min(a1, b1) > max(a0, b0):
                    out.append(f"vertex: {va} and {vb} on {node} at {max(a0, b0):.2f} s")
    moves: dict[frozenset[str], list[tuple[float, float, str, str]]] = defaultdict(list)
    for serial, tr in trajectories.items():
        for u, v, t0, t1 in tr.moves:
            if u != v:
                moves[frozenset((u, v))].append((t0, t1, u, serial))
    for crossing in moves.values():
        for i, (a0, a1, ua, va) in enumerate(crossing):
            for b0, b1, ub, vb in crossing[i + 1 :]:
                if va != vb and ua != ub and min(a1, b1) > max(a0, b0):
                    out.append(f"swap: {va} and {vb} on edge {ua}-{ub} at {max(a0, b0):.2f} s")
    return out

"""Exact picker routing on parallel-aisle layouts: a dynamic programme over the aisles.

The tour is a connected Eulerian multigraph over the aisle graph that touches every pick.
Sweeping the aisles left to right, a state records, for each cross-aisle vertex of the current
aisle, its degree class (none / odd / even) and which of those vertices are already joined.
For one block this is the programme of Ratliff & Rosenthal (1983); the same state space with
three cross-aisle vertices gives the two-block programme of Roodbergen & de Koster (2001).
Work is linear in the number of aisles; the state table depends only on the number of
cross-aisles and is built once.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import numpy as np

from optimization.layout import Point
from optimization.routing.problem import PickingProblem, Route

NONE, ONCE, TWICE, GAP, TOP, BOTTOM = range(6)
# (degree added to the lower vertex, degree added to the upper vertex, joins them)
SEGMENT_OPTIONS = (
    (0, 0, False),
    (1, 1, True),
    (2, 2, True),
    (2, 2, False),
    (0, 2, False),
    (2, 0, False),
)
MAX_CROSS_AISLES = 4

State = tuple[tuple[int, ...], tuple[int, ...]]  # (degree classes 0/1 odd/2 even, labels)


def _add_degree(cls: int, deg: int) -> int:
    if cls == 0 and deg == 0:
        return 0
    odd = (cls == 1) != (deg == 1)
    return 1 if odd else 2


def _canonical(classes: tuple[int, ...], labels: list[int]) -> State:
    remap: dict[int, int] = {}
    out = []
    for c, lab in zip(classes, labels, strict=True):
        if c == 0:
            out.append(-1)
        else:
            out.append(remap.setdefault(lab, len(remap)))
    return classes, tuple(out)


def _vertical(state: State, option: tuple[int, ...]) -> State:
    classes, labels = state
    k = len(classes)
    new_classes = list(classes)
    lab = list(labels)
    fresh = k
    for b, o in enumerate(option):
        lo, hi, _ = SEGMENT_OPTIONS[o]
        new_classes[b] = _add_degree(new_classes[b], lo)
        new_classes[b + 1] = _add_degree(new_classes[b + 1], hi)
    for j in range(k):
        if new_classes[j] and lab[j] < 0:
            lab[j], fresh = fresh, fresh + 1
    for b, o in enumerate(option):
        if SEGMENT_OPTIONS[o][2]:
            old, new = lab[b + 1], lab[b]
            lab = [new if x == old else x for x in lab]
    return _canonical(tuple(new_classes), lab)


def _horizontal(state: State, option: tuple[int, ...]) -> State | None:
    classes, labels = state
    k = len(classes)
    new_classes, lab = [], []
    for j in range(k):
        c, h = classes[j], option[j]
        if _add_degree(c, h) == 1:  # the vertex left behind must end with even degree
            return None
        new_classes.append(0 if h == 0 else (1 if h == 1 else 2))
        lab.append(labels[j] if (h and c) else (k + j if h else -1))
    if {x for x in labels if x >= 0} - set(lab):  # a component would be cut off for good
        return None
    return _canonical(tuple(new_classes), lab)


@dataclass(frozen=True)
class _Tables:
    states: list[State]
    v_src: np.ndarray  # vertical transitions, sorted by destination
    v_opt: np.ndarray
    v_dst: np.ndarray
    v_starts: np.ndarray
    v_dst_unique: np.ndarray
    v_options: np.ndarray  # option index -> per-block segment option
    h_src: np.ndarray
    h_opt: np.ndarray
    h_dst: np.ndarray
    h_options: np.ndarray  # option index -> per-cross-aisle multiplicity
    h_matrix_units: np.ndarray  # [src, dst] fewest horizontal edge traversals, inf if none
    final: np.ndarray  # states that close a tour


@cache
def _tables(k: int) -> _Tables:
    v_options = list(itertools.product(range(6), repeat=k - 1))
    h_options = list(itertools.product(range(3), repeat=k))
    start: State = ((0,) * k, (-1,) * k)
    index: dict[State, int] = {start: 0}
    states = [start]
    v_edges: list[tuple[int, int, int]] = []
    h_edges: list[tuple[int, int, int]] = []
    frontier = [start]
    while frontier:
        nxt = []
        for s in frontier:
            si = index[s]
            for oi, opt in enumerate(v_options):
                t = _vertical(s, opt)
                if t not in index:
                    index[t] = len(states)
                    states.append(t)
                    nxt.append(t)
                v_edges.append((si, oi, index[t]))
            for oi, hopt in enumerate(h_options):
                u = _horizontal(s, hopt)
                if u is None:
                    continue
                if u not in index:
                    index[u] = len(states)
                    states.append(u)
                    nxt.append(u)
                h_edges.append((si, oi, index[u]))
        frontier = nxt
    v = np.array(sorted(v_edges, key=lambda e: e[2]), dtype=np.int64)
    dst_unique, starts = np.unique(v[:, 2], return_index=True)
    h = np.array(h_edges, dtype=np.int64)
    h_opts = np.array(h_options, dtype=np.int64)
    units = np.full((len(states), len(states)), np.inf)
    np.minimum.at(units, (h[:, 0], h[:, 2]), h_opts[h[:, 1]].sum(axis=1).astype(float))
    final = np.array(
        [all(c != 1 for c in cls) and len({x for x in lab if x >= 0}) == 1 for cls, lab in states]
    )
    return _Tables(
        states,
        v[:, 0],
        v[:, 1],
        v[:, 2],
        starts,
        dst_unique,
        np.array(v_options, dtype=np.int64),
        h[:, 0],
        h[:, 1],
        h[:, 2],
        h_opts,
        units,
        final,
    )


def _segment_costs(ys: list[float], lo: float, hi: float) -> np.ndarray:
    """Cost of each segment option for a block section holding points at heights `ys`."""
    length = hi - lo
    inf = np.inf
    if not ys:
        return np.array([0.0, length, 2 * length, inf, inf, inf])
    ys = sorted(ys)
    interior = max((b - a for a, b in itertools.pairwise(ys)), default=-inf)
    gap = 2 * (length - interior) if len(ys) >= 2 else inf
    return np.array([inf, length, 2 * length, gap, 2 * (hi - ys[0]), 2 * (ys[-1] - lo)])


def exact_route(problem: PickingProblem) -> Route:
    """Shortest tour through all picks (exact; layouts with up to three blocks)."""
    layout = problem.layout
    k = len(layout.cross_aisles)
    if k > MAX_CROSS_AISLES:
        raise ValueError(f"exact routing supports up to {MAX_CROSS_AISLES - 1} blocks")
    if not problem.picks:
        return Route(0.0, (), "exact", (problem.depot,))
    tables = _tables(k)
    # The depot is a required point on its cross-aisle, treated like a pick there.
    required: list[Point] = [problem.depot, *problem.picks]
    by_aisle: dict[int, list[list[float]]] = defaultdict(lambda: [[] for _ in range(k - 1)])
    for aisle, y in required:
        by_aisle[aisle][layout.block_of(y)].append(y)
    first, last = min(by_aisle), max(by_aisle)
    cross = layout.cross_aisles
    empty = [_segment_costs([], cross[b], cross[b + 1]) for b in range(k - 1)]
    h_step = tables.h_matrix_units * layout.aisle_spacing
    blocks = range(k - 1)

    value = np.full(len(tables.states), np.inf)
    value[0] = 0.0
    history: list[tuple[str, np.ndarray, np.ndarray | None]] = []
    for aisle in range(first, last + 1):
        if aisle > first:
            history.append(("h", value, None))
            value = np.min(value[:, None] + h_step, axis=0)
        sections = by_aisle.get(aisle)
        seg = [
            _segment_costs(sections[b], cross[b], cross[b + 1]) if sections else empty[b]
            for b in blocks
        ]
        opt_cost = sum(seg[b][tables.v_options[:, b]] for b in blocks)
        cand = value[tables.v_src] + np.asarray(opt_cost)[tables.v_opt]
        history.append(("v", value, np.asarray(opt_cost)))
        value = np.full(len(tables.states), np.inf)
        value[tables.v_dst_unique] = np.minimum.reduceat(cand, tables.v_starts)

    closing = np.where(tables.final, value, np.inf)
    state = int(np.argmin(closing))
    best = float(closing[state])
    if not np.isfinite(best):
        raise RuntimeError("no tour found")  # cannot happen on a connected layout
    choices = _backtrack(tables, history, state, best, layout.aisle_spacing)
    order = _tour_order(problem, required, by_aisle, first, choices)
    return Route(best + 2 * problem.depot_offset, order, "exact")


def _backtrack(
    tables: _Tables,
    history: list[tuple[str, np.ndarray, np.ndarray | None]],
    state: int,
    value: float,
    spacing: float,
) -> list[tuple[str, int]]:
    """Recover the option chosen at each step (in sweep order) from the stored values."""
    choices: list[tuple[str, int]] = []
    for kind, before, opt_cost in reversed(history):
        if kind == "v":
            assert opt_cost is not None
            mask = tables.v_dst == state
            src, opt = tables.v_src[mask], tables.v_opt[mask]
            totals = before[src] + opt_cost[opt]
        else:
            mask = tables.h_dst == state
            src, opt = tables.h_src[mask], tables.h_opt[mask]
            totals = before[src] + tables.h_options[opt].sum(axis=1) * spacing
        pick = int(np.argmin(np.abs(totals - value)))
        choices.append((kind, int(opt[pick])))
        state, value = int(src[pick]), float(before[src[pick]])
    choices.reverse()
    return choices


def _tour_order(
    problem: PickingProblem,
    required: list[Point],
    by_aisle: dict[int, list[list[float]]],
    first: int,
    choices: list[tuple[str, int]],
) -> tuple[int, ...]:
    """Walk an Euler circuit of the chosen edges; return picks in first-visit order."""
    cross = problem.layout.cross_aisles
    tables = _tables(len(cross))

    def key(aisle: int, y: float) -> tuple[str, int, float]:
        # a point on a cross-aisle is that cross-aisle's vertex
        return ("x", aisle, float(cross.index(y))) if y in cross else ("p", aisle, y)

    adjacency: dict[object, list[object]] = defaultdict(list)
    points_at: dict[object, list[int]] = defaultdict(list)
    for idx, (aisle, y) in enumerate(required):
        points_at[key(aisle, y)].append(idx)

    def link(a: object, b: object, times: int) -> None:
        for _ in range(times):
            adjacency[a].append(b)
            adjacency[b].append(a)

    aisle = first
    for kind, opt in choices:
        if kind == "h":
            for j, times in enumerate(tables.h_options[opt]):
                link(("x", aisle, float(j)), ("x", aisle + 1, float(j)), int(times))
            aisle += 1
            continue
        sections = by_aisle.get(aisle)
        for b, seg in enumerate(tables.v_options[opt]):
            ys = sorted(sections[b]) if sections else []
            nodes = [
                ("x", aisle, float(b)),
                *(key(aisle, y) for y in ys),
                ("x", aisle, float(b + 1)),
            ]
            heights = [cross[b], *ys, cross[b + 1]]
            hops = len(nodes) - 1
            if seg in (ONCE, TWICE, NONE):
                mult = [{ONCE: 1, TWICE: 2, NONE: 0}[seg]] * hops
            else:
                if seg == TOP:
                    skip = 0
                elif seg == BOTTOM:
                    skip = hops - 1
                else:
                    gaps = np.diff(heights)[1:-1]
                    skip = 1 + int(np.argmax(gaps))
                mult = [0 if i == skip else 2 for i in range(hops)]
            for i, m in enumerate(mult):
                link(nodes[i], nodes[i + 1], m)
    visited: list[int] = []
    for node in _euler_circuit(adjacency, key(*problem.depot)):
        visited.extend(i - 1 for i in points_at.pop(node, []) if i)
    return tuple(visited)


def _euler_circuit(adjacency: dict[object, list[object]], start: object) -> list[object]:
    """Hierholzer's algorithm on an undirected multigraph given as adjacency lists."""
    remaining = {n: list(v) for n, v in adjacency.items()}
    if not remaining.get(start):
        return [start]
    stack, circuit = [start], []
    while stack:
        node = stack[-1]
        if remaining[node]:
            nxt = remaining[node].pop()
            remaining[nxt].remove(node)
            stack.append(nxt)
        else:
            circuit.append(stack.pop())
    return circuit[::-1]

"""LaCAM: complete search over configurations with PIBT as the successor generator.

Okumura, "LaCAM: Search-Based Algorithm for Quick Multi-Agent Pathfinding" (AAAI 2023). Each
high-level node is a configuration (every agent's cell). Its successors are generated lazily:
a low-level tree of constraints ("agent i moves to cell v next", in the node's priority order)
is expanded one constraint node at a time and PIBT completes the rest. A node is dropped only
when every constraint combination has been tried, so the depth-first search over the finite
set of configurations finds a plan whenever one exists, or proves there is none.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field

from optimization.mapf.pibt import Pibt


@dataclass(eq=False, slots=True)
class _Low:
    """A constraint node: agent `who` goes to `where`, plus the parent's constraints."""

    who: int
    where: int
    parent: _Low | None
    depth: int

    def constraints(self) -> list[tuple[int, int]]:
        """Every (agent, cell) pair from the root down to this node."""
        out = []
        node: _Low | None = self
        while node is not None and node.depth > 0:
            out.append((node.who, node.where))
            node = node.parent
        return out[::-1]


@dataclass(eq=False)
class _High:
    """A configuration, how it was reached, its PIBT priorities and its pending constraints."""

    config: tuple[int, ...]
    parent: _High | None
    priorities: list[float]
    order: list[int] = field(init=False)
    tree: deque[_Low] = field(init=False)

    def __post_init__(self) -> None:
        self.order = sorted(range(len(self.config)), key=self.priorities.__getitem__, reverse=True)
        self.tree = deque([_Low(-1, -1, None, 0)])


@dataclass(frozen=True)
class LacamOutcome:
    """Per-agent paths (flat cells) if found; `exhausted` if the search proved there are none."""

    paths: list[list[int]] | None
    exhausted: bool
    high_nodes: int


def plan_lacam(
    neighbours: tuple[tuple[int, ...], ...],
    starts: list[int],
    goals: list[int],
    dist: list[list[int]],
    time_limit_s: float = 10.0,
    seed: int = 0,
) -> LacamOutcome:
    """Search configurations from `starts` to `goals`; `dist[i][v]` = moves from v to goal i."""
    deadline = time.perf_counter() + time_limit_s
    rng = random.Random(seed)
    pibt = Pibt(neighbours, dist, goals, seed)
    goal = tuple(goals)
    n = len(starts)
    longest = max((dist[i][s] for i, s in enumerate(starts)), default=0) + 1
    root = _High(tuple(starts), None, [dist[i][s] / longest for i, s in enumerate(starts)])
    explored: dict[tuple[int, ...], _High] = {root.config: root}
    stack = [root]
    while stack:
        if time.perf_counter() > deadline:
            return LacamOutcome(None, False, len(explored))
        node = stack[-1]
        if node.config == goal:
            return LacamOutcome(_paths(node, goals), False, len(explored))
        if not node.tree:
            stack.pop()
            continue
        low = node.tree.popleft()
        if low.depth < n:
            i = node.order[low.depth]
            here = node.config[i]
            cells = [*neighbours[here], here]
            rng.shuffle(cells)
            node.tree.extend(_Low(i, v, low, low.depth + 1) for v in cells)
        nxt = pibt.step(list(node.config), node.order, low.constraints())
        if nxt is None:
            continue
        config = tuple(nxt)
        known = explored.get(config)
        if known is not None:
            stack.append(known)  # revisit: continue from there, with its remaining successors
            continue
        priorities = [
            p + 1.0 if c != g else p - int(p)
            for p, c, g in zip(node.priorities, config, goal, strict=True)
        ]
        child = _High(config, node, priorities)
        explored[config] = child
        stack.append(child)
    return LacamOutcome(None, True, len(explored))


def _paths(node: _High, goals: list[int]) -> list[list[int]]:
    """Per-agent cell sequences up to each agent's final arrival at its goal."""
    configs = []
    cur: _High | None = node
    while cur is not None:
        configs.append(cur.config)
        cur = cur.parent
    configs.reverse()
    paths = []
    for i, g in enumerate(goals):
        last = 0
        for t, config in enumerate(configs):
            if config[i] != g:
                last = t + 1
        paths.append([config[i] for config in configs[: last + 1]])
    return paths

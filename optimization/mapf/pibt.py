"""PIBT: one synchronous step for all agents by priority inheritance with backtracking.

Okumura et al., "Priority Inheritance with Backtracking for Iterative Multi-agent Path
Finding" (AIJ 2022). Agents choose, in priority order, the free neighbour (or their own cell)
closest to their goal; an agent that wants a cell still occupied by an unplanned agent lends
it its priority and that agent must move away first, backtracking if it cannot. LaCAM calls
`step` with constraints that fix some agents' next cells.

Plain PIBT livelocks when two agents must pass each other in a one-cell lane (each pushes the
other back and forth). The swap operation of Okumura, "Improving LaCAM for Scalable Eventually
Optimal Multi-Agent Pathfinding" (IJCAI 2023) handles it: the agent backs away and pulls the
other behind it until they reach a branching cell where they can pass.
"""

from __future__ import annotations

import random
import sys


class Pibt:
    """Configuration generator over a grid's flat cells; `dist[i][v]` = moves from v to goal i."""

    def __init__(
        self,
        neighbours: tuple[tuple[int, ...], ...],
        dist: list[list[int]],
        goals: list[int],
        seed: int = 0,
    ) -> None:
        self.neighbours = neighbours
        self.dist = dist
        self.goals = goals
        self.rng = random.Random(seed)
        self.occ_now = [-1] * len(neighbours)
        self.occ_next = [-1] * len(neighbours)
        # priority inheritance can chain through every agent
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * len(dist) + 1000))

    def step(
        self, config: list[int], order: list[int], constraints: list[tuple[int, int]]
    ) -> list[int] | None:
        """Next cells of all agents (agent, cell pairs in `constraints` fixed), or None."""
        occ_now, occ_next = self.occ_now, self.occ_next
        nxt = [-1] * len(config)
        self._touched: list[int] = []
        for i, v in enumerate(config):
            occ_now[v] = i
        try:
            for i, v in constraints:
                j = occ_now[v]
                if occ_next[v] != -1 or (j not in (-1, i) and nxt[j] == config[i]):
                    return None  # vertex or swap conflict among the constraints
                nxt[i] = v
                occ_next[v] = i
                self._touched.append(v)
            for i in order:
                if nxt[i] == -1 and not self._push(i, config, nxt):
                    return None
            return nxt if self._valid(config, nxt) else None
        finally:
            for v in config:
                occ_now[v] = -1
            for v in self._touched:
                occ_next[v] = -1

    def _push(self, i: int, config: list[int], nxt: list[int]) -> bool:
        """Plan agent i (and, by inheritance, agents in its way); False if it must stay."""
        occ_now, occ_next = self.occ_now, self.occ_next
        here = config[i]
        d = self.dist[i]
        rnd = self.rng.random
        # nearer to the goal first; among equals prefer empty cells, then random
        cells = (*self.neighbours[here], here)
        tie = {u: (0.5 if occ_now[u] != -1 else 0.0) + 0.4 * rnd() for u in cells}
        cands = sorted(cells, key=lambda u: d[u] + tie[u])
        mate = self._swap_mate(i, here, cands[0], nxt)
        if mate != -1:  # back away from the goal (still preferring empty cells), pulling `mate`
            cands = sorted(cells, key=lambda u: tie[u] - d[u])
        for n, u in enumerate(cands):
            if occ_next[u] != -1:
                continue
            k = occ_now[u]
            if k != -1 and nxt[k] == here:
                continue  # would swap with an agent already moving into our cell
            occ_next[u] = i
            nxt[i] = u
            self._touched.append(u)
            if k not in (-1, i) and nxt[k] == -1 and not self._push(k, config, nxt):
                continue
            if n == 0 and mate != -1 and nxt[mate] == -1 and occ_next[here] == -1:
                nxt[mate] = here
                occ_next[here] = mate
                self._touched.append(here)
            return True
        occ_next[here] = i
        nxt[i] = here
        self._touched.append(here)
        return False

    def _swap_mate(self, i: int, here: int, best: int, nxt: list[int]) -> int:
        """The agent that i must swap with (and can, by backing off), or -1."""
        if best == here:
            return -1
        occ_now = self.occ_now
        j = occ_now[best]
        if (
            j != -1
            and nxt[j] == -1
            and self._swap_required(i, j, here, best)
            and self._swap_possible(best, here)
        ):
            return j  # i wants j's cell and j wants to come through i's
        for u in self.neighbours[here]:
            k = occ_now[u]
            if k == -1 or u == best:
                continue
            if self._swap_required(k, i, here, best) and self._swap_possible(best, here):
                return k  # make way for a neighbour that has to come through
        return -1

    def _pull_options(self, puller: int, pusher: int) -> tuple[int, int]:
        """How many cells the puller could back into (not where the pusher is, not a
        dead end where an agent rests at its goal), and one of them."""
        count, last = 0, -1
        occ_now, goals, nbrs = self.occ_now, self.goals, self.neighbours
        for u in nbrs[puller]:
            a = occ_now[u]
            if u == pusher or (len(nbrs[u]) == 1 and a != -1 and goals[a] == u):
                continue
            count += 1
            last = u
        return count, last

    def _swap_required(self, pusher: int, puller: int, v_pusher: int, v_puller: int) -> bool:
        """Pushing the puller ahead along a lane would never let the pusher past."""
        d_push, d_pull = self.dist[pusher], self.dist[puller]
        for _ in range(len(self.neighbours)):
            if d_push[v_puller] >= d_push[v_pusher]:
                break
            count, nxt = self._pull_options(v_puller, v_pusher)
            if count >= 2:
                return False  # the lane branches: the puller can step aside
            if count == 0:
                break
            v_pusher, v_puller = v_puller, nxt
        return d_pull[v_pusher] < d_pull[v_puller] and (
            d_push[v_pusher] == 0 or d_push[v_puller] < d_push[v_pusher]
        )

    def _swap_possible(self, v_pusher: int, v_puller: int) -> bool:
        """Backing away from v_pusher through v_puller reaches a branching cell."""
        origin = v_pusher
        for _ in range(len(self.neighbours)):
            if v_puller == origin:
                return False
            count, nxt = self._pull_options(v_puller, v_pusher)
            if count >= 2:
                return True
            if count == 0:
                return False
            v_pusher, v_puller = v_puller, nxt
        return False

    def _valid(self, config: list[int], nxt: list[int]) -> bool:
        """No two agents in one cell and no two agents swapping cells."""
        if len(set(nxt)) != len(nxt):
            return False
        occ_now = self.occ_now
        for i, v in enumerate(nxt):
            j = occ_now[v]
            if j != -1 and j != i and nxt[j] == config[i]:
                return False
        return True

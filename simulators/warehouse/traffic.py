"""AGV traffic in the simulation: central's fleet planner on a lane graph of the layout.

Every AGV move is planned by `central.fleet.traffic.Traffic` (space-time A* around the
reservations of every other vehicle, the planner central's fleet manager runs) on a graph of
the floor: one lane node per `aisle_spacing` metres along each aisle and cross-aisle, a
dead-end bay on either side of each aisle node (the rack faces), a reserve bay per aisle behind
the back cross-aisle and a station bay per aisle in front of the front one (depot and dock).
A move ends in a bay, where the AGV leaves the graph to handle its load (bays hold any number
of AGVs; the lanes are what is shared) and comes back onto the bay's node when that is free.
The planner gives a goal to one vehicle at a time, so a move takes the nearest of a few bays
near its target that no other vehicle is heading for. A move that finds no conflict-free plan
waits a step and asks again; driven paths are checked for vertex and swap conflicts.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from central.fleet.traffic import Traffic
from optimization.layout import Point
from optimization.mapf.grid import Grid

MAX_EXPANSIONS = 2_000  # per search; a harder move waits and asks again
MAX_BACKOFF_STEPS = 8  # a move whose search failed asks again 2, 4, then 8 steps later
NEAR_ROWS = 2  # a pick-face move may end up to this many lane nodes from its location


@dataclass(frozen=True)
class LaneGrid(Grid):
    """A grid whose nodes are linked as given (aisles connect only along cross-aisles)."""

    links: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "neighbours", self.links)


class _CachedTraffic(Traffic):
    """Central's traffic control; goal distances cached (the simulation blocks no node)."""

    def __init__(self, grid: Grid, max_expansions: int) -> None:
        super().__init__(grid, max_expansions=max_expansions)
        self._to_goal: dict[int, list[int]] = {}

    def _distances(self, goal: int) -> list[int]:
        if self.blocked:
            return super()._distances(goal)
        cached = self._to_goal.get(goal)
        if cached is None:
            cached = self._to_goal[goal] = super()._distances(goal)
        return cached


@dataclass
class TrafficStats:
    """What traffic cost the fleet."""

    legs: int = 0
    moves: int = 0
    wait_s: float = 0.0  # waiting for a plan at all, and for others within plans
    retries: int = 0  # times a move found no plan and waited a step to ask again
    conflicts: int = 0  # vertex or swap conflicts found on driven paths (expected: 0)
    searches: int = 0


class FloorTraffic:
    """The lane graph, the planner and every AGV's place on it."""

    def __init__(
        self,
        env: simpy.Environment,
        aisles: int,
        aisle_length: float,
        cross_aisles: Sequence[float],
        spacing: float,
        speed_m_s: float,
        agvs: int,
    ) -> None:
        self.env = env
        self.cell_m = spacing
        self.step_s = spacing / speed_m_s
        w, h = aisles, round(aisle_length / spacing) + 1
        self.width, self.rows = w, h
        cross = {min(h - 1, round(c / spacing)) for c in cross_aisles}
        n = w * (3 * h + 2)
        links: list[list[int]] = [[] for _ in range(n)]

        def link(a: int, b: int) -> None:
            links[a].append(b)
            links[b].append(a)

        for y in range(h):
            for x in range(w):
                if y + 1 < h:
                    link(self.lane(x, y), self.lane(x, y + 1))
                if x + 1 < w and y in cross:
                    link(self.lane(x, y), self.lane(x + 1, y))
                for side in (0, 1):  # rack faces on either side of every lane node
                    link(self.lane(x, y), self.bay(x, y, side))
        for x in range(w):
            link(self.lane(x, h - 1), self.reserve_bay(x))
            link(self.lane(x, 0), self.station_bay(x))
        grid = LaneGrid(np.ones((3 * h + 2, w), dtype=bool), tuple(tuple(v) for v in links))
        self.traffic = _CachedTraffic(grid, MAX_EXPANSIONS)
        self.node = [0] * agvs
        self.stats = TrafficStats()
        self._occupied: dict[int, dict[int, int]] = {}  # step -> node -> AGV (driven paths)
        self._pruned = 0

    def lane(self, x: int, y: int) -> int:
        """The lane node at aisle x, row y."""
        return y * self.width + x

    def bay(self, x: int, y: int, side: int) -> int:
        """A rack-face bay beside lane node (x, y), on side 0 or 1."""
        return ((1 + side) * self.rows + y) * self.width + x

    def reserve_bay(self, aisle: int) -> int:
        """The reserve bay of an aisle, behind the back cross-aisle."""
        return 3 * self.rows * self.width + aisle

    def station_bay(self, aisle: int) -> int:
        """A station bay in front of the front cross-aisle (depot and dock use them)."""
        return (3 * self.rows + 1) * self.width + aisle

    def _near(self, aisle: int) -> list[int]:
        return sorted(range(self.width), key=lambda x: (abs(x - aisle), x))[: 2 * NEAR_ROWS + 1]

    def bays_of(self, point: Point) -> list[int]:
        """Bays a move to a location may end in: its own first, then up to NEAR_ROWS away."""
        aisle, height = int(point[0]), min(self.rows - 1, round(point[1] / self.cell_m))
        rows = sorted(
            (y for y in range(height - NEAR_ROWS, height + NEAR_ROWS + 1) if 0 <= y < self.rows),
            key=lambda y: (abs(y - height), y),
        )
        return [self.bay(aisle, y, side) for y in rows for side in (0, 1)]

    def reserve_bays(self, aisle: int) -> list[int]:
        """Reserve bays of an aisle and its neighbours, nearest first."""
        return [self.reserve_bay(x) for x in self._near(aisle)]

    def station_bays(self, aisle: int) -> list[int]:
        """Station bays nearest to an aisle first."""
        return [
            self.station_bay(x) for x in sorted(range(self.width), key=lambda x: abs(x - aisle))
        ]

    def place(self, agv: int, node: int) -> None:
        """Put an AGV in a bay (its start)."""
        self.node[agv] = node

    @staticmethod
    def _name(agv: int) -> str:
        return f"agv{agv}"

    def _takeable(self, node: int, name: str) -> bool:
        held = self.traffic.forever.get(node)
        return held is None or held[1] == name

    def drive(self, agv: int, goals: Sequence[int]) -> Generator[simpy.Event, Any, int]:
        """Drive an AGV by a conflict-free plan to the first of `goals` (bays) no other vehicle
        is heading for, waiting for a plan if needed; returns the moves driven."""
        start = self.node[agv]
        if start in goals:
            return 0
        name, traffic, st = self._name(agv), self.traffic, self.stats
        asked = self.env.now
        wait = 1
        while True:
            step = math.ceil(self.env.now / self.step_s - 1e-9)
            if step * self.step_s > self.env.now:
                yield self.env.timeout(step * self.step_s - self.env.now)
            goal = next((g for g in goals if self._takeable(g, name)), -1)
            if goal >= 0 and traffic.free(start, step, name):
                incoming = traffic.forever.get(start)  # another AGV heading for this bay
                traffic.park(name, start, step)
                st.searches += 1
                planned = traffic.plan(name, goal, step)
                if not planned:
                    traffic.drop(name)
                if incoming is not None and start not in traffic.forever:
                    traffic.forever[start] = incoming
                if planned:
                    break
                wait = min(MAX_BACKOFF_STEPS, 2 * wait)
            st.retries += 1
            yield self.env.timeout(wait * self.step_s)
        visits = traffic.plans[name].visits
        arrival = visits[-1].t0
        moves = len(visits) - 1
        self._record(agv, [(v.cell, v.t0, min(v.t1, arrival)) for v in visits], step)
        st.legs += 1
        st.moves += moves
        st.wait_s += arrival * self.step_s - asked - moves * self.step_s
        yield self.env.timeout(max(0.0, arrival * self.step_s - self.env.now))
        traffic.drop(name)  # the plan is driven: the AGV leaves the lanes into the bay
        self.node[agv] = goal
        if st.legs % 256 == 0:  # forget nodes without reservations (`drop` scans them all)
            for node in [n for n, at in traffic.res.items() if not at]:
                del traffic.res[node]
        return moves

    def _record(self, agv: int, runs: list[tuple[int, int, int]], start: int) -> None:
        """Check a plan's lane nodes against the paths being driven (vertex and swap
        conflicts), keep it. Bays hold any number of AGVs and are not checked."""
        occupied = self._occupied
        lanes = self.width * self.rows
        previous = -1
        for cell, t0, t1 in runs:
            if cell >= lanes:
                previous = -1
                continue
            for t in range(max(t0, start), t1 + 1):
                at = occupied.setdefault(t, {})
                other = at.get(cell)
                if other is not None and other != agv:
                    self.stats.conflicts += 1
                if previous >= 0 and previous != cell:
                    swapper = occupied.get(t - 1, {}).get(cell)
                    if swapper is not None and swapper != agv and at.get(previous) == swapper:
                        self.stats.conflicts += 1
                at[cell] = agv
                previous = cell
        if start - self._pruned > 2_000:  # forget steps long past
            for t in [t for t in occupied if t < start - 1_000]:
                del occupied[t]
            self._pruned = start

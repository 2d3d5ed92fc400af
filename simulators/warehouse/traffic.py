"""AGV traffic in the simulation: central's fleet planner on a lane graph of the floor.

Every AGV move is planned by `central.fleet.traffic.Traffic` (space-time A* around the
reservations of every other vehicle, the planner central's fleet manager runs) on a graph of
the floor at AGV resolution (`cell_m`, ~1.5 m): the cross-aisles and two side main aisles are
two-lane roads of one-way lanes (lane A runs anticlockwise round the floor, lane B clockwise,
an AGV may change lane or turn round at any node), and the picker aisles are single-lane dead-
end spurs an AGV enters from the nearer cross-aisle only to serve a pick face there, and leaves
the same way (no through traffic in picker aisles). Dead-end bays hang off the lanes: rack
faces on either side of every spur node, reserve bays (two per node) behind the back cross-
aisle, and in front of the front one the goods-to-person storage (AGV rack rows, two bays per
node) and station bays (arm stations and the dock; three per station: at it and two queueing).
A move ends in a bay, where the AGV leaves the graph to handle its load (bays hold any number
of AGVs; the lanes are what is shared) and comes back onto the bay's node when that is free.
The planner gives a goal to one vehicle at a time, so a move takes the nearest of a few bays
near its target that no other vehicle is heading for. A move that finds no conflict-free plan
waits and asks again; driven paths are checked for vertex and swap conflicts. `glide` drives
the same graph without other vehicles (free flow).
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from central.fleet.traffic import Traffic, Visit
from optimization.layout import Point
from optimization.mapf.grid import Grid

CELL_M = 1.5  # target node spacing on the AGV lanes: the planner's one-step gap is ~1.5 m
MAX_EXPANSIONS = 4_000  # per search; a harder move waits and asks again
MAX_BACKOFF_STEPS = 8  # a move whose search failed asks again 2, 4, then 8 steps later
NEAR_ROWS = 2  # a pick-face move may end up to this many nodes from its location
RACK_SLOTS = 2  # reserve and goods-to-person bays per node: two rack positions an AGV serves
STATION_SLOTS = 3  # bays per station position: one at the station, two queueing for it


def node_spacing(aisle_spacing: float, target_m: float = CELL_M) -> float:
    """Metres between lane nodes: the aisle spacing in whole steps of about `target_m`."""
    return aisle_spacing / max(1, round(aisle_spacing / target_m))


@dataclass(frozen=True)
class LaneGrid(Grid):
    """A graph in the planner's Grid shape: node i's successors are `links[i]` (one-way
    lanes are links one way only)."""

    links: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "neighbours", self.links)


class _CachedTraffic(Traffic):
    """Central's traffic control with goal distances over the one-way links (the simulation
    blocks no node)."""

    def __init__(self, grid: LaneGrid, max_expansions: int) -> None:
        super().__init__(grid, max_expansions=max_expansions)
        self._cells: dict[str, set[int]] = {}  # nodes each vehicle holds reservations on
        back: list[list[int]] = [[] for _ in grid.links]
        for u, out in enumerate(grid.links):
            for v in out:
                back[v].append(u)
        self._back = back

    def _distances(self, goal: int, blocked: set[int] | None = None) -> list[int]:
        # steps to the goal: a search from it along links reversed (cached by `distances`;
        # the simulation blocks no node, so `blocked` is empty)
        dist = [-1] * len(self._back)
        dist[goal] = 0
        queue = deque([goal])
        while queue:
            u = queue.popleft()
            for v in self._back[u]:
                if dist[v] < 0:
                    dist[v] = dist[u] + 1
                    queue.append(v)
        return dist

    def _reserve(self, visit: Visit, start: int | None = None) -> None:
        self._cells.setdefault(visit.vehicle, set()).add(visit.cell)
        super()._reserve(visit, start)

    def drop(self, vehicle: str) -> list[Visit]:
        """Central's `drop`, visiting only the nodes the vehicle reserved (not every node)."""
        plan = self.plans.pop(vehicle, None)
        cells = self._cells.pop(vehicle, set())
        if plan is None:
            return []
        for v in plan.visits:
            self._unreserve(v)
            self._dequeue(v)
        for cell in cells:
            cell_res = self.res.get(cell)
            if cell_res:
                for t in [t for t, who in cell_res.items() if who == vehicle]:
                    del cell_res[t]
        return [v for v in plan.visits if v.released]

    def steps(self, start: int, goal: int) -> int:
        """Fewest steps from start to goal with nobody else about (-1: no way)."""
        return self.distances(goal)[start]


@dataclass
class TrafficStats:
    """What traffic cost the fleet."""

    legs: int = 0
    moves: int = 0
    wait_s: float = 0.0  # waiting for a plan at all, and for others within plans
    retries: int = 0  # times a move found no plan and waited to ask again
    goals_taken: int = 0  # ... because another AGV was heading for every bay it may end in
    way_out_busy: int = 0  # ... because the lane in front of its bay was taken
    no_plan: int = 0  # ... because the search found no conflict-free path in its budget
    wait_for_plan_s: float = 0.0  # the part of `wait_s` spent in a bay before setting off
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
        cell_m: float = CELL_M,
    ) -> None:
        self.env = env
        self.cell_m = node_spacing(spacing, cell_m)
        self.per_aisle = k = round(spacing / self.cell_m)  # nodes from one aisle to the next
        self.step_s = self.cell_m / speed_m_s
        self.aisles = aisles
        self.columns = cols = k * (aisles + 1) + 1  # side main aisles at columns 0 and cols-1
        self.rows = rows = round(aisle_length / self.cell_m) + 1
        self.cross = cross = sorted({min(rows - 1, round(c / self.cell_m)) for c in cross_aisles})
        front, back_row = cross[0], cross[-1]
        ids: dict[tuple[str, int, int], int] = {}

        def node(kind: str, i: int, j: int) -> int:
            return ids.setdefault((kind, i, j), len(ids))

        road = [
            (i, j) for j in range(rows) for i in range(cols) if j in cross or i in (0, cols - 1)
        ]
        for i, j in road:
            node("A", i, j), node("B", i, j)
        half: dict[tuple[int, int], tuple[int, int]] = {}  # spur node -> (its cross row, side)
        for a in range(aisles):
            i = self.column(a)
            for j0, j1 in itertools.pairwise(cross):
                for j in range(j0 + 1, j1):
                    node("P", i, j)
                    half[(i, j)] = (j0, 0) if j - j0 <= j1 - j else (j1, 1)
        self.lanes = len(ids)  # lane nodes come first, bays after
        for i, j in half:
            node("bay0", i, j), node("bay1", i, j)
        for a in range(aisles):
            for slot in range(STATION_SLOTS):
                node("station", self.column(a), slot)
        for i in range(1, cols - 1):
            for slot in range(RACK_SLOTS):
                node("reserve", i, slot)
                node("store", i, slot)
        self._ids, self._half = ids, half
        links: list[list[int]] = [[] for _ in range(len(ids))]

        def one_way(u: int, v: int) -> None:
            links[u].append(v)

        def both(u: int, v: int) -> None:
            one_way(u, v)
            one_way(v, u)

        for i, j in road:
            a_node, b_node = ids[("A", i, j)], ids[("B", i, j)]
            both(a_node, b_node)  # change lane or turn round
            ahead = []
            if j in cross and i + 1 < cols:  # A east on the cross-aisles, west on the back one
                ahead.append(((i, j), (i + 1, j)) if j != back_row else ((i + 1, j), (i, j)))
            if i in (0, cols - 1) and j + 1 < rows:  # A north on the right, south on the left
                ahead.append(((i, j), (i, j + 1)) if i else ((i, j + 1), (i, j)))
            for p, q in ahead:
                one_way(ids[("A", *p)], ids[("A", *q)])
                one_way(ids[("B", *q)], ids[("B", *p)])
        for (i, j), (j_cross, side) in half.items():
            spur = ids[("P", i, j)]
            inner = j - 1 if side == 0 else j + 1
            if inner == j_cross:
                both(spur, ids[("A", i, j_cross)])
                both(spur, ids[("B", i, j_cross)])
            else:
                both(spur, ids[("P", i, inner)])
            both(spur, ids[("bay0", i, j)])
            both(spur, ids[("bay1", i, j)])
        for a in range(aisles):
            for lane in "AB":
                for slot in range(STATION_SLOTS):
                    both(ids[("station", self.column(a), slot)], ids[(lane, self.column(a), front)])
        for i in range(1, cols - 1):
            for lane in "AB":
                for slot in range(RACK_SLOTS):
                    both(ids[("reserve", i, slot)], ids[(lane, i, back_row)])
                    both(ids[("store", i, slot)], ids[(lane, i, front)])
        grid = LaneGrid(np.ones((1, len(ids)), dtype=bool), tuple(tuple(v) for v in links))
        self.traffic = _CachedTraffic(grid, MAX_EXPANSIONS)
        self.node = [0] * agvs
        self.stats = TrafficStats()
        self._occupied: dict[int, dict[int, int]] = {}  # step -> node -> AGV (driven paths)
        self._pruned = 0

    # --- where things are ----------------------------------------------------------------

    def column(self, aisle: int) -> int:
        """The node column of a picker aisle."""
        return self.per_aisle * (aisle + 1)

    def lane(self, lane: str, column: int, row: int) -> int:
        """Lane node "A" or "B" of a road (cross-aisle or side main aisle) at column, row."""
        return self._ids[(lane, column, row)]

    def spur(self, aisle: int, row: int) -> int:
        """The node of a picker aisle at a row (not on a cross-aisle)."""
        return self._ids[("P", self.column(aisle), row)]

    def bay(self, aisle: int, row: int, side: int) -> int:
        """A rack-face bay beside a picker aisle's node, on side 0 or 1."""
        return self._ids[(f"bay{side}", self.column(aisle), row)]

    def reserve_bay(self, column: int, slot: int = 0) -> int:
        """An AGV storage bay behind the back cross-aisle (columns 1 .. columns-2)."""
        return self._ids[("reserve", column, slot)]

    def store_bay(self, column: int, slot: int = 0) -> int:
        """A goods-to-person storage bay (AGV rack row) in front of the front cross-aisle."""
        return self._ids[("store", column, slot)]

    def station_bay(self, aisle: int, slot: int = 0) -> int:
        """A station bay in front of the front cross-aisle (depot and dock use them): slot 0
        at the station, the others its queue."""
        return self._ids[("station", self.column(aisle), slot)]

    def bays_of(self, point: Point) -> list[int]:
        """Bays a move to a pick face may end in: its own first, then up to NEAR_ROWS away
        in the same spur."""
        i = self.column(int(point[0]))
        j = min(self.rows - 1, round(point[1] / self.cell_m))
        if (i, j) not in self._half:  # on a cross-aisle row: the nearest spur node
            j = min((r for c, r in self._half if c == i), key=lambda r: (abs(r - j), r))
        own = self._half[(i, j)]
        rows = sorted(
            (r for r in range(j - NEAR_ROWS, j + NEAR_ROWS + 1) if self._half.get((i, r)) == own),
            key=lambda r: (abs(r - j), r),
        )
        return [self._ids[(f"bay{side}", i, r)] for r in rows for side in (0, 1)]

    def _near_columns(self, aisle: int) -> list[int]:
        i = self.column(aisle)
        near = sorted(range(1, self.columns - 1), key=lambda c: (abs(c - i), c))
        return near[: 2 * NEAR_ROWS + 1]

    def reserve_bays(self, aisle: int) -> list[int]:
        """Reserve bays behind an aisle and its neighbours, nearest first."""
        near = self._near_columns(aisle)
        return [self.reserve_bay(c, slot) for slot in range(RACK_SLOTS) for c in near]

    def store_bays(self, aisle: int) -> list[int]:
        """Goods-to-person storage bays in front of an aisle and its neighbours, nearest first."""
        near = self._near_columns(aisle)
        return [self.store_bay(c, slot) for slot in range(RACK_SLOTS) for c in near]

    def station_bays(self, aisle: int, stations: int | None = None) -> list[int]:
        """Bays of the `stations` station positions nearest to an aisle (all if None): every
        position's own bay first, nearest first, then their queue bays."""
        near = sorted(range(self.aisles), key=lambda x: (abs(x - aisle), x))[:stations]
        return [self.station_bay(x, slot) for slot in range(STATION_SLOTS) for x in near]

    # --- driving ---------------------------------------------------------------------------

    def steps(self, start: int, goal: int) -> int:
        """Fewest steps from a node to another along the lanes, alone on the floor."""
        return self.traffic.steps(start, goal)

    def nearest_first(self, start: int, goals: Sequence[int]) -> list[int]:
        """Goals by steps from `start`, fewest first (ties keep their order)."""
        return sorted(goals, key=lambda g: self.traffic.steps(start, g))

    def place(self, agv: int, node: int) -> None:
        """Put an AGV in a bay (its start)."""
        self.node[agv] = node

    @staticmethod
    def _name(agv: int) -> str:
        return f"agv{agv}"

    def _takeable(self, node: int, name: str) -> bool:
        held = self.traffic.forever.get(node)
        return held is None or held[1] == name

    def glide(self, agv: int, goals: Sequence[int]) -> Generator[simpy.Event, Any, int]:
        """Drive an AGV the shortest way to the first of `goals` as if alone on the floor
        (free flow); returns the moves driven."""
        start = self.node[agv]
        if start in goals:
            return 0
        moves = self.traffic.steps(start, goals[0])
        yield self.env.timeout(moves * self.step_s)
        self.node[agv] = goals[0]
        return moves

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
            if goal < 0:
                st.goals_taken += 1
            elif not traffic.free(start, step, name):
                st.way_out_busy += 1
            else:
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
                st.no_plan += 1
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
        st.wait_for_plan_s += step * self.step_s - asked
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
        previous = -1
        for cell, t0, t1 in runs:
            if cell >= self.lanes:
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

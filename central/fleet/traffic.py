"""Traffic control: space-time reservations, conflict-free plans and stepwise release.

Plans come from space-time A* around the reservations of every other vehicle (lifelong,
prioritised planning on the site grid). A vehicle at a node keeps it for one step either side
of its stay, so plans have neither vertex nor swap conflicts and never follow into a node just
vacated. Execution is robust to delays: a vehicle is released into its next node only when
every visit planned earlier at that node is finished (the vehicle left it) and the plan's time
for it is near, so late, paused or blocked vehicles delay others but never collide with them.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

from optimization.mapf.grid import Grid

FOREVER = 1 << 40


@dataclass
class Visit:
    """A stay of one vehicle at one cell over planned steps [t0, t1] (t1 FOREVER: resting)."""

    vehicle: str
    cell: int
    t0: int
    t1: int
    released: bool = False
    done: bool = False
    lo: int = -1  # lowest step reserved for this visit (a release may reserve early)


@dataclass
class Plan:
    """A vehicle's visits: done ones dropped, the first is where it stands."""

    vehicle: str
    visits: list[Visit] = field(default_factory=list)
    version: int = 0  # grows with every re-plan

    @property
    def current(self) -> Visit:
        """The visit of the cell the vehicle stands on (or drives from)."""
        return self.visits[0]

    def released_count(self) -> int:
        """Released visits, the current one included."""
        return sum(1 for v in self.visits if v.released)


class Traffic:
    """Reservations of every vehicle on one grid, and the release rule."""

    def __init__(self, grid: Grid, lookahead: int = 2, max_expansions: int = 40_000) -> None:
        self.grid = grid
        self.lookahead = lookahead
        self.max_expansions = max_expansions
        self.res: dict[int, dict[int, str]] = {}
        self.forever: dict[int, tuple[int, str]] = {}
        self.blocked: set[int] = set()
        self.plans: dict[str, Plan] = {}
        self.queues: dict[int, list[Visit]] = {}
        self._dist_blocked: frozenset[int] = frozenset()
        self._dist_cache: dict[int, list[int]] = {}

    # --- reservations ----------------------------------------------------------------------
    def _reserve(self, visit: Visit, start: int | None = None) -> None:
        cell_res = self.res.setdefault(visit.cell, {})
        first = visit.t0 if start is None else start
        visit.lo = first if visit.lo < 0 else min(visit.lo, first)
        if visit.t1 >= FOREVER:
            self.forever[visit.cell] = (visit.t0, visit.vehicle)
            cell_res.setdefault(visit.t0, visit.vehicle)
            return
        for t in range(first, visit.t1 + 1):
            cell_res[t] = visit.vehicle

    def _unreserve(self, visit: Visit) -> None:
        cell_res = self.res.get(visit.cell, {})
        for t in [t for t, v in cell_res.items() if v == visit.vehicle]:
            if min(visit.lo, visit.t0) - 1 <= t <= visit.t1 or visit.t1 >= FOREVER:
                del cell_res[t]
        if self.forever.get(visit.cell, (0, ""))[1] == visit.vehicle:
            del self.forever[visit.cell]

    def _enqueue(self, visit: Visit) -> None:
        q = self.queues.setdefault(visit.cell, [])
        q.append(visit)
        # by planned time, but never ahead of a visit already released: that vehicle may be
        # on the cell now, however early the newcomer's plan says it comes
        q.sort(key=lambda v: (not v.released, v.t0))

    def _dequeue(self, visit: Visit) -> None:
        q = self.queues.get(visit.cell, [])
        if visit in q:
            q.remove(visit)

    def free(self, cell: int, t: int, me: str) -> bool:
        """Whether `me` may stand on `cell` at step t (nobody else within one step of it)."""
        if cell in self.blocked:
            return False
        f = self.forever.get(cell)
        if f is not None and f[1] != me and f[0] <= t + 1:
            return False
        cell_res = self.res.get(cell)
        if cell_res:
            for dt in (-1, 0, 1):
                who = cell_res.get(t + dt)
                if who is not None and who != me:
                    return False
        return True

    # --- vehicles --------------------------------------------------------------------------
    def park(self, vehicle: str, cell: int, t: int) -> None:
        """A vehicle rests on `cell` from step t (a start, or after an upset)."""
        self.drop(vehicle)
        visit = Visit(vehicle, cell, t, FOREVER, released=True)
        self.plans[vehicle] = Plan(vehicle, [visit])
        self._reserve(visit)
        self._enqueue(visit)

    def drop(self, vehicle: str) -> list[Visit]:
        """Forget a vehicle's plan and reservations; returns its released visits."""
        plan = self.plans.pop(vehicle, None)
        if plan is None:
            return []
        for v in plan.visits:
            self._unreserve(v)
            self._dequeue(v)
        for cell_res in self.res.values():
            for t in [t for t, who in cell_res.items() if who == vehicle]:
                del cell_res[t]
        return [v for v in plan.visits if v.released]

    def route(self, vehicle: str) -> list[int]:
        """Cells of the vehicle's remaining plan, current first."""
        plan = self.plans.get(vehicle)
        return [v.cell for v in plan.visits] if plan else []

    def plan(self, vehicle: str, goal: int, now: int) -> bool:
        """Plan the vehicle from its decision point (last released visit) to `goal`."""
        plan = self.plans[vehicle]
        last = max(i for i, v in enumerate(plan.visits) if v.released)
        for v in plan.visits[last + 1 :]:
            self._unreserve(v)
            self._dequeue(v)
        del plan.visits[last + 1 :]
        start = plan.visits[last]
        # never from the past: a late vehicle's old times would dodge reservations of the
        # present and queue it ahead of vehicles planned since
        t_start = max(now, start.t0)
        self._unreserve(start)
        path = self.search(vehicle, start.cell, max(t_start, start.t0), goal)
        if path is None:
            start.t1 = FOREVER if last == 0 and start.t1 >= FOREVER else start.t1
            self._reserve(start)
            return False
        t = max(t_start, start.t0)
        plan.version += 1
        runs: list[tuple[int, int, int]] = []
        for i, cell in enumerate(path):
            if runs and runs[-1][0] == cell:
                runs[-1] = (cell, runs[-1][1], t + i)
            else:
                runs.append((cell, t + i, t + i))
        start.t1 = runs[0][2]
        self._reserve(start, start=max(start.t0, t - 1))
        for k, (cell, t0, t1) in enumerate(runs[1:], start=1):
            visit = Visit(vehicle, cell, t0, FOREVER if k == len(runs) - 1 else t1)
            plan.visits.append(visit)
            self._reserve(visit)
            self._enqueue(visit)
        if len(runs) == 1:
            start.t1 = FOREVER
            self._reserve(start)
        return True

    def search(self, vehicle: str, start: int, t0: int, goal: int) -> list[int] | None:
        """Space-time A*: cells per step from (start, t0) to resting on `goal`."""
        if goal in self.blocked:
            return None
        h = self.distances(goal)
        if h[start] < 0:
            return None
        others = [t for t, who in self.res.get(goal, {}).items() if who != vehicle]
        f = self.forever.get(goal)
        if f is not None and f[1] != vehicle:
            return None
        earliest = (max(others) + 2) if others else 0
        nbrs = self.grid.neighbours
        n = len(h)
        open_: list[tuple[int, int, int, int]] = [
            (max(t0 + h[start], earliest), h[start], t0, start)
        ]
        parent: dict[int, int] = {}
        seen: set[int] = set()
        expansions = 0
        limit = t0 + 4 * h[start] + 4 * len(self.plans) + 60
        while open_:
            _, _, t, cell = heapq.heappop(open_)
            key = t * n + cell
            if key in seen:
                continue
            seen.add(key)
            if cell == goal and t >= earliest:
                path = []
                k = key
                while True:
                    path.append(k % n)
                    if k not in parent:
                        break
                    k = parent[k]
                return path[::-1]
            expansions += 1
            if expansions > self.max_expansions or t > limit:
                continue
            for nxt in (*nbrs[cell], cell):
                if h[nxt] < 0:
                    continue
                nk = (t + 1) * n + nxt
                if nk in seen or not self.free(nxt, t + 1, vehicle):
                    continue
                if nk not in parent:
                    parent[nk] = key
                heapq.heappush(open_, (max(t + 1 + h[nxt], earliest), h[nxt], t + 1, nxt))
        return None

    def unreachable(self, start: int, goal: int) -> bool:
        """True if blocked cells cut every way from `start` to `goal`."""
        return bool(self.blocked) and self.distances(goal)[start] < 0

    def distances(self, goal: int) -> list[int]:
        """Steps from every cell to `goal` around blocked cells (-1: cut off from it)."""
        if self.blocked != self._dist_blocked:  # cached until the blocked cells change
            self._dist_blocked = frozenset(self.blocked)
            self._dist_cache.clear()
        dist = self._dist_cache.get(goal)
        if dist is None:
            dist = self._dist_cache[goal] = self._distances(goal)
        return dist

    def splits(self, cell: int) -> bool:
        """Whether blocking `cell` too would cut the nodes reachable around it apart."""
        around = sum(1 for d in self.distances(cell) if d >= 0) - 1
        free = [n for n in self.grid.neighbours[cell] if n not in self.blocked]
        if not free:
            return True
        without = self._distances(free[0], self.blocked | {cell})
        return sum(1 for d in without if d >= 0) != around

    def _distances(self, goal: int, blocked: set[int] | None = None) -> list[int]:
        blocked = self.blocked if blocked is None else blocked
        dist = [-1] * (self.grid.width * self.grid.height)
        if goal in blocked:
            return dist
        dist[goal] = 0
        queue = deque([goal])
        nbrs = self.grid.neighbours
        while queue:
            u = queue.popleft()
            for v in nbrs[u]:
                if dist[v] < 0 and v not in blocked:
                    dist[v] = dist[u] + 1
                    queue.append(v)
        return dist

    # --- execution -------------------------------------------------------------------------
    def release(self, vehicle: str, now: int, max_ahead: int = 3) -> int:
        """Release what may be driven now; returns how many visits are released in total."""
        plan = self.plans[vehicle]
        for i, visit in enumerate(plan.visits):
            if visit.released:
                continue
            if i > max_ahead or now < visit.t0 - self.lookahead:
                break
            q = self.queues.get(visit.cell, [])
            if not q or q[0] is not visit:
                break
            visit.released = True
            if now < visit.t0 and all(
                self.free(visit.cell, t, vehicle) for t in range(now, visit.t0)
            ):
                self._reserve(visit, start=now)
        return plan.released_count()

    def reached(self, vehicle: str, cell: int) -> list[int] | None:
        """The vehicle stands on `cell`: earlier visits are finished and their cells returned;
        None if `cell` is not among its released visits."""
        plan = self.plans.get(vehicle)
        if plan is None:
            return None
        for i, visit in enumerate(plan.visits):
            if visit.cell == cell and visit.released:
                passed = [old.cell for old in plan.visits[:i]]
                for old in plan.visits[:i]:
                    old.done = True
                    self._unreserve(old)
                    self._dequeue(old)
                del plan.visits[:i]
                return passed
            if not visit.released:
                break
        return None

    def touching(self, cells: set[int], but: str = "") -> list[str]:
        """Vehicles whose unreleased visits use any of `cells`."""
        return sorted(
            p.vehicle
            for p in self.plans.values()
            if p.vehicle != but and any(v.cell in cells and not v.released for v in p.visits)
        )

    def goal(self, vehicle: str) -> int | None:
        """Where the vehicle's plan ends."""
        plan = self.plans.get(vehicle)
        return plan.visits[-1].cell if plan else None

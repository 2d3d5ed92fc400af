"""The whole-warehouse simulation: SimPy processes around the production decision logic.

Orders arrive, are allocated against pick-face stock by central's allocation rule
(`central.outbound.allocation_plan`: a short order is split and its rest backordered), released
in waves, batched and routed by central's wave rule (`central.outbound.wave_plan`), picked by
pickers, or fetched by AGVs to robot-arm stations (goods-to-person, AGVs dispatched by
`optimization.agv_assignment`, every move planned by central's fleet traffic control through
`simulators.warehouse.traffic`), packed on a scale (`simulators.devices.scale.ScaleModel`) and
shipped. Pick faces are slotted by `optimization.slotting` and replenished from reserve by AGVs
under the min/max policy of `optimization.replenishment.policy`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import simpy

from central.orders.domain import OrderStatus
from central.outbound.allocation_plan import Decision, PlanLine, plan_allocation
from central.outbound.wave_plan import WaveCandidate, path, plan_batches, select_wave
from optimization import batching, slotting
from optimization.agv_assignment import assign_tasks
from optimization.aisle_batching import estimated_seed_batches
from optimization.layout import ParallelAisleLayout, Point
from optimization.replenishment.policy import min_max
from optimization.routing.problem import Route
from simulators.devices.config import ScaleSim
from simulators.devices.scale import ScaleModel
from simulators.warehouse.scenario import Scenario
from simulators.warehouse.traffic import FloorTraffic

SAMPLE_S = 300.0  # queue and utilisation samples every 5 simulated minutes
BIN_S = 900.0  # throughput in 15-minute bins
DISPATCH_WINDOW = 40  # the oldest tasks considered in one AGV assignment
DOCK_STATIONS = 3  # station positions (3 bays each) at the dock where AGVs take pallets


class _QuietScale(ScaleModel):
    """The stand-in's scale without its MQTT sample stream (nobody listens in a simulation)."""

    def _sample(self) -> Generator[simpy.Event, Any, None]:
        return
        yield  # pragma: no cover


@dataclass
class _Order:
    id: int
    arrived: float
    lines: list[tuple[int, int]]  # (sku, qty)
    status: OrderStatus = OrderStatus.READY
    parts_left: int = 0
    stocked_out: bool = False
    items: int = 0
    weight: float = 0.0
    root: _Order | None = None  # a backorder's customer order (None: this is one)
    open_shipments: int = 1  # of a customer order: itself and its backorders not yet shipped
    split: bool = False  # of a customer order: split at least once


@dataclass
class _Task:
    kind: str  # "gtp", "replen", "putaway"
    start: int  # point index where the vehicle picks the load up
    created: float
    order: _Order | None = None
    sku: int = -1
    qty: int = 0


@dataclass
class _Stats:
    shipped: list[tuple[float, float]] = field(default_factory=list)  # (arrived, shipped)
    lines_shipped: int = 0
    items_shipped: int = 0
    stockout_orders: int = 0
    split_orders: int = 0
    backorders: int = 0
    shipments: int = 0
    manual_lines: int = 0
    gtp_lines: int = 0
    picker_travel_m: float = 0.0
    picker_busy_s: float = 0.0
    batches: int = 0
    agv_busy_s: float = 0.0
    agv_down_s: float = 0.0
    agv_travel_m: float = 0.0
    agv_failures: int = 0
    agv_tasks: dict[str, int] = field(default_factory=lambda: {"gtp": 0, "replen": 0, "putaway": 0})
    arm_busy_s: float = 0.0
    arm_failures: int = 0
    pack_busy_s: float = 0.0
    pack_wait_s: list[float] = field(default_factory=list)
    route_calls: int = 0
    route_cache_hits: int = 0
    samples: list[dict[str, float]] = field(default_factory=list)


class WarehouseSim:
    """One run of a scenario; `run()` returns the KPIs, series and heatmap."""

    def __init__(self, scenario: Scenario) -> None:
        self.sc = sc = scenario
        self.demand_rng = random.Random(sc.seed)  # its own stream: policies see the same orders
        self.rng = random.Random(f"{sc.seed}/operations")
        self.np_rng = np.random.default_rng(sc.seed)
        self.env = simpy.Environment()
        self.stats = _Stats()
        self._build_layout()
        self._build_skus()
        self._build_stock()
        self._route_cache: dict[tuple[Point, ...], Route] = {}
        self.pending: list[_Order] = []  # ready and backordered, waiting for allocation
        self.allocated: list[_Order] = []  # allocated, waiting for a wave
        self.orders_received = 0
        self._next_order_id = 0
        res = sc.resources
        self.batch_queue: simpy.Store = simpy.Store(self.env)
        self.pack = simpy.Resource(self.env, capacity=res.pack_stations.count)
        self.arms = simpy.Resource(self.env, capacity=max(1, res.arm_stations.count))
        scale = res.pack_stations.scale
        self.scales = (
            [
                _QuietScale(
                    self.env,
                    ScaleSim(
                        id=f"pack-scale-{i}",
                        sample_period_s=scale.sample_period_s,
                        noise_kg=0.0,
                        settle_s=scale.settle_s,
                        dwell_s=scale.dwell_s,
                    ),
                    lambda _kind, _payload: None,
                    random.Random(sc.seed + i),
                    lambda: datetime(2025, 1, 1, tzinfo=UTC),
                )
                for i in range(res.pack_stations.count)
            ]
            if scale is not None
            else []
        )
        self._free_scales = list(range(len(self.scales)))
        self.tasks: list[_Task] = []
        self.floor = self._build_floor() if res.agvs.count else None
        self.idle_agvs: list[int] = list(range(res.agvs.count))
        self._dispatch_wake = self.env.event()
        self._next_failure = [self._draw_failure() for _ in range(res.agvs.count)]
        self.picks_per_location = np.zeros(self.n_loc, dtype=np.int64)
        self._agvs_busy = 0
        self._pickers_busy = 0
        self._arms_busy = 0

    # --- set-up -------------------------------------------------------------------------------

    def _build_layout(self) -> None:
        lay = self.sc.layout
        cross = (
            [0.0, lay.aisle_length]
            if lay.blocks == 1
            else [0.0, lay.aisle_length / 2, lay.aisle_length]
        )
        self.layout = ParallelAisleLayout(lay.aisles, tuple(cross), lay.aisle_spacing)
        per_block = lay.slots_per_aisle // lay.blocks
        heights: list[float] = []
        for b in range(lay.blocks):
            n = per_block + (lay.slots_per_aisle - per_block * lay.blocks if b == 0 else 0)
            lo, hi = cross[b], cross[b + 1]
            heights += [lo + (hi - lo) * (k + 0.5) / n for k in range(n)]
        self.points: list[Point] = [(a, h) for a in range(lay.aisles) for h in heights]
        self.n_loc = len(self.points)
        self.depot: Point = (lay.depot_aisle, 0.0)
        self.depot_idx = self.n_loc
        self.dock_idx = self.n_loc + 1
        self.reserve_base = self.n_loc + 2  # one reserve point per aisle, on the back cross-aisle
        self.store_base = self.reserve_base + lay.aisles  # goods-to-person storage, in front
        extra = (
            [self.depot, (lay.aisles - 1, 0.0)]
            + [(a, lay.aisle_length) for a in range(lay.aisles)]
            + [(a, 0.0) for a in range(lay.aisles)]
        )
        self.loc_points: list[Point] = self.points + extra  # by location index
        self.dist = self.layout.distance_matrix(self.loc_points)
        self.location_cost = 2 * self.dist[self.depot_idx, : self.n_loc]

    def _build_floor(self) -> FloorTraffic:
        lay, agvs = self.sc.layout, self.sc.resources.agvs
        floor = FloorTraffic(
            self.env,
            lay.aisles,
            lay.aisle_length,
            self.layout.cross_aisles,
            lay.aisle_spacing,
            agvs.speed_m_s,
            agvs.count,
        )
        # an AGV queues for the arms in a bay at or behind one of them (a bay holds any number
        # of AGVs but only one may be heading for it)
        stations = floor.station_bays(lay.depot_aisle, self.sc.resources.arm_stations.count)
        self._goals: dict[int, list[int]] = {
            self.depot_idx: stations,
            self.dock_idx: floor.station_bays(lay.aisles - 1, DOCK_STATIONS),
        }
        for a in range(lay.aisles):
            self._goals[self.reserve_base + a] = floor.reserve_bays(a)
            self._goals[self.store_base + a] = floor.store_bays(a)
        for agv in range(agvs.count):
            floor.place(agv, stations[agv % len(stations)])
        return floor

    def _build_skus(self) -> None:
        sk, sc = self.sc.skus, self.sc
        n = sk.count
        popularity = 1.0 / np.arange(1, n + 1) ** sk.skew
        self.sku_p = popularity / popularity.sum()
        self.sku_cum = np.cumsum(self.sku_p)
        self.unit_kg = self.np_rng.uniform(*sk.unit_weight_kg, size=n)
        cube = self.np_rng.uniform(*sk.unit_cube_l, size=n)
        hourly = np.asarray(sc.demand.orders_per_hour) * sc.demand.seasonal_factor
        orders_h = float(hourly.mean())
        self.lines_per_hour = self.sku_p * orders_h * sc.demand.lines_per_order_mean
        self.units_per_hour = self.lines_per_hour * sc.demand.qty_per_line_mean
        n_gtp = round(sc.policies.gtp_share * n)
        self.gtp = np.zeros(n, dtype=bool)
        self.gtp[:n_gtp] = True  # SKUs are numbered by popularity: the fastest go to the robots
        manual = np.flatnonzero(~self.gtp)  # the pickers' SKUs, slotted to pick faces
        pol = sc.policies.slotting
        lines = self.lines_per_hour[manual]
        if pol == "coi":
            loc = slotting.coi_assignment(
                slotting.cube_per_order_index(cube[manual], lines), self.location_cost
            )
        elif pol == "abc":
            loc = slotting.abc_assignment(lines, self.location_cost, seed=sc.seed)
        else:
            loc = slotting.random_assignment(len(manual), self.n_loc, seed=sc.seed)
        self.sku_loc = np.zeros(n, dtype=np.int64)
        self.sku_loc[manual] = loc
        # goods-to-person totes live in AGV rack rows along the front cross-aisle, by the arm
        # stations, spread evenly across them (not ranked by the pickers' travel from the depot)
        aisles = sc.layout.aisles
        for g in range(n_gtp):
            self.sku_loc[g] = self.store_base + min(aisles - 1, int((g + 0.5) * aisles / n_gtp))
        self.expected_travel = slotting.expected_travel(loc, lines, self.location_cost)

    def _build_stock(self) -> None:
        sc = self.sc
        rep = sc.policies.replenishment
        lead_h = rep.lead_time_min / 60
        units = self.units_per_hour
        self.on_hand = np.ceil(units * sc.stock.pickface_hours).astype(np.int64) + 1
        self.reserved = np.zeros_like(self.on_hand)
        self.in_transit = np.zeros_like(self.on_hand)
        self.reserve = np.ceil(units * sc.stock.reserve_hours).astype(np.int64)
        self.rmin = np.zeros(len(units))
        self.rmax = np.zeros(len(units))
        if rep.policy == "min-max":
            for s, mean in enumerate(units):
                # Poisson-like demand over the lead time: std of the hourly demand is sqrt(mean)
                mm = min_max(
                    float(mean),
                    math.sqrt(float(mean)) + 1e-9,
                    lead_h,
                    rep.service_level,
                    float(mean) * rep.cover_hours,
                )
                self.rmin[s], self.rmax[s] = mm.minimum, mm.maximum

    def _draw_failure(self) -> float:
        return self.rng.expovariate(1.0 / (self.sc.resources.agvs.mtbf_h * 3600))

    # --- routing (cached per batch signature) -------------------------------------------------

    def route(self, picks: Sequence[Point], method: str | None = None) -> Route:
        """Pick path of a set of locations; one router call per distinct set."""
        key = tuple(sorted(picks))
        cached = self._route_cache.get(key)
        if cached is not None and method is None:
            self.stats.route_cache_hits += 1
            return cached
        self.stats.route_calls += 1
        route = path(self.layout, self.depot, key, method or self.sc.policies.routing)
        if method is None:
            self._route_cache[key] = route
        return route

    def _tour(self, picks: Sequence[Point]) -> float:
        return self.route(picks).length if picks else 0.0

    # --- processes ----------------------------------------------------------------------------

    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        d = self.sc.demand
        rates = [r * d.seasonal_factor for r in d.orders_per_hour]
        horizon = self.sc.shift_hours * 3600
        while True:
            hour = int(self.env.now // 3600)
            rate = rates[hour % len(rates)] / 3600
            if rate <= 0:
                yield self.env.timeout((hour + 1) * 3600 - self.env.now)
                continue
            gap = self.demand_rng.expovariate(rate)
            if self.env.now + gap >= (hour + 1) * 3600:  # memoryless: restart at the hour
                yield self.env.timeout((hour + 1) * 3600 - self.env.now)
                continue
            yield self.env.timeout(gap)
            if self.env.now >= horizon:
                return
            n_lines = 1 + self._geometric(d.lines_per_order_mean - 1)
            skus: dict[int, int] = {}
            for _ in range(n_lines):
                sku = int(
                    np.searchsorted(self.sku_cum, self.demand_rng.random() * self.sku_cum[-1])
                )
                skus[sku] = skus.get(sku, 0) + 1 + self._geometric(d.qty_per_line_mean - 1)
            order = self._new_order(self.env.now, list(skus.items()))
            self.orders_received += 1
            self.pending.append(order)
            if self.sc.policies.wave_minutes == 0:
                self._release()

    def _new_order(
        self, arrived: float, lines: list[tuple[int, int]], root: _Order | None = None
    ) -> _Order:
        order = _Order(self._next_order_id, arrived, lines, root=root)
        self._next_order_id += 1
        self._measure(order)
        return order

    def _measure(self, order: _Order) -> None:
        order.items = sum(q for _, q in order.lines)
        order.weight = float(sum(self.unit_kg[s] * q for s, q in order.lines))

    def _geometric(self, mean: float) -> int:
        """0, 1, 2, ... with the given mean."""
        if mean <= 0:
            return 0
        p = 1.0 / (1.0 + mean)
        return int(math.log(1.0 - self.demand_rng.random()) / math.log(1.0 - p))

    def _waves(self) -> Generator[simpy.Event, Any, None]:
        period = self.sc.policies.wave_minutes * 60
        while True:
            yield self.env.timeout(period)
            self._release()

    def _allocate(self) -> None:
        """Allocate ready and backordered orders, oldest first, as central's `prepare_orders`
        does: the shared plan reserves what is free; short orders are split or wait whole."""
        pending = sorted(self.pending, key=lambda o: (o.arrived, o.id))
        lines = [
            PlanLine(k, o.id, sku, qty)
            for k, (o, (sku, qty)) in enumerate((o, ln) for o in pending for ln in o.lines)
        ]
        skus = sorted({sku for o in pending for sku, _ in o.lines})
        stock = {
            s: [[s, free]] for s in skus if (free := int(self.on_hand[s] - self.reserved[s])) > 0
        }
        plan = plan_allocation([o.id for o in pending], lines, stock)
        for _line, sku, qty in plan.reservations:
            self.reserved[sku] += qty
        waiting: list[_Order] = []
        for order, outcome in zip(pending, plan.orders, strict=True):
            if outcome.decision is Decision.ALLOCATED:
                order.status = OrderStatus.ALLOCATED
                self.allocated.append(order)
                continue
            self._stocked_out(order)
            if outcome.decision is Decision.BACKORDERED:
                order.status = OrderStatus.BACKORDERED
                waiting.append(order)
                continue
            root = order.root or order
            rest = [(int(ln.sku_id or 0), ln.qty) for ln in outcome.backorder_lines()]
            backorder = self._new_order(order.arrived, rest, root)
            backorder.status = OrderStatus.BACKORDERED
            backorder.stocked_out = True
            waiting.append(backorder)
            order.lines = [
                (int(ln.sku_id or 0), ln.allocated) for ln in outcome.lines if ln.allocated
            ]
            self._measure(order)
            order.status = OrderStatus.ALLOCATED
            self.allocated.append(order)
            root.open_shipments += 1
            self.stats.backorders += 1
            if not root.split:
                root.split = True
                self.stats.split_orders += 1
        self.pending = waiting
        for sku in skus:
            self._check_replenishment(sku)

    def _stocked_out(self, order: _Order) -> None:
        root = order.root or order
        if not root.stocked_out:
            root.stocked_out = True
            self.stats.stockout_orders += 1

    def _release(self) -> None:
        """Allocate waiting orders, then release a wave of allocated ones, batched and routed."""
        self._allocate()
        chosen_ids = set(
            select_wave(
                [WaveCandidate(o.id, o.arrived) for o in self.allocated],
                None,
                None,
                self.sc.policies.wave_max_orders,
            )
        )
        chosen = [o for o in self.allocated if o.id in chosen_ids]
        chosen.sort(key=lambda o: (o.arrived, o.id))
        self.allocated = [o for o in self.allocated if o.id not in chosen_ids]
        manual: list[_Order] = []
        for order in chosen:
            order.status = OrderStatus.RELEASED
            gtp_lines = [(s, q) for s, q in order.lines if self.gtp[s]]
            man_lines = [(s, q) for s, q in order.lines if not self.gtp[s]]
            order.parts_left = len(gtp_lines) + (1 if man_lines else 0)
            for sku, qty in gtp_lines:
                self._add_task(_Task("gtp", int(self.sku_loc[sku]), self.env.now, order, sku, qty))
            if man_lines:
                manual.append(order)
        if manual:
            self._batch(manual)

    def _batch(self, orders: list[_Order]) -> None:
        res = self.sc.resources.pickers
        cap = batching.Capacity(items=res.cart_items, totes=res.cart_totes)
        opt = [
            batching.Order(
                picks=tuple(self.points[self.sku_loc[s]] for s, _ in o.lines if not self.gtp[s]),
                items=float(min(sum(q for s, q in o.lines if not self.gtp[s]), res.cart_items)),
                weight=o.weight,
            )
            for o in orders
        ]
        pol = self.sc.policies.batching
        if pol == "single":
            groups = [[i] for i in range(len(orders))]
        elif pol == "fcfs":
            groups = batching.fcfs_batches(opt, cap)
        elif pol == "seed-exact":  # central's rule (exact router up to 60 orders, then estimate)
            groups = plan_batches(opt, cap, self._tour, self.layout, self.depot)
        else:  # what central does above EXACT_BATCHING_MAX orders, for every wave size
            groups = estimated_seed_batches(opt, cap, self.layout, self.depot)
        for group in groups:
            members = [orders[i] for i in group]
            locs = sorted(
                {int(self.sku_loc[s]) for o in members for s, _ in o.lines if not self.gtp[s]}
            )
            route = self.route([self.points[i] for i in locs])
            self.batch_queue.put((members, locs, route))

    def _picker(self) -> Generator[simpy.Event, Any, None]:
        res = self.sc.resources.pickers
        while True:
            members, _locs, route = yield self.batch_queue.get()
            lines = sum(1 for o in members for s, _ in o.lines if not self.gtp[s])
            self._pickers_busy += 1
            busy = route.length / res.speed_m_s + lines * res.pick_s
            yield self.env.timeout(busy)
            self._pickers_busy -= 1
            self.stats.picker_busy_s += busy
            self.stats.picker_travel_m += route.length
            self.stats.manual_lines += lines
            self.stats.batches += 1
            for o in members:
                for s, q in o.lines:
                    if not self.gtp[s]:
                        self._take(s, q)
                self._part_done(o)

    def _take(self, sku: int, qty: int) -> None:
        self.on_hand[sku] -= qty
        self.reserved[sku] -= qty
        if self.sku_loc[sku] < self.n_loc:  # the heatmap shows the pickers' faces
            self.picks_per_location[self.sku_loc[sku]] += 1
        self._check_replenishment(sku)

    def _part_done(self, order: _Order) -> None:
        order.parts_left -= 1
        if order.parts_left == 0:
            order.status = OrderStatus.PICKED
            self.env.process(self._pack(order))

    def _pack(self, order: _Order) -> Generator[simpy.Event, Any, None]:
        spec = self.sc.resources.pack_stations
        queued = self.env.now
        with self.pack.request() as turn:
            yield turn
            self.stats.pack_wait_s.append(self.env.now - queued)
            start = self.env.now
            base = spec.pack_s + spec.per_item_s * order.items
            if spec.service == "exponential":
                base = self.rng.expovariate(1.0 / base) if base > 0 else 0.0
            yield self.env.timeout(base)
            if self.scales:
                scale = self._free_scales.pop()
                yield from self.scales[scale].weigh(order.weight)
                self._free_scales.append(scale)
            self.stats.pack_busy_s += self.env.now - start
        order.status = OrderStatus.SHIPPED
        self.stats.shipments += 1
        self.stats.lines_shipped += len(order.lines)
        self.stats.items_shipped += order.items
        root = order.root or order
        root.open_shipments -= 1
        if root.open_shipments == 0:  # the customer order is complete with its last backorder
            self.stats.shipped.append((root.arrived, self.env.now))

    # --- stock and AGVs -----------------------------------------------------------------------

    def _check_replenishment(self, sku: int) -> None:
        if self.sc.policies.replenishment.policy == "none" or self.sc.resources.agvs.count == 0:
            return
        position = self.on_hand[sku] - self.reserved[sku] + self.in_transit[sku]
        if position > self.rmin[sku] or self.reserve[sku] <= 0:
            return
        qty = int(min(self.reserve[sku], math.ceil(self.rmax[sku] - position)))
        if qty <= 0:
            return
        self.reserve[sku] -= qty
        self.in_transit[sku] += qty
        aisle = int(self.loc_points[self.sku_loc[sku]][0])
        self._add_task(_Task("replen", self.reserve_base + aisle, self.env.now, None, sku, qty))

    def _add_task(self, task: _Task) -> None:
        self.tasks.append(task)
        if not self._dispatch_wake.triggered:
            self._dispatch_wake.succeed()

    def _inbound(self) -> Generator[simpy.Event, Any, None]:
        for delivery in sorted(self.sc.inbound, key=lambda d: d.hour):
            yield self.env.timeout(max(0.0, delivery.hour * 3600 - self.env.now))
            for _ in range(delivery.pallets):
                if self.sc.resources.agvs.count:
                    self._add_task(
                        _Task(
                            "putaway",
                            self.dock_idx,
                            self.env.now,
                            None,
                            -1,
                            delivery.units_per_pallet,
                        )
                    )
                else:
                    self._receive(delivery.units_per_pallet)

    def _receive(self, units: int) -> None:
        """A pallet of mixed SKUs (by demand share) goes into reserve."""
        self.reserve += self.np_rng.multinomial(units, self.sku_p)
        for sku in np.flatnonzero(self.on_hand - self.reserved + self.in_transit <= self.rmin):
            self._check_replenishment(int(sku))

    def _dispatcher(self) -> Generator[simpy.Event, Any, None]:
        while True:
            if not (self.tasks and self.idle_agvs):
                self._dispatch_wake = self.env.event()
                yield self._dispatch_wake
                continue
            window = self.tasks[:DISPATCH_WINDOW]
            agvs = self.idle_agvs
            cost = self._to_starts(agvs, [t.start for t in window])
            if len(agvs) == 1:
                pairs = [(0, int(np.argmin(cost[0])))]
            elif len(window) == 1:
                pairs = [(int(np.argmin(cost[:, 0])), 0)]
            else:
                pairs = assign_tasks(cost)
            taken = {t for _, t in pairs}
            chosen_agvs = {agvs[v] for v, _ in pairs}
            for v, t in pairs:
                self.env.process(self._agv(agvs[v], window[t]))
            self.tasks = [t for i, t in enumerate(window) if i not in taken] + self.tasks[
                DISPATCH_WINDOW:
            ]
            self.idle_agvs = [a for a in agvs if a not in chosen_agvs]

    def _goals_of(self, to: int) -> list[int]:
        """Bays a move to a location index may end in, preferred first."""
        goals = self._goals.get(to)
        if goals is None:
            assert self.floor is not None
            goals = self._goals[to] = self.floor.bays_of(self.points[to])
        return goals

    def _to_starts(self, agvs: Sequence[int], starts: Sequence[int]) -> np.ndarray:
        """Metres from each idle AGV's bay to each task's pick-up, along the AGV lanes."""
        assert self.floor is not None
        floor = self.floor
        return (
            np.asarray(
                [[floor.steps(floor.node[a], self._goals_of(s)[0]) for s in starts] for a in agvs],
                dtype=float,
            )
            * floor.cell_m
        )

    def _drive(self, agv: int, to: int) -> Generator[simpy.Event, Any, None]:
        """Drive by central's traffic control (waiting for others), or free flow: the
        shortest way on the same lanes as if alone."""
        assert self.floor is not None
        goals = self._goals_of(to)
        if to >= self.n_loc:  # stations, storage and reserve bays serve alike: nearest first
            goals = self.floor.nearest_first(self.floor.node[agv], goals)
        if self.sc.resources.agvs.traffic:
            moves = yield from self.floor.drive(agv, goals)
        else:
            moves = yield from self.floor.glide(agv, goals)
        self.stats.agv_travel_m += moves * self.floor.cell_m

    def _agv(self, agv: int, task: _Task) -> Generator[simpy.Event, Any, None]:
        spec = self.sc.resources.agvs
        start = self.env.now
        self._agvs_busy += 1
        self.stats.agv_tasks[task.kind] += 1
        yield from self._drive(agv, task.start)
        yield self.env.timeout(spec.handle_s)
        if task.kind == "gtp":
            assert task.order is not None
            yield from self._drive(agv, self.depot_idx)
            arm = self.sc.resources.arm_stations
            with self.arms.request() as turn:
                yield turn
                arm_start = self.env.now
                self._arms_busy += 1
                while True:
                    yield self.env.timeout(arm.pick_s * task.qty)
                    if self.rng.random() >= arm.fail_rate:
                        break
                    self.stats.arm_failures += 1
                self._arms_busy -= 1
                self.stats.arm_busy_s += self.env.now - arm_start
            self.stats.gtp_lines += 1
            self._take(task.sku, task.qty)
            self._part_done(task.order)
            yield from self._drive(agv, task.start)  # the tote goes back to its location
            yield self.env.timeout(spec.handle_s)
        elif task.kind == "replen":
            yield from self._drive(agv, int(self.sku_loc[task.sku]))
            yield self.env.timeout(spec.handle_s)
            self.in_transit[task.sku] -= task.qty
            self.on_hand[task.sku] += task.qty
        else:  # putaway of an inbound pallet to the reserve of a random aisle
            yield from self._drive(
                agv, self.reserve_base + self.rng.randrange(self.sc.layout.aisles)
            )
            yield self.env.timeout(spec.handle_s)
            self._receive(task.qty)
        self.stats.agv_busy_s += self.env.now - start
        self._agvs_busy -= 1
        if self.env.now >= self._next_failure[agv]:
            self.stats.agv_failures += 1
            down = self.rng.expovariate(1.0 / (spec.mttr_min * 60)) if spec.mttr_min else 0.0
            yield self.env.timeout(down)
            self.stats.agv_down_s += down
            self._next_failure[agv] = self.env.now + self._draw_failure()
        self.idle_agvs.append(agv)
        if not self._dispatch_wake.triggered:
            self._dispatch_wake.succeed()

    def _monitor(self) -> Generator[simpy.Event, Any, None]:
        res = self.sc.resources
        while True:
            self.stats.samples.append(
                {
                    "t_h": self.env.now / 3600,
                    "orders_waiting": float(len(self.pending) + len(self.allocated)),
                    "batches_waiting": float(len(self.batch_queue.items)),
                    "pack_queue": float(len(self.pack.queue)),
                    "agv_tasks_waiting": float(len(self.tasks)),
                    "picker_util": self._pickers_busy / max(1, res.pickers.count),
                    "agv_util": self._agvs_busy / max(1, res.agvs.count),
                    "pack_util": self.pack.count / res.pack_stations.count,
                    "arm_util": self._arms_busy / max(1, res.arm_stations.count),
                }
            )
            yield self.env.timeout(SAMPLE_S)

    # --- run ----------------------------------------------------------------------------------

    def run(
        self, progress: Callable[[float], None] | None = None, steps: int = 50
    ) -> dict[str, Any]:
        """Simulate the shift; `progress(fraction)` is called as simulated time advances."""
        env, res = self.env, self.sc.resources
        env.process(self._arrivals())
        if self.sc.policies.wave_minutes > 0:
            env.process(self._waves())
        for _ in range(res.pickers.count):
            env.process(self._picker())
        if res.agvs.count:
            env.process(self._dispatcher())
        env.process(self._inbound())
        env.process(self._monitor())
        horizon = self.sc.shift_hours * 3600
        for k in range(1, steps + 1):
            env.run(until=horizon * k / steps)
            if progress:
                progress(k / steps)
        from simulators.warehouse.kpis import compute_kpis

        return compute_kpis(self)


def simulate(scenario: Scenario, progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Run one scenario; returns {"kpis": ..., "series": ..., "heatmap": ...}."""
    return WarehouseSim(scenario).run(progress)

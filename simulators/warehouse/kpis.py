"""KPIs of a run, as the seed document defines them (docs/simulation.md cites each)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from simulators.warehouse.engine import BIN_S

if TYPE_CHECKING:
    from simulators.warehouse.engine import WarehouseSim


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def _traffic(sim: WarehouseSim) -> dict[str, Any]:
    """Conflict-free planning by central's traffic control: its cost in waiting, its checks."""
    if sim.floor is None or not sim.sc.resources.agvs.traffic:
        return {"planned": False}
    t = sim.floor.stats
    driving_s = t.moves * sim.floor.step_s
    return {
        "planned": True,
        "moves": t.legs,
        "conflicts": t.conflicts,
        "wait_min": _r(t.wait_s / 60, 2),
        "wait_per_move_s": _r(t.wait_s / t.legs, 2) if t.legs else 0.0,
        "wait_share": _r(t.wait_s / (t.wait_s + driving_s)) if driving_s else 0.0,
        "wait_for_plan_min": _r(t.wait_for_plan_s / 60, 2),
        "retries": t.retries,
        "retry_reasons": {
            "goals_taken": t.goals_taken,
            "way_out_busy": t.way_out_busy,
            "no_plan": t.no_plan,
        },
        "searches": t.searches,
    }


def compute_kpis(sim: WarehouseSim) -> dict[str, Any]:
    """KPIs, time series and the pick heatmap of a finished run."""
    sc, st = sim.sc, sim.stats
    horizon_h = sc.shift_hours
    res = sc.resources
    times = np.asarray([(b - a) / 60 for a, b in st.shipped]) if st.shipped else np.zeros(0)
    shipped = len(st.shipped)

    def pct(q: float) -> float:
        return _r(np.percentile(times, q), 2) if times.size else 0.0

    def util(busy_s: float, count: int) -> float:
        return _r(busy_s / (count * horizon_h * 3600)) if count else 0.0

    lines = st.manual_lines + st.gtp_lines
    kpis: dict[str, Any] = {
        "scenario": sc.name,
        "seed": sc.seed,
        "shift_hours": horizon_h,
        "policies": {
            "slotting": sc.policies.slotting,
            "batching": sc.policies.batching,
            "routing": sc.policies.routing,
            "replenishment": sc.policies.replenishment.policy,
        },
        "orders_received": sim.orders_received,
        "orders_shipped": shipped,
        "backlog_orders": sim.orders_received - shipped,
        "order_processing_time_min": {
            "mean": _r(times.mean(), 2) if times.size else 0.0,
            "p50": pct(50),
            "p90": pct(90),
            "p95": pct(95),
            "max": _r(times.max(), 2) if times.size else 0.0,
        },
        "throughput": {
            "orders_per_hour": _r(shipped / horizon_h, 2),
            "lines_per_hour": _r(st.lines_shipped / horizon_h, 2),
            "items_per_hour": _r(st.items_shipped / horizon_h, 2),
        },
        "stock_out_rate": _r(st.stockout_orders / sim.orders_received)
        if sim.orders_received
        else 0.0,
        "stock_out_orders": st.stockout_orders,
        "backorder_rate": _r(st.split_orders / sim.orders_received) if sim.orders_received else 0.0,
        "backorders": {
            "split_orders": st.split_orders,
            "created": st.backorders,
            "waiting_at_end": sum(1 for o in sim.pending if o.root is not None),
        },
        "shipments": st.shipments,
        "lines_picked": lines,
        "robot_line_share": _r(st.gtp_lines / lines) if lines else 0.0,
        "picks_per_picker_hour": _r(st.manual_lines / (res.pickers.count * horizon_h), 2)
        if res.pickers.count
        else 0.0,
        "travel_per_pick_m": _r(st.picker_travel_m / st.manual_lines, 3)
        if st.manual_lines
        else 0.0,
        "picker_travel_km": _r(st.picker_travel_m / 1000, 3),
        "pick_batches": st.batches,
        "lines_per_batch": _r(st.manual_lines / st.batches, 2) if st.batches else 0.0,
        "expected_travel_per_line_m": _r(sim.expected_travel, 3),
        "utilisation": {
            "pickers": util(st.picker_busy_s, res.pickers.count),
            "agvs": util(st.agv_busy_s, res.agvs.count),
            "arm_stations": util(st.arm_busy_s, res.arm_stations.count),
            "pack_stations": util(st.pack_busy_s, res.pack_stations.count),
        },
        "pack_wait_min": {
            "mean": _r(float(np.mean(st.pack_wait_s)) / 60) if st.pack_wait_s else 0.0,
            "p95": _r(np.percentile(st.pack_wait_s, 95) / 60) if st.pack_wait_s else 0.0,
        },
        "agv": {
            "tasks": dict(st.agv_tasks),
            "failures": st.agv_failures,
            "availability": _r(1 - st.agv_down_s / (res.agvs.count * horizon_h * 3600))
            if res.agvs.count
            else 1.0,
            "travel_km": _r(st.agv_travel_m / 1000, 3),
            "traffic": _traffic(sim),
        },
        "arm_pick_failures": st.arm_failures,
        "router": {"calls": st.route_calls, "cache_hits": st.route_cache_hits},
    }
    bins = int(np.ceil(horizon_h * 3600 / BIN_S))
    shipped_at = np.asarray([b for _, b in st.shipped])
    counts = np.histogram(shipped_at, bins=max(bins, 1), range=(0, max(bins, 1) * BIN_S))[0]
    series = {
        "throughput_bin_h": BIN_S / 3600,
        "shipped_per_bin": [int(c) for c in counts],
        "samples": st.samples,
    }
    lay = sc.layout
    heat = sim.picks_per_location.reshape(lay.aisles, lay.slots_per_aisle)
    return {"kpis": kpis, "series": series, "heatmap": heat.tolist()}

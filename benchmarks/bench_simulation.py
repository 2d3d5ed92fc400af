"""Whole-warehouse simulation speed: simulated time per wall time for the medium scenario."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from simulators.warehouse.engine import WarehouseSim
from simulators.warehouse.scenario import Scenario, example, load_scenario, with_overrides

RESULTS = Path(__file__).resolve().parent / "results" / "simulation.json"
TARGET_S = 15.0
REPEATS = 3


def _summary(kpis: dict[str, Any], wall_s: float) -> dict[str, Any]:
    """What the AGV fleet got done in one run, and what it cost in wall time."""
    return {
        "wall_s": round(wall_s, 3),
        "orders_received": kpis["orders_received"],
        "orders_shipped": kpis["orders_shipped"],
        "lines_picked": kpis["lines_picked"],
        "agv_tasks": sum(kpis["agv"]["tasks"].values()),
        "agv_utilisation": kpis["utilisation"]["agvs"],
        "agv_travel_km": kpis["agv"]["travel_km"],
        "agv_traffic": kpis["agv"]["traffic"],
    }


def _timed(scenario: Scenario) -> dict[str, Any]:
    started = time.perf_counter()
    kpis = WarehouseSim(scenario).run()["kpis"]
    return _summary(kpis, time.perf_counter() - started)


def main() -> None:
    """Run the medium scenario (8 h, ~20,000 lines, 40 pickers, 20 AGVs) on one core; then
    once each with free-flow AGVs, and peak (12 h, 30 AGVs) with traffic and free flow."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    scenario = load_scenario(example("medium"))
    walls, kpis = [], {}
    for _ in range(REPEATS):
        started = time.perf_counter()
        sim = WarehouseSim(scenario)
        kpis = sim.run()["kpis"]
        walls.append(time.perf_counter() - started)
    best, worst = min(walls), max(walls)
    # what traffic costs: the same shift with free-flow AGVs (the same lanes, as if alone)
    free_flow = _timed(with_overrides(scenario, {"resources.agvs.traffic": False}))
    peak = load_scenario(example("peak"))
    peak_runs = {
        "traffic": _timed(peak),
        "free_flow": _timed(with_overrides(peak, {"resources.agvs.traffic": False})),
    }
    sim_s = scenario.shift_hours * 3600
    result = {
        "scenario": "medium",
        "shift_hours": scenario.shift_hours,
        "orders": kpis["orders_received"],
        "lines_picked": kpis["lines_picked"],
        "pickers": scenario.resources.pickers.count,
        "agvs": scenario.resources.agvs.count,
        "wall_s": [round(w, 3) for w in walls],
        "best_wall_s": round(best, 3),
        "speedup_best": round(sim_s / best, 1),
        "speedup_worst": round(sim_s / worst, 1),
        "target_wall_s": TARGET_S,
        "meets_target": worst < TARGET_S,
        "router_calls": kpis["router"]["calls"],
        "orders_shipped": kpis["orders_shipped"],
        "backorder_rate": kpis["backorder_rate"],
        "agv_tasks": sum(kpis["agv"]["tasks"].values()),
        "agv_traffic": kpis["agv"]["traffic"],
        "agv_utilisation": kpis["utilisation"]["agvs"],
        "agv_travel_km": kpis["agv"]["travel_km"],
        "free_flow_agvs": free_flow,
        "peak": {"agvs": peak.resources.agvs.count, **peak_runs},
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

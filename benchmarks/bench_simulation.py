"""Whole-warehouse simulation speed: simulated time per wall time for the medium scenario."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from simulators.warehouse.engine import WarehouseSim
from simulators.warehouse.scenario import example, load_scenario, with_overrides

RESULTS = Path(__file__).resolve().parent / "results" / "simulation.json"
TARGET_S = 15.0
REPEATS = 3


def main() -> None:
    """Run the medium scenario (8 h, ~20,000 lines, 40 pickers, 20 AGVs) on one core."""
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
    started = time.perf_counter()  # the cost of traffic control: one run with free-flow AGVs
    free_flow = WarehouseSim(with_overrides(scenario, {"resources.agvs.traffic": False})).run()
    free_flow_wall = time.perf_counter() - started
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
        "free_flow_agvs": {
            "wall_s": round(free_flow_wall, 3),
            "orders_shipped": free_flow["kpis"]["orders_shipped"],
            "lines_picked": free_flow["kpis"]["lines_picked"],
            "agv_tasks": sum(free_flow["kpis"]["agv"]["tasks"].values()),
        },
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

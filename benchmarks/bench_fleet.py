"""Fleet benchmark: 50 and 100 simulated AGVs over a simulated hour, in-process (no broker).

Measures tasks per hour, conflicts in the recorded trajectories (must be 0), planning latency
(p50/p99 per path plan) and vehicle utilisation; writes benchmarks/results/fleet.json.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from central.fleet.domain import TaskKind, TaskStatus
from central.fleet.layout import DOCK, PACK, PICK, RESERVE, generate_layout
from simulators.vda5050.inprocess import InProcessFleet
from simulators.vda5050.trajectory import find_conflicts

RESULTS = Path(__file__).parent / "results" / "fleet.json"


def run(n: int, sim_s: float, seed: int = 1) -> dict[str, Any]:
    """One fleet of `n` AGVs kept supplied with tasks for `sim_s` simulated seconds."""
    layout = generate_layout(n, width=41, stations=16)
    sim = InProcessFleet(layout, n, tick_s=0.5, action_s=5.0)
    fleet = sim.fleet
    rng = random.Random(seed)
    node = layout.node_id
    picks, packs = layout.cells(PICK), layout.cells(PACK)
    docks, reserve = layout.cells(DOCK), layout.cells(RESERVE)
    busy_samples: list[float] = []

    def supply() -> Generator[simpy.events.Event, Any, None]:
        while True:
            pending = sum(1 for t in fleet.tasks.values() if t.status == TaskStatus.PENDING)
            for _ in range(max(0, n - pending)):
                if rng.random() < 0.8:
                    fleet.submit(TaskKind.TOTE, node(rng.choice(picks)), node(rng.choice(packs)))
                else:
                    fleet.submit(
                        TaskKind.PALLET, node(rng.choice(docks)), node(rng.choice(reserve))
                    )
            busy_samples.append(sum(1 for v in fleet.vehicles.values() if v.task_id) / n)
            yield sim.env.timeout(10.0)

    sim.env.process(supply())
    started = time.perf_counter()
    sim.run(sim_s)
    wall = time.perf_counter() - started
    done = [t for t in fleet.tasks.values() if t.status == TaskStatus.DONE]
    trajectories = {s: v.trajectory for s, v in sim.vehicles.items()}
    moving = sum(t1 - t0 for tr in trajectories.values() for _, _, t0, t1 in tr.moves)
    plan_ms = np.array(fleet.plan_ms or [0.0])
    return {
        "agvs": n,
        "simulated_s": sim_s,
        "wall_s": round(wall, 1),
        "grid": f"{layout.grid.width}x{layout.grid.height}",
        "tasks_done": len(done),
        "tasks_per_hour": round(len(done) * 3600.0 / sim_s, 1),
        "conflicts": len(find_conflicts(trajectories, float(sim.env.now))),
        "plans": len(fleet.plan_ms),
        "plan_failures_retried": fleet.plan_failures,
        "plan_ms_p50": round(float(np.percentile(plan_ms, 50)), 2),
        "plan_ms_p99": round(float(np.percentile(plan_ms, 99)), 2),
        "utilisation_task": round(float(np.mean(busy_samples)), 3),
        "utilisation_driving": round(moving / (n * sim_s), 3),
        "stale_alarms": sum(1 for _, _, what in fleet.events if what.startswith("stale:")),
    }


def main(sizes: tuple[int, ...] = (50, 100), sim_s: float = 3600.0) -> dict[str, Any]:
    """Run every size and write the results file."""
    runs = []
    for n in sizes:
        result = run(n, sim_s)
        print(json.dumps(result), flush=True)
        runs.append(result)
    out = {"benchmark": "fleet", "runs": runs}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(tuple(int(a) for a in sys.argv[1:]), 600.0)
    else:
        main()

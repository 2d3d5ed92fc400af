"""Grids of scenario variants, run across processes, with replications and confidence intervals."""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import yaml

from simulators.warehouse.engine import simulate
from simulators.warehouse.scenario import Scenario, ScenarioError, with_overrides

# two-sided 95 % Student t quantiles for 1..30 degrees of freedom
_T95 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)

SWEEP_KPIS = {
    "orders_per_hour": lambda k: k["throughput"]["orders_per_hour"],
    "order_processing_time_min": lambda k: k["order_processing_time_min"]["mean"],
    "travel_per_pick_m": lambda k: k["travel_per_pick_m"],
    "picks_per_picker_hour": lambda k: k["picks_per_picker_hour"],
    "stock_out_rate": lambda k: k["stock_out_rate"],
    "backorder_rate": lambda k: k["backorder_rate"],
    "agv_utilisation": lambda k: k["utilisation"]["agvs"],
    "orders_shipped": lambda k: k["orders_shipped"],
    "agv_tasks": lambda k: sum(k["agv"]["tasks"].values()),
    "agv_wait_per_move_s": lambda k: k["agv"]["traffic"].get("wait_per_move_s", 0.0),
    "agv_wait_share": lambda k: k["agv"]["traffic"].get("wait_share", 0.0),
    "pack_utilisation": lambda k: k["utilisation"]["pack_stations"],
    "backlog_orders": lambda k: k["backlog_orders"],
}


def mean_ci(values: Sequence[float]) -> dict[str, float]:
    """Mean and two-sided 95 % Student-t confidence interval."""
    n = len(values)
    mean = statistics.fmean(values)
    if n < 2:
        return {"mean": mean, "ci_low": mean, "ci_high": mean, "n": n}
    t = _T95[n - 2] if n - 1 <= len(_T95) else 1.96
    half = t * statistics.stdev(values) / math.sqrt(n)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half, "n": n}


def parse_grid(specs: Sequence[str]) -> dict[str, list[Any]]:
    """`name=v1,v2` (values parsed as YAML scalars) -> {name: [v1, v2]}."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, values = spec.partition("=")
        if not sep or not name or not values:
            raise ScenarioError(f"--grid {spec!r}: expected name=v1,v2,...")
        grid[name.strip()] = [yaml.safe_load(v) for v in values.split(",")]
    return grid


def variants(base: Scenario, grid: dict[str, list[Any]]) -> list[tuple[str, Scenario]]:
    """Every combination of the grid applied to the base scenario (validated up front)."""
    names = list(grid)
    out = []
    for combo in itertools.product(*(grid[n] for n in names)):
        overrides = dict(zip(names, combo, strict=True))
        label = ", ".join(f"{n}={v}" for n, v in overrides.items()) or base.name
        out.append((label, with_overrides(base, overrides)))
    return out


def _one(job: tuple[int, int, dict[str, Any]]) -> tuple[int, int, dict[str, Any]]:
    index, rep, data = job
    scenario = Scenario.model_validate(data)
    return index, rep, simulate(scenario)["kpis"]


def sweep(
    base: Scenario,
    grid: dict[str, list[Any]],
    replications: int = 3,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run each variant `replications` times (seeds seed, seed+1, ...); mean and CI per KPI."""
    found = variants(base, grid)
    jobs = [
        (i, r, sc.model_copy(update={"seed": sc.seed + r}).model_dump(mode="python"))
        for i, (_, sc) in enumerate(found)
        for r in range(replications)
    ]
    results: dict[int, dict[int, dict[str, Any]]] = {i: {} for i in range(len(found))}
    done = 0
    if workers <= 1:
        outputs: Any = map(_one, jobs)
        pool = None
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        outputs = pool.map(_one, jobs)
    try:
        for i, r, kpis in outputs:
            results[i][r] = kpis
            done += 1
            if progress:
                progress(done, len(jobs))
    finally:
        if pool is not None:
            pool.shutdown()
    rows = []
    for i, (label, _) in enumerate(found):
        runs = [results[i][r] for r in range(replications)]
        rows.append(
            {
                "variant": label,
                "stats": {
                    name: mean_ci([float(get(k)) for k in runs]) for name, get in SWEEP_KPIS.items()
                },
                "runs": runs,
            }
        )
    return rows

"""What `whs sim run/compare/sweep` do: run scenarios, write kpis.json and report.html."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from simulators.warehouse.engine import simulate
from simulators.warehouse.report import compare_report, run_report, sweep_report
from simulators.warehouse.scenario import (
    Scenario,
    ScenarioError,
    example,
    load_scenario,
    with_overrides,
)
from simulators.warehouse.sweep import sweep


def resolve(spec: str, hours: float | None = None) -> tuple[str, Scenario]:
    """`FILE` or a shipped example name, optionally `@name=value,name=value` overrides."""
    path, _, extra = spec.partition("@")
    file = Path(path)
    if not file.exists() and example(path).exists():
        file = example(path)
    scenario = load_scenario(file)
    overrides: dict[str, Any] = {}
    for item in filter(None, extra.split(",")):
        name, sep, value = item.partition("=")
        if not sep:
            raise ScenarioError(f"{spec}: override {item!r} is not name=value")
        import yaml

        overrides[name] = yaml.safe_load(value)
    if hours is not None:
        overrides["shift_hours"] = hours
    if overrides:
        scenario = with_overrides(scenario, overrides)
    label = scenario.name + (f"@{extra}" if extra else "")
    return label, scenario


def _write(out: Path, kpis: Any, page: str, extra: dict[str, Any] | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "kpis.json").write_text(json.dumps(kpis, indent=2) + "\n", encoding="utf-8")
    (out / "report.html").write_text(page, encoding="utf-8")
    for name, data in (extra or {}).items():
        (out / name).write_text(json.dumps(data) + "\n", encoding="utf-8")


def run_to_dir(
    scenario: Scenario, out: Path, progress: Callable[[float], None] | None = None
) -> dict[str, Any]:
    """Simulate one scenario; write kpis.json, series.json and report.html into `out`."""
    result = simulate(scenario, progress)
    _write(
        out,
        result["kpis"],
        run_report(result),
        {"series.json": {"series": result["series"], "heatmap": result["heatmap"]}},
    )
    return result


def compare_to_dir(
    named: Sequence[tuple[str, Scenario]],
    out: Path,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Simulate several scenarios; kpis.json maps each label to its KPIs; side-by-side report."""
    results = []
    for k, (_, scenario) in enumerate(named):
        results.append(simulate(scenario))
        if progress:
            progress(k + 1)
    names = [n for n, _ in named]
    if len(set(names)) < len(names):
        names = [f"{i + 1}: {n}" for i, n in enumerate(names)]
    _write(
        out,
        {n: r["kpis"] for n, r in zip(names, results, strict=True)},
        compare_report(names, results),
    )
    return results


def sweep_to_dir(
    base: Scenario,
    grid: dict[str, list[Any]],
    replications: int,
    workers: int,
    out: Path,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run a grid of variants with replications; kpis.json holds mean and 95 % CI per variant."""
    rows = sweep(base, grid, replications, workers, progress)
    _write(
        out,
        [{"variant": r["variant"], "stats": r["stats"]} for r in rows],
        sweep_report(rows),
        {"runs.json": rows},
    )
    return rows

"""`whs optimize ...`: the decision core from the command line."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import NoReturn

import typer

from optimization.mapf.grid import parse_map, parse_scen
from optimization.mapf.solve import METHODS as MAPF_METHODS
from optimization.mapf.solve import solve_mapf
from optimization.replenishment.policy import optimal_ss_policy, poisson_pmf
from optimization.routing.solve import METHODS, pick_path
from optimization.routing.sprp_format import LAYOUTS, parse_sprp

app = typer.Typer(
    help="Optimisation: pick paths, MAPF, replenishment policies.", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    """Optimisation: pick paths, MAPF, replenishment policies."""


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command("pick-path")
def pick_path_cmd(
    file: Path = typer.Argument(..., help="Instance in the SPRP benchmark format."),
    layout: str = typer.Option("single-block", help=f"One of: {', '.join(LAYOUTS)}."),
    method: str = typer.Option("auto", help=f"One of: {', '.join(METHODS)}."),
    time_limit: float = typer.Option(1.0, help="Seconds for the OR-Tools method."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Shortest picker tour through the instance's pick locations."""
    if layout not in LAYOUTS:
        _fail(f"--layout must be one of {', '.join(LAYOUTS)}")
    if method not in METHODS:
        _fail(f"--method must be one of {', '.join(METHODS)}")
    try:
        instance = parse_sprp(file.read_text(encoding="latin-1"))
        problem = instance.to_problem(layout)
    except (OSError, ValueError) as exc:
        _fail(str(exc))
    start = time.perf_counter()
    route = pick_path(problem, method, time_limit)
    ms = (time.perf_counter() - start) * 1000
    tour = [instance.skus[i][0] for i in route.order]
    if as_json:
        typer.echo(
            json.dumps(
                {"length": route.length, "tour": tour, "method": route.method, "ms": round(ms, 3)}
            )
        )
    else:
        typer.echo(f"{route.method}: length {route.length:g} in {ms:.1f} ms")
        typer.echo("article order: " + " ".join(str(t) for t in tour))


@app.command("mapf")
def mapf_cmd(
    map_file: Path = typer.Option(..., "--map", help="MovingAI .map file."),
    scen_file: Path = typer.Option(..., "--scen", help="MovingAI .scen file."),
    agents: int = typer.Option(..., "--agents", min=1, help="Use the first N tasks."),
    time_limit: float = typer.Option(30.0, help="Seconds before giving up."),
    method: str = typer.Option(
        "auto",
        help=f"One of: {', '.join(MAPF_METHODS)} (auto: prioritised planning, LaCAM on failure).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Conflict-free paths for N agents (4-connected moves and waits, unit cost)."""
    if method not in MAPF_METHODS:
        _fail(f"--method must be one of {', '.join(MAPF_METHODS)}")
    try:
        grid = parse_map(map_file.read_text())
        tasks = parse_scen(scen_file.read_text())
    except (OSError, ValueError, KeyError) as exc:
        _fail(str(exc))
    if agents > len(tasks):
        _fail(f"the scenario has only {len(tasks)} tasks")
    start = time.perf_counter()
    try:
        result = solve_mapf(grid, tasks[:agents], time_limit, method)
    except ValueError as exc:
        _fail(str(exc))
    ms = (time.perf_counter() - start) * 1000
    if result is None:
        _fail(f"no conflict-free plan found within {time_limit:g} s")
    if as_json:
        paths = [[list(c) for c in p] for p in result.paths]
        typer.echo(
            json.dumps(
                {
                    "paths": paths,
                    "sum_of_costs": result.sum_of_costs,
                    "makespan": result.makespan,
                    "lower_bound": result.lower_bound,
                    "method": result.method,
                    "ms": round(ms, 3),
                }
            )
        )
    else:
        typer.echo(
            f"{agents} agents: sum of costs {result.sum_of_costs} (lower bound "
            f"{result.lower_bound}), makespan {result.makespan}, {ms:.0f} ms ({result.method})"
        )


@app.command("ss-policy")
def ss_policy_cmd(
    holding: float = typer.Option(..., help="Holding cost per unit per period."),
    stockout: float = typer.Option(..., help="Backorder cost per unit per period."),
    fixed: float = typer.Option(..., help="Fixed cost per order."),
    poisson_mean: float = typer.Option(..., help="Mean demand per period (Poisson)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Optimal (s, S) policy for Poisson demand (Zheng & Federgruen 1991)."""
    try:
        policy = optimal_ss_policy(poisson_pmf(poisson_mean), holding, stockout, fixed)
    except ValueError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"s": policy.s, "S": policy.S, "cost": policy.cost}))
    else:
        typer.echo(f"order up to {policy.S} when at or below {policy.s}: {policy.cost:.4f}/period")

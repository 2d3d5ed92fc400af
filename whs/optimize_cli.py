"""`whs optimize ...`: the decision core from the command line."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from optimization.routing.solve import METHODS, pick_path
from optimization.routing.sprp_format import LAYOUTS, parse_sprp

app = typer.Typer(
    help="Optimisation: pick paths, MAPF, replenishment policies.", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    """Optimisation: pick paths, MAPF, replenishment policies."""


def _fail(message: str) -> None:
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

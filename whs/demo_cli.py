"""`whs demo`: command-line wrapper of whs.demo."""

from __future__ import annotations

from pathlib import Path

import typer


def demo(
    duration: float = typer.Option(
        None, help="Stop after this many seconds (default: until Ctrl-C)."
    ),
    port: int = typer.Option(None, help="API port (default: a free one)."),
    interval: float = typer.Option(10.0, help="Seconds between trucks."),
    workdir: Path = typer.Option(Path("var/demo"), help="Where the database, configs and logs go."),
    seed: int = typer.Option(7, help="Random seed of the trucks and the device noise."),
) -> None:
    """Run broker, central, edge and device stand-ins with trucks arriving (SQLite, ./var)."""
    from whs.demo import run_demo

    raise typer.Exit(run_demo(workdir.resolve(), port, duration, interval, seed))

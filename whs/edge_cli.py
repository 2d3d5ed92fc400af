"""`whs edge`: run an edge agent."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

app = typer.Typer(
    help="Edge agent: device traffic -> typed events -> central.", no_args_is_help=True
)


@app.callback()
def _group() -> None:
    """Edge agent commands."""


@app.command()
def run(
    config: Path = typer.Option(..., "--config", "-c", help="Edge YAML config file."),
    drain_timeout_s: float = typer.Option(
        5.0, help="On shutdown, wait this long for central's acks."
    ),
    log_level: str = typer.Option("INFO", help="Logging level."),
) -> None:
    """Run the edge agent until SIGINT or SIGTERM."""
    from edge.agent import EdgeAgent
    from edge.config import ConfigError, load_edge_config

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        cfg = load_edge_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    agent = EdgeAgent(cfg)
    agent.start()
    typer.echo(
        f"edge {cfg.edge_id} running (site {cfg.site}, broker {cfg.broker.host}:{cfg.broker.port})"
    )
    try:
        while not done.wait(1.0):
            pass
    finally:
        agent.stop(drain_timeout_s=drain_timeout_s)
        typer.echo(f"edge {cfg.edge_id} stopped: {agent.stats()}")

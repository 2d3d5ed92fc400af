"""`whs edge`: run an edge agent."""

from __future__ import annotations

from pathlib import Path

import typer

from whs.runtime import load_config, setup_logging, wait_for_shutdown

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

    setup_logging(log_level)
    cfg = load_config(load_edge_config, config, ConfigError)
    agent = EdgeAgent(cfg)
    agent.start()
    typer.echo(
        f"edge {cfg.edge_id} running (site {cfg.site}, broker {cfg.broker.host}:{cfg.broker.port})"
    )
    try:
        wait_for_shutdown()
    finally:
        agent.stop(drain_timeout_s=drain_timeout_s)
        typer.echo(f"edge {cfg.edge_id} stopped: {agent.stats()}")

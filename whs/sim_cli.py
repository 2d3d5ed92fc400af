"""`whs sim`: device stand-ins (and, later, whole-warehouse simulation runs)."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

app = typer.Typer(help="Simulators: device stand-ins over real MQTT.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Simulator commands."""


@app.command()
def devices(
    config: Path = typer.Option(..., "--config", "-c", help="Stand-ins YAML config file."),
    log_level: str = typer.Option("INFO", help="Logging level."),
) -> None:
    """Run the RFID gate, scale and dock stand-ins until SIGINT or SIGTERM."""
    from simulators.devices.config import SimConfigError, load_standins_config
    from simulators.devices.runner import DeviceStandIns

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        cfg = load_standins_config(config)
    except SimConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    standins = DeviceStandIns(cfg)
    standins.start()
    docks = ", ".join(d.dock for d in cfg.docks)
    typer.echo(
        f"stand-ins running at site {cfg.site} (docks: {docks}); "
        f"send pallets to whs/v1/{cfg.site}/sim/<dock>/pallet"
    )
    try:
        while not done.wait(1.0):
            pass
    finally:
        standins.stop()
        typer.echo(f"stand-ins stopped: {standins.published()}")

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


@app.command()
def opcua(
    tags: int = typer.Option(100, "--tags", min=1, help="Number of changing tags."),
    rate: float = typer.Option(1.0, "--rate", min=0.0, help="Changes per second of every tag."),
    port: int = typer.Option(4840, "--port", help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    log_level: str = typer.Option("INFO", help="Logging level."),
) -> None:
    """Run a generic OPC UA controller stand-in (tags, Reset/SetSetpoint/Wait) until Ctrl-C."""
    from simulators.opcua_controller import ControllerConfig, OpcUaControllerStandIn

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda _s, _f: done.set())
    signal.signal(signal.SIGTERM, lambda _s, _f: done.set())
    server = OpcUaControllerStandIn(ControllerConfig(tags=tags, rate_hz=rate, port=port, host=host))
    server.start()
    typer.echo(f"OPC UA stand-in on {server.endpoint}: {tags} tags at {rate} Hz")
    try:
        while not done.wait(1.0):
            pass
    finally:
        server.stop()
        typer.echo(f"OPC UA stand-in stopped after {server.ticks} ticks")


@app.command()
def agvs(
    config: Path = typer.Option(..., "--config", "-c", help="AGV stand-ins YAML config file."),
    log_level: str = typer.Option("INFO", help="Logging level."),
) -> None:
    """Run VDA 5050 2.1 AGV stand-ins (docs/fleet.md) until SIGINT or SIGTERM."""
    from simulators.vda5050.config import AgvConfigError, load_agv_config
    from simulators.vda5050.runner import AgvStandIns

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        cfg = load_agv_config(config)
    except AgvConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    done = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    standins = AgvStandIns(cfg)
    standins.start()
    serials = ", ".join(v.serial for v in cfg.vehicles)
    typer.echo(
        f"{len(cfg.vehicles)} AGV(s) online ({serials}) at x{cfg.time_factor:g}; "
        f"orders on uagv/v2/{cfg.manufacturer}/<serial>/order"
    )
    try:
        while not done.wait(1.0):
            pass
    finally:
        standins.stop()
        typer.echo("AGV stand-ins stopped (OFFLINE published)")

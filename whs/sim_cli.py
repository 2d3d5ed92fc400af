"""`whs sim`: device stand-ins (and, later, whole-warehouse simulation runs)."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from whs.runtime import load_config, setup_logging, wait_for_shutdown

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

    setup_logging(log_level)
    cfg = load_config(load_standins_config, config, SimConfigError)
    standins = DeviceStandIns(cfg)
    standins.start()
    docks = ", ".join(d.dock for d in cfg.docks)
    typer.echo(
        f"stand-ins running at site {cfg.site} (docks: {docks}); "
        f"send pallets to whs/v1/{cfg.site}/sim/<dock>/pallet"
    )
    try:
        wait_for_shutdown()
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

    setup_logging(log_level)
    server = OpcUaControllerStandIn(ControllerConfig(tags=tags, rate_hz=rate, port=port, host=host))
    server.start()
    typer.echo(f"OPC UA stand-in on {server.endpoint}: {tags} tags at {rate} Hz")
    try:
        wait_for_shutdown()
    finally:
        server.stop()
        typer.echo(f"OPC UA stand-in stopped after {server.ticks} ticks")


@app.command()
def arm(
    port: int = typer.Option(4841, "--port", help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    station: str = typer.Option("PS-01", "--station", help="Pick-station id."),
    failure_rate: float = typer.Option(
        0.0, "--failure-rate", min=0.0, max=1.0, help="Share of picks that fail."
    ),
    time_factor: float = typer.Option(1.0, "--time-factor", min=0.01, help="Speed-up of cycles."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (cycle times, failures)."),
    log_level: str = typer.Option("INFO", help="Logging level."),
) -> None:
    """Run a robot-arm pick station (OPC UA, Robotics concepts) until SIGINT or SIGTERM."""
    from simulators.robot_arm import ArmConfig, RobotArmStandIn

    setup_logging(log_level)
    server = RobotArmStandIn(
        ArmConfig(
            port=port,
            host=host,
            station=station,
            failure_rate=failure_rate,
            time_factor=time_factor,
            seed=seed,
        )
    )
    server.start()
    typer.echo(f"robot-arm station {station} on {server.endpoint} (failure rate {failure_rate:g})")
    try:
        wait_for_shutdown()
    finally:
        server.stop()
        typer.echo(f"robot-arm station stopped: {server.picks} picks, {server.failures} failed")


@app.command()
def agvs(
    config: Path = typer.Option(..., "--config", "-c", help="AGV stand-ins YAML config file."),
    log_level: str = typer.Option("INFO", help="Logging level."),
) -> None:
    """Run VDA 5050 2.1 AGV stand-ins (docs/fleet.md) until SIGINT or SIGTERM."""
    from simulators.vda5050.config import AgvConfigError, load_agv_config
    from simulators.vda5050.runner import AgvStandIns

    setup_logging(log_level)
    cfg = load_config(load_agv_config, config, AgvConfigError)
    standins = AgvStandIns(cfg)
    standins.start()
    serials = ", ".join(v.serial for v in cfg.vehicles)
    typer.echo(
        f"{len(cfg.vehicles)} AGV(s) online ({serials}) at x{cfg.time_factor:g}; "
        f"orders on uagv/v2/{cfg.manufacturer}/<serial>/order"
    )
    try:
        wait_for_shutdown()
    finally:
        standins.stop()
        typer.echo("AGV stand-ins stopped (OFFLINE published)")


@app.command("opcua-agvs")
def opcua_agvs(
    vehicle: list[str] = typer.Option(
        ["acme01=c1_1"], "--vehicle", "-v", help="serial=start node (c{x}_{y}); repeat for more."
    ),
    port: int = typer.Option(4842, "--port", help="TCP port to listen on."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    step_s: float = typer.Option(1.0, "--step-s", min=0.001, help="Seconds per node driven."),
    cell_m: float = typer.Option(1.0, "--cell-m", min=0.001, help="Metres between nodes (X, Y)."),
    time_factor: float = typer.Option(1.0, "--time-factor", min=0.01, help="Speed-up."),
    log_level: str = typer.Option("INFO", help="Logging level."),
) -> None:
    """Run the OPC UA AGV fleet controller of a second vendor (docs/fleet.md) until SIGINT or
    SIGTERM."""
    from simulators.opcua_agv import OBJECT_ID, OpcUaAgvConfig, OpcUaAgvStandIn

    vehicles: dict[str, str] = {}
    for item in vehicle:
        serial, _, node = item.partition("=")
        if not serial or not re.fullmatch(r"c\d+_\d+", node) or serial in vehicles:
            typer.echo(f"--vehicle {item!r}: expected a new serial=c<x>_<y>", err=True)
            raise typer.Exit(2)
        vehicles[serial] = node
    setup_logging(log_level)
    config = OpcUaAgvConfig(
        vehicles=vehicles,
        port=port,
        host=host,
        cell_m=cell_m,
        step_s=step_s,
        time_factor=time_factor,
    )
    server = OpcUaAgvStandIn(config)
    server.start()
    typer.echo(
        f"OPC UA AGV controller on {server.endpoint} ({OBJECT_ID}): "
        + ", ".join(f"{s} at {n}" for s, n in vehicles.items())
    )
    try:
        wait_for_shutdown()
    finally:
        server.stop()
        typer.echo("OPC UA AGV controller stopped")


def _scenario_error(exc: Exception) -> typer.Exit:
    typer.echo(f"scenario error: {exc}", err=True)
    return typer.Exit(2)


@app.command()
def run(
    scenario: str = typer.Argument(..., help="Scenario YAML file, or small/medium/peak."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for kpis.json and report.html."),
    hours: float | None = typer.Option(None, "--hours", help="Override the shift length."),
) -> None:
    """Simulate a whole warehouse shift (docs/simulation.md); write kpis.json and report.html."""
    from simulators.warehouse.runner import resolve, run_to_dir
    from simulators.warehouse.scenario import ScenarioError

    try:
        label, sc = resolve(scenario, hours)
    except ScenarioError as exc:
        raise _scenario_error(exc) from None
    with typer.progressbar(length=1000, label=f"simulating {label}") as bar:
        done = [0]

        def advance(fraction: float) -> None:
            step = int(fraction * 1000)
            bar.update(step - done[0])
            done[0] = step

        result = run_to_dir(sc, out, advance)
    k = result["kpis"]
    typer.echo(
        f"{k['orders_shipped']} orders shipped, {k['throughput']['orders_per_hour']} /h, "
        f"processing {k['order_processing_time_min']['mean']} min, "
        f"travel/pick {k['travel_per_pick_m']} m -> {out}/kpis.json, {out}/report.html"
    )


@app.command()
def compare(
    scenarios: list[str] = typer.Argument(
        ..., help="Scenario files or example names, each optionally FILE@name=value,..."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for kpis.json and report.html."),
    hours: float | None = typer.Option(None, "--hours", help="Override every shift length."),
) -> None:
    """Simulate several scenarios or policies; side-by-side table and plots."""
    from simulators.warehouse.runner import compare_to_dir, resolve
    from simulators.warehouse.scenario import ScenarioError

    try:
        named = [resolve(s, hours) for s in scenarios]
    except ScenarioError as exc:
        raise _scenario_error(exc) from None
    with typer.progressbar(length=len(named), label="simulating") as bar:
        results = compare_to_dir(named, out, lambda k: bar.update(1))
    for (name, _), r in zip(named, results, strict=True):
        k = r["kpis"]
        typer.echo(
            f"{name}: {k['throughput']['orders_per_hour']} orders/h, "
            f"travel/pick {k['travel_per_pick_m']} m"
        )
    typer.echo(f"-> {out}/kpis.json, {out}/report.html")


@app.command()
def sweep(
    scenario: str = typer.Argument(..., help="Scenario YAML file, or small/medium/peak."),
    grid: list[str] = typer.Option(
        [], "--grid", help="name=v1,v2,... (dotted scenario field); repeat for more."
    ),
    replications: int = typer.Option(3, "--replications", "-r", min=1, help="Runs per variant."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory for kpis.json and report.html."),
    hours: float | None = typer.Option(None, "--hours", help="Override the shift length."),
) -> None:
    """Run a grid of variants across processes; mean and 95 % confidence interval per KPI."""
    from simulators.warehouse.runner import resolve, sweep_to_dir
    from simulators.warehouse.scenario import ScenarioError
    from simulators.warehouse.sweep import parse_grid

    try:
        _, sc = resolve(scenario, hours)
        parsed = parse_grid(grid)
        from simulators.warehouse.sweep import variants

        total = len(variants(sc, parsed)) * replications
    except ScenarioError as exc:
        raise _scenario_error(exc) from None
    with typer.progressbar(length=total, label="sweeping") as bar:
        rows = sweep_to_dir(sc, parsed, replications, workers, out, lambda d, n: bar.update(1))
    for row in rows:
        s = row["stats"]["order_processing_time_min"]
        t = row["stats"]["orders_per_hour"]
        typer.echo(
            f"{row['variant']}: {t['mean']:.1f} orders/h "
            f"[{t['ci_low']:.1f}, {t['ci_high']:.1f}], processing {s['mean']:.1f} min "
            f"[{s['ci_low']:.1f}, {s['ci_high']:.1f}]"
        )
    typer.echo(f"-> {out}/kpis.json, {out}/report.html")

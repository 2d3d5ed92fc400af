"""`whs central ...`: serve the API with ingest, migrate, seed, manage users."""

from __future__ import annotations

import typer

from whs.runtime import setup_logging, wait_for_shutdown

app = typer.Typer(help="Central WMS service.", no_args_is_help=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="TCP port."),
    ingest: bool = typer.Option(True, help="Run an ingest worker in this process."),
    fleet_config: str = typer.Option(
        "",
        envvar="WHS_FLEET_CONFIG",
        help="Fleet file (layout, AGVs, OPC UA controllers, arm zones): run the AGV fleet.",
    ),
    log_level: str = typer.Option("info"),
) -> None:
    """Serve the REST API (and an ingest worker, and the AGV fleet) with WHS_* settings."""
    import uvicorn

    from central.app import create_app

    setup_logging(log_level)
    services = []
    if fleet_config:
        from whs.fleet_runtime import FleetConfigError, fleet_service

        try:
            services.append(fleet_service(fleet_config))
        except FleetConfigError as exc:
            typer.echo(f"fleet: {exc}", err=True)
            raise typer.Exit(2) from None
    app_ = create_app(run_ingest=ingest, services=services)
    uvicorn.run(app_, host=host, port=port, log_level=log_level)


@app.command()
def ingest(
    client_id: str = typer.Option(
        "", help="Fixed MQTT client id (persistent session); default WHS_INGEST_CLIENT_ID."
    ),
    log_level: str = typer.Option("info"),
) -> None:
    """Run one ingest worker (no API) in the shared subscription until SIGINT or SIGTERM."""
    from central.db.engine import make_engine, make_session_factory
    from central.deps import Container
    from central.ingest.consumer import IngestWorker
    from central.settings import get_settings

    setup_logging(log_level)
    settings = get_settings()
    if client_id:
        settings = settings.model_copy(update={"ingest_client_id": client_id})
    engine = make_engine(settings.database_url)
    container = Container(settings, make_session_factory(engine))
    worker = IngestWorker(settings, container.sessions, container.tolerance)
    worker.start()
    typer.echo(f"ingest worker {worker.client_id} on {settings.mqtt_host}:{settings.mqtt_port}")
    try:
        wait_for_shutdown()
    finally:
        worker.stop()
        engine.dispose()
        typer.echo(f"ingest worker stopped after {worker.processed} message(s)")


@app.command()
def migrate() -> None:
    """Apply database migrations (WHS_DATABASE_URL)."""
    from central.db.engine import make_engine
    from central.db.migrate import upgrade
    from central.settings import get_settings

    upgrade(make_engine(get_settings().database_url))
    typer.echo("database is at the latest migration")


@app.command()
def seed(
    site: str = typer.Option("wh1"),
    user_password: str = typer.Option("", help="Create demo users with it."),
) -> None:
    """Seed the demo warehouse (site, docks, devices, locations, SKUs)."""
    from central.app import prepare_database
    from central.db.engine import make_engine, make_session_factory, transaction
    from central.deps import Container
    from central.seed import seed_demo
    from central.settings import get_settings

    settings = get_settings()
    container = Container(settings, make_session_factory(make_engine(settings.database_url)))
    prepare_database(container)
    with transaction(container.sessions) as session:
        seed_demo(session, site, user_password or None)
    typer.echo(f"site {site} seeded")

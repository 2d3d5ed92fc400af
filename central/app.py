"""Composition root of the central service: settings, database, routers, ingest worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from central.auth import api as auth_api
from central.auth import service as auth_service
from central.commands import api as commands_api
from central.commands.mqtt import EdgeLink
from central.common.errors import DomainError
from central.db.engine import make_engine, make_session_factory, transaction
from central.db.migrate import upgrade
from central.deps import Container
from central.edges import api as edges_api
from central.fleet import api as fleet_api
from central.inbound import api as inbound_api
from central.inbound import putaway_api
from central.ingest import api as ingest_api
from central.ingest.consumer import IngestWorker
from central.inventory import api as inventory_api
from central.ops import api as ops_api
from central.orders import api as orders_api
from central.outbound import api as outbound_api
from central.outbox import api as outbox_api
from central.outbox.webhooks import WebhookDispatcher
from central.settings import Settings, get_settings
from central.stations import api as stations_api
from central.stations.link import CommandArmLink
from central.stations.manager import StationManager
from central.stations.store import SqlPickTaskStore
from central.telemetry import api as telemetry_api
from central.telemetry.history import HISTORY_KEY, history_for
from central.web.setup import install as install_web

logger = logging.getLogger(__name__)

# started after the database, the edge link and the station manager, stopped before them
Service = Callable[[FastAPI, Container], AbstractContextManager[None]]


def create_app(
    settings: Settings | None = None,
    run_ingest: bool | None = None,
    services: Sequence[Service] = (),
) -> FastAPI:
    """The FastAPI app wired to the database (migrated at start) and, optionally, ingest;
    `services` run during the app's lifespan (the AGV fleet of `whs central serve`)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    container = Container(settings=settings, sessions=make_session_factory(engine))
    ingest_on = settings.ingest_enabled if run_ingest is None else run_ingest
    history = history_for(settings)  # InfluxDB or the SQL table, reached through the session
    container.sessions.configure(info={HISTORY_KEY: history})

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        prepare_database(container)
        worker = (
            IngestWorker(settings, container.sessions, container.tolerance) if ingest_on else None
        )
        if worker:
            worker.start()
        app.state.ingest = worker
        link = EdgeLink(settings, container.sessions) if ingest_on else None
        if link:
            link.start()
        app.state.edge_link = link
        stations = (
            StationManager(
                CommandArmLink(container.sessions, lambda: link, settings.site),
                store=SqlPickTaskStore(container.sessions),
            )
            if link
            else None
        )
        if stations:
            stations.restore()  # unfinished pick tasks of the last run
            stations.start()
        app.state.stations = stations  # robot-arm pick tasks (central/stations)
        dispatcher = WebhookDispatcher(container.sessions) if settings.webhooks_enabled else None
        if dispatcher:
            dispatcher.start()
        running = ExitStack()
        try:
            for service in services:
                running.enter_context(service(app, container))
            yield
        finally:
            running.close()
            if stations:
                stations.stop()
            if dispatcher:
                dispatcher.stop()
            if link:
                link.stop()
            if worker:
                worker.stop()
            history.close()
            engine.dispose()

    app = FastAPI(
        title="whs central",
        version="0.1.0",
        description="Warehouse management: inventory with a stock ledger, receiving, devices.",
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.db_gate = asyncio.Semaphore(settings.db_concurrency)
    for module in (
        ops_api,
        auth_api,
        inventory_api,
        inbound_api,
        telemetry_api,
        ingest_api,
        orders_api,
        outbound_api,
        outbox_api,
    ):
        app.include_router(module.router)
    for module in (commands_api, edges_api):
        app.include_router(module.router)
    app.state.fleet = None  # a FleetManager, set by a composition root that runs one
    app.include_router(fleet_api.router)
    app.state.stations = None
    app.include_router(stations_api.router)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _out_of_range)  # PostgreSQL: integer/numeric/text range
    app.add_exception_handler(OverflowError, _out_of_range)  # SQLite: an int beyond 64 bits
    app.include_router(putaway_api.router)
    install_web(app)  # handheld screens (/h/) and the dashboard (/dash/)
    return app


def prepare_database(container: Container) -> None:
    """Run migrations and make sure an admin account exists."""
    engine = container.sessions.kw["bind"]
    upgrade(engine)
    settings = container.settings
    with transaction(container.sessions) as session:
        if auth_service.ensure_admin(
            session, settings.admin_username, settings.admin_password.get_secret_value()
        ):
            logger.info("created admin user %r", settings.admin_username)


async def _out_of_range(_request: Request, exc: Exception) -> JSONResponse:
    """A value the database cannot hold (an id beyond 64 bits, too long a text): bad input."""
    logger.warning("value out of range for the database: %s", str(exc).splitlines()[0][:200])
    return JSONResponse(
        status_code=422,
        content={"detail": "a value is out of range for the database", "error": "OutOfRange"},
    )


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, DomainError) else 500
    return JSONResponse(
        status_code=status, content={"detail": str(exc), "error": type(exc).__name__}
    )


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors]
    return JSONResponse(
        status_code=422,
        content={"detail": "; ".join(parts) or "invalid request", "errors": _plain(errors)},
    )


def _plain(errors: object) -> object:
    """Validation errors with only JSON-safe values (ctx may hold exceptions or Decimals)."""
    if isinstance(errors, list):
        return [_plain(e) for e in errors]
    if isinstance(errors, dict):
        return {k: _plain(v) for k, v in errors.items() if k != "ctx"}
    if isinstance(errors, tuple):
        return [_plain(e) for e in errors]
    return errors if isinstance(errors, str | int | float | bool) or errors is None else str(errors)

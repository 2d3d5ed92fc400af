"""Small helpers shared by tests: a migrated, seeded database and signed-in API clients."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from central.app import Service, create_app, prepare_database
from central.db.engine import make_engine, make_session_factory
from central.deps import Container
from central.seed import seed_demo
from central.settings import Settings

USER_PASSWORD = "test-pass"


def settings_for(database_url: str, **overrides: object) -> Settings:
    """Dev-mode settings on `database_url`."""
    return Settings(database_url=database_url, **overrides)  # type: ignore[arg-type]


@contextmanager
def seeded_sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """A migrated database with the demo warehouse; yields its session factory."""
    engine = make_engine(database_url)
    container = Container(settings_for(database_url), make_session_factory(engine))
    prepare_database(container)
    with container.sessions.begin() as session:
        seed_demo(session, "wh1", USER_PASSWORD)
    try:
        yield container.sessions
    finally:
        engine.dispose()


@contextmanager
def api_client(
    settings: Settings, seed: bool = True, services: Sequence[Service] = ()
) -> Iterator[TestClient]:
    """A TestClient of the app (no ingest worker, these services) on a seeded database."""
    if seed:
        with seeded_sessions(settings.database_url):
            pass
    with TestClient(create_app(settings, run_ingest=False, services=services)) as client:
        yield client


def sign_in(client: TestClient, username: str, password: str = USER_PASSWORD) -> dict[str, str]:
    """Authorization header for `username`."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def wait_for(predicate: Callable[[], Any], timeout_s: float = 10.0, step_s: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy; returns its value (or the last falsy one)."""
    deadline = time.monotonic() + timeout_s
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(step_s)
        value = predicate()
    return value

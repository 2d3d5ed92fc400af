"""Shared fixtures: databases (SQLite and a private PostgreSQL schema), broker, API clients."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    """The PostgreSQL server tests use: WHS_TEST_POSTGRES_URL, else the local one."""
    return os.environ.get("WHS_TEST_POSTGRES_URL", DEFAULT_PG)


def _psycopg_url(url: str) -> str:
    return (
        "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url
    )


@contextmanager
def private_postgres_schema() -> Iterator[str]:
    """A URL whose connections live in a fresh, private schema, dropped afterwards."""
    base = postgres_base_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_psycopg_url(base), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # pragma: no cover - tells the user what to fix
        admin.dispose()
        raise RuntimeError(
            f"PostgreSQL at {base} is not reachable ({exc}); run `bash scripts/ensure_services.sh`"
            " or set WHS_TEST_POSTGRES_URL"
        ) from exc
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh private PostgreSQL schema for one test."""
    with private_postgres_schema() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'whs.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'whs.db'}"
    return str(request.getfixturevalue("postgres_url"))

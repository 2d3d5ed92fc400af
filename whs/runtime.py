"""What every long-running `whs` command shares: logging, config errors, waiting for a signal."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer

T = TypeVar("T")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str) -> None:
    """Log to stderr at `level` (a name such as INFO)."""
    logging.basicConfig(level=level.upper(), format=LOG_FORMAT)


def load_config(loader: Callable[[Path], T], path: Path, error: type[Exception]) -> T:
    """Load a config file; on `error`, print it and exit with code 2."""
    try:
        return loader(path)
    except error as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def wait_for_shutdown() -> None:
    """Block until SIGINT or SIGTERM arrives."""
    done = threading.Event()
    signal.signal(signal.SIGINT, lambda _signum, _frame: done.set())
    signal.signal(signal.SIGTERM, lambda _signum, _frame: done.set())
    while not done.wait(1.0):
        pass

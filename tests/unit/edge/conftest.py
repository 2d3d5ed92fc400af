from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "edge"


@pytest.fixture
def fixture_bytes():
    """Read a JSON fixture of tests/data/edge as the bytes a device would publish."""

    def read(name: str) -> bytes:
        return (DATA / name).read_bytes()

    return read

"""Shared scenario builders for the simulation tests."""

from __future__ import annotations

from typing import Any

import pytest


def erlang_scenario(hours: float = 150.0, seed: int = 3) -> dict[str, Any]:
    """Poisson single-line orders, instant picking, 3 pack stations with exponential service."""
    return {
        "name": "erlang-c",
        "seed": seed,
        "shift_hours": hours,
        "layout": {"aisles": 1, "aisle_length": 10, "slots_per_aisle": 5},
        "skus": {"count": 5, "skew": 0},
        "demand": {"orders_per_hour": [144], "lines_per_order_mean": 1, "qty_per_line_mean": 1},
        "stock": {"pickface_hours": 100000},
        "resources": {
            "pickers": {"count": 20, "speed_m_s": 1e6, "pick_s": 0},
            "pack_stations": {
                "count": 3,
                "pack_s": 60,
                "per_item_s": 0,
                "service": "exponential",
                "scale": None,
            },
        },
        "policies": {"replenishment": {"policy": "none"}, "wave_minutes": 0, "batching": "single"},
    }


@pytest.fixture
def erlang() -> dict[str, Any]:
    return erlang_scenario()

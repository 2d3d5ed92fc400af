"""Demand forecasting per period: exponential smoothing, and Croston for intermittent demand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Forecast:
    """Forecast demand per period and the spread of the one-step-ahead errors."""

    mean: float
    error_std: float


def exponential_smoothing(demand: Sequence[float], alpha: float = 0.2) -> Forecast:
    """Simple exponential smoothing: the level after the last period is the forecast."""
    if not 0 < alpha <= 1:
        raise ValueError("alpha must be in (0, 1]")
    history = np.asarray(demand, dtype=float)
    if history.size == 0:
        return Forecast(0.0, 0.0)
    level, errors = float(history[0]), []
    for d in history[1:]:
        errors.append(d - level)
        level += alpha * (d - level)
    return Forecast(level, _rmse(errors))


def croston(demand: Sequence[float], alpha: float = 0.1, sba: bool = True) -> Forecast:
    """Croston's method: smooth demand sizes and intervals separately (SBA bias correction)."""
    if not 0 < alpha <= 1:
        raise ValueError("alpha must be in (0, 1]")
    history = np.asarray(demand, dtype=float)
    nonzero = np.flatnonzero(history > 0)
    if nonzero.size == 0:
        return Forecast(0.0, 0.0)
    size, interval = float(history[nonzero[0]]), float(nonzero[0] + 1)
    since, errors = 0, []
    factor = 1 - alpha / 2 if sba else 1.0
    for d in history[nonzero[0] + 1 :]:
        since += 1
        errors.append(d - factor * size / interval)
        if d > 0:
            size += alpha * (d - size)
            interval += alpha * (since - interval)
            since = 0
    return Forecast(factor * size / interval, _rmse(errors))


def _rmse(errors: list[float]) -> float:
    return float(np.sqrt(np.mean(np.square(errors)))) if errors else 0.0

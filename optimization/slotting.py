"""Slotting: which SKU goes to which location, judged by expected travel per order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


def cube_per_order_index(cube: ArrayLike, picks_per_period: ArrayLike) -> np.ndarray:
    """COI = storage space needed / pick frequency; low COI belongs near the depot."""
    freq = np.maximum(np.asarray(picks_per_period, dtype=float), 1e-12)
    return np.asarray(cube, dtype=float) / freq


def coi_assignment(coi: ArrayLike, location_cost: ArrayLike) -> np.ndarray:
    """Dedicated storage by COI: lowest COI to the cheapest location. Returns location per SKU."""
    if np.size(coi) > np.size(location_cost):
        raise ValueError("more SKUs than locations")
    skus = np.argsort(coi, kind="stable")
    locs = np.argsort(location_cost, kind="stable")[: np.size(coi)]
    out = np.empty(np.size(coi), dtype=np.int64)
    out[skus] = locs
    return out


def abc_assignment(
    picks_per_period: ArrayLike,
    location_cost: ArrayLike,
    shares: ArrayLike = (0.2, 0.3, 0.5),
    seed: int = 0,
) -> np.ndarray:
    """Class-based storage: fastest SKUs (class A) in the cheapest zone, random within a class."""
    rng = np.random.default_rng(seed)
    n = int(np.size(picks_per_period))
    skus = np.argsort(-np.asarray(picks_per_period, dtype=float), kind="stable")
    locs = np.argsort(location_cost, kind="stable")[:n]
    bounds = np.round(np.cumsum(shares) / np.sum(shares) * n).astype(int)
    out = np.empty(n, dtype=np.int64)
    start = 0
    for end in bounds:
        zone = locs[start:end].copy()
        rng.shuffle(zone)
        out[skus[start:end]] = zone
        start = end
    return out


def random_assignment(n_skus: int, n_locations: int, seed: int = 0) -> np.ndarray:
    """Baseline: random storage."""
    return np.random.default_rng(seed).permutation(n_locations)[:n_skus]


@dataclass(frozen=True)
class Move:
    """Put `sku` into `location` (a swap is two moves)."""

    sku: int
    location: int


def reslotting_plan(
    current: ArrayLike,
    picks_per_period: ArrayLike,
    location_cost: ArrayLike,
    max_moves: int,
) -> list[Move]:
    """Greedy swaps with the largest saving (frequency x location cost), at most `max_moves`."""
    loc = np.asarray(current, dtype=int).copy()
    freq = np.asarray(picks_per_period, dtype=float)
    cost = np.asarray(location_cost, dtype=float)
    moves: list[Move] = []
    while len(moves) + 2 <= max_moves:
        c = cost[loc]
        # saving of swapping i and j: f_i c_i + f_j c_j - f_i c_j - f_j c_i = (f_i - f_j)(c_i - c_j)
        gain = (freq[:, None] - freq[None, :]) * (c[:, None] - c[None, :])
        i, j = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if gain[i, j] <= 1e-12:
            break
        loc[i], loc[j] = loc[j], loc[i]
        moves += [Move(int(i), int(loc[i])), Move(int(j), int(loc[j]))]
    return moves


def expected_travel(assignment: ArrayLike, picks_per_period: ArrayLike,
                    location_cost: ArrayLike) -> float:  # fmt: skip
    """Expected round-trip cost per pick line: frequency-weighted location cost."""
    freq = np.asarray(picks_per_period, dtype=float)
    return float(freq @ np.asarray(location_cost, dtype=float)[np.asarray(assignment)] / freq.sum())

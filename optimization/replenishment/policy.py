"""Inventory policies: safety stock, min/max, and the exact (s, S) policy for discrete demand."""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def safety_stock(error_std: float, lead_time: float, service_level: float) -> float:
    """Stock held against forecast error over the lead time for a cycle service level."""
    if not 0 < service_level < 1:
        raise ValueError("service level must be in (0, 1)")
    return NormalDist().inv_cdf(service_level) * error_std * math.sqrt(lead_time)


@dataclass(frozen=True)
class MinMax:
    """Reorder when stock falls to `minimum`, order up to `maximum`."""

    minimum: float
    maximum: float


def min_max(
    mean_demand: float,
    error_std: float,
    lead_time: float,
    service_level: float,
    order_quantity: float,
) -> MinMax:
    """Min = lead-time demand + safety stock; max = min + the order quantity (e.g. EOQ)."""
    minimum = mean_demand * lead_time + safety_stock(error_std, lead_time, service_level)
    return MinMax(minimum, minimum + order_quantity)


def economic_order_quantity(annual_demand: float, order_cost: float, holding_cost: float) -> float:
    """Wilson's EOQ: sqrt(2 D K / h)."""
    return math.sqrt(2 * annual_demand * order_cost / holding_cost)


def poisson_pmf(mean: float, tail: float = 1e-12) -> np.ndarray:
    """P(D = k) for k = 0.. until the remaining tail mass is below `tail`."""
    if mean < 0:
        raise ValueError("mean must be non-negative")
    probs = [math.exp(-mean)]
    total, k = probs[0], 0
    while 1 - total > tail and k < 10 * mean + 100:
        k += 1
        probs.append(probs[-1] * mean / k)
        total += probs[-1]
    return np.asarray(probs)


@dataclass(frozen=True)
class SSPolicy:
    """Order up to S whenever the inventory position is at or below s; long-run cost/period."""

    s: int
    S: int
    cost: float


class _Costs:
    """One-period expected cost G(y) and the renewal quantities of Zheng & Federgruen (1991)."""

    def __init__(self, pmf: np.ndarray, holding: float, stockout: float, fixed: float) -> None:
        self.pmf, self.h, self.p, self.k = pmf, holding, stockout, fixed
        self._g: dict[int, float] = {}
        self.m = [1.0 / (1.0 - pmf[0])]
        self.big_m = [0.0, self.m[0]]
        self.demand = np.arange(len(pmf))

    def g(self, y: int) -> float:
        if y not in self._g:
            left = y - self.demand
            self._g[y] = float(
                self.pmf @ (self.h * np.maximum(left, 0) + self.p * np.maximum(-left, 0))
            )
        return self._g[y]

    def _grow(self, j: int) -> None:
        pmf = self.pmf
        while len(self.m) <= j:
            n = len(self.m)
            upto = min(n, len(pmf) - 1)
            acc = sum(pmf[k] * self.m[n - k] for k in range(1, upto + 1))
            self.m.append(acc / (1.0 - pmf[0]))
            self.big_m.append(self.big_m[-1] + self.m[-1])

    def c(self, s: int, big_s: int) -> float:
        """Long-run average cost per period of the (s, S) policy."""
        n = big_s - s
        self._grow(n)
        total = self.k + sum(self.m[j] * self.g(big_s - j) for j in range(n))
        return total / self.big_m[n]


def optimal_ss_policy(pmf: np.ndarray, holding: float, stockout: float, fixed: float) -> SSPolicy:
    """Exact optimal (s, S) for i.i.d. discrete demand, backorders, zero lead time (Z-F 1991)."""
    if holding <= 0 or stockout <= 0 or fixed < 0:
        raise ValueError("holding and stockout costs must be positive, the fixed cost >= 0")
    if pmf[0] >= 1:
        return SSPolicy(-1, 0, 0.0)
    costs = _Costs(np.asarray(pmf, dtype=float), holding, stockout, fixed)
    # y*: the myopic minimiser of G, which is convex
    y_star = 0
    while costs.g(y_star + 1) < costs.g(y_star):
        y_star += 1
    while costs.g(y_star - 1) < costs.g(y_star):
        y_star -= 1
    s = y_star - 1
    while costs.c(s, y_star) > costs.g(s):
        s -= 1
    best_s, best_big_s = s, y_star
    best = costs.c(s, y_star)
    big_s = y_star + 1
    while costs.g(big_s) <= best:
        if costs.c(best_s, big_s) < best:
            best_big_s = big_s
            while costs.c(best_s, best_big_s) <= costs.g(best_s + 1):
                best_s += 1
            best = costs.c(best_s, best_big_s)
        big_s += 1
    return SSPolicy(best_s, best_big_s, float(best))

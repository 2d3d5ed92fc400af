"""Forecasts, safety stock and (s, S) policies, checked against independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from optimization.replenishment.forecast import croston, exponential_smoothing
from optimization.replenishment.policy import (
    economic_order_quantity,
    min_max,
    optimal_ss_policy,
    poisson_pmf,
    safety_stock,
)


def _markov_cost(pmf, h, p, k, s, big_s):
    """Long-run cost of (s, S) from the stationary distribution of the post-order stock."""
    states = list(range(s + 1, big_s + 1))
    n = len(states)
    trans, orders = np.zeros((n, n)), np.zeros(n)
    for i, y in enumerate(states):
        for d, pr in enumerate(pmf):
            if y - d <= s:
                trans[i, n - 1] += pr
                orders[i] += pr
            else:
                trans[i, y - d - s - 1] += pr
    a = np.vstack([trans.T - np.eye(n), np.ones(n)])
    b = np.zeros(n + 1)
    b[-1] = 1
    pi = np.linalg.lstsq(a, b, rcond=None)[0]
    g = [
        sum(pr * (h * max(y - d, 0) + p * max(d - y, 0)) for d, pr in enumerate(pmf))
        for y in states
    ]
    return float(pi @ g + k * (pi @ orders))


@pytest.mark.parametrize(
    "mean,h,p,k", [(10, 1, 9, 64), (5, 1, 9, 5), (3, 2, 20, 30), (1, 1, 4, 10)]
)
def test_ss_policy_is_the_best_of_all_policies_by_brute_force(mean, h, p, k):
    pmf = poisson_pmf(mean)
    policy = optimal_ss_policy(pmf, h, p, k)
    assert policy.cost == pytest.approx(_markov_cost(pmf, h, p, k, policy.s, policy.S))
    best = min(
        _markov_cost(pmf, h, p, k, s, big_s)
        for s in range(-3, 3 * mean + 3)
        for big_s in range(s + 1, 5 * mean + 10)
    )
    assert policy.cost == pytest.approx(best)


def test_ss_policy_reproduces_the_published_example():
    # Zheng & Federgruen (1991), Poisson mean 10, h = 1, p = 9, K = 64
    policy = optimal_ss_policy(poisson_pmf(10), 1, 9, 64)
    assert (policy.s, policy.S) == (6, 40)
    assert policy.cost == pytest.approx(35.02, abs=0.005)


def test_higher_fixed_cost_means_larger_less_frequent_orders():
    cheap = optimal_ss_policy(poisson_pmf(10), 1, 9, 5)
    dear = optimal_ss_policy(poisson_pmf(10), 1, 9, 200)
    assert dear.S - dear.s > cheap.S - cheap.s
    assert dear.cost > cheap.cost


def test_exponential_smoothing_tracks_a_level_shift():
    forecast = exponential_smoothing([10] * 20 + [20] * 20, alpha=0.3)
    assert 19 < forecast.mean <= 20
    assert exponential_smoothing([7, 7, 7, 7]).mean == 7
    assert exponential_smoothing([7, 7, 7, 7]).error_std == 0


def test_croston_estimates_the_rate_of_intermittent_demand():
    rng = np.random.default_rng(1)
    demand = np.where(rng.random(400) < 0.25, rng.integers(2, 7, 400), 0)  # mean 0.25 * 4 = 1
    forecast = croston(demand, alpha=0.05)
    assert forecast.mean == pytest.approx(1.0, rel=0.2)
    # smoothing the raw series would swing with every spike; Croston is steadier
    assert croston([0, 0, 6, 0, 0, 6, 0, 0, 6], alpha=0.1, sba=False).mean == pytest.approx(2.0)


def test_safety_stock_and_min_max_grow_with_service_level_and_lead_time():
    assert safety_stock(10, 4, 0.95) == pytest.approx(1.6449 * 10 * 2, rel=1e-3)
    assert safety_stock(10, 4, 0.99) > safety_stock(10, 4, 0.95)
    policy = min_max(mean_demand=5, error_std=2, lead_time=3, service_level=0.9, order_quantity=40)
    assert policy.minimum == pytest.approx(15 + 1.2816 * 2 * np.sqrt(3), rel=1e-3)
    assert policy.maximum == pytest.approx(policy.minimum + 40)
    assert economic_order_quantity(1000, 50, 4) == pytest.approx(158.11, rel=1e-3)
    with pytest.raises(ValueError):
        safety_stock(1, 1, 1.0)

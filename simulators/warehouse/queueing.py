"""Queueing theory used to validate the engine: Erlang C for an M/M/c queue."""

from __future__ import annotations

import math


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Probability that an arrival waits in an M/M/c queue (Erlang's C formula)."""
    a = arrival_rate / service_rate
    rho = a / servers
    if rho >= 1:
        raise ValueError("the queue is unstable (utilisation >= 1)")
    top = a**servers / math.factorial(servers) / (1 - rho)
    return top / (sum(a**k / math.factorial(k) for k in range(servers)) + top)


def mmc_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue (before service) of an M/M/c queue, in the rates' time unit."""
    return erlang_c(arrival_rate, service_rate, servers) / (servers * service_rate - arrival_rate)

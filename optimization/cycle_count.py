"""Cycle counting: ABC classes, counts per class, spread evenly over working days."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def abc_classes(value: Sequence[float], cut: Sequence[float] = (0.8, 0.95)) -> list[str]:
    """A/B/C by cumulative share of value (e.g. unit cost x annual usage), highest first."""
    v = np.asarray(value, dtype=float)
    order = np.argsort(-v, kind="stable")
    share = np.cumsum(v[order]) / max(v.sum(), 1e-12)
    labels = np.empty(len(v), dtype=object)
    # an item is A while the share before it is still under the A cut
    before = np.concatenate([[0.0], share[:-1]])
    labels[order] = np.where(before < cut[0], "A", np.where(before < cut[1], "B", "C"))
    return [str(x) for x in labels]


def count_schedule(
    classes: Sequence[str],
    counts_per_year: dict[str, int],
    working_days: int,
    daily_capacity: int,
) -> list[list[int]]:
    """Items to count on each working day: each item its class's count, evenly spaced."""
    total = sum(counts_per_year[c] for c in classes)
    if total > working_days * daily_capacity:
        raise ValueError(f"{total} counts do not fit {working_days} days x {daily_capacity}")
    days: list[list[int]] = [[] for _ in range(working_days)]
    # stagger items of the same class so the load is even from the first day
    wanted = []
    for item, cls in enumerate(classes):
        f = counts_per_year[cls]
        phase = (item * 0.618034) % 1.0
        wanted += [((k + phase) * working_days / f, item) for k in range(f)]
    for ideal, item in sorted(wanted):
        target = min(int(ideal), working_days - 1)
        # nearest day with room that does not already count this item
        for delta in range(working_days):
            for day in (target + delta, target - delta):
                if (
                    0 <= day < working_days
                    and len(days[day]) < daily_capacity
                    and (item not in days[day])
                ):
                    days[day].append(item)
                    break
            else:
                continue
            break
    return days

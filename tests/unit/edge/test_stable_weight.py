"""Stable-weight detection: settles, never settles when unsettled, one event per load, re-arms."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from firmware_interfaces.validation import validate

from edge.converters.scale import StableWeightDetector, WeightSample

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def feed(
    detector: StableWeightDetector, weights: list[float], motion: list[bool | None] | None = None
):
    events = []
    for i, kg in enumerate(weights):
        flag = motion[i] if motion else None
        event = detector.add(WeightSample("scale-01", i, T0 + timedelta(seconds=0.2 * i), kg, flag))
        if event:
            events.append((i, event))
    return events


def detector(**kw) -> StableWeightDetector:
    return StableWeightDetector(
        "scale-01", **{"window": 5, "max_spread_kg": 0.2, "min_load_kg": 2.0, **kw}
    )


def settling(load: float, n: int) -> list[float]:
    return [load + 20 * math.exp(-0.5 * i) * math.sin(2.5 * i) for i in range(n)]


def test_a_load_settles_into_one_event_with_the_window_mean():
    weights = [0.0] * 3 + settling(412.4, 25) + [412.4] * 20
    [(i, event)] = feed(detector(), weights)

    validate("event_stable_weight", event.data)
    assert event.type == "scale.stable_weight" and event.source == "scale-01"
    assert abs(event.data["kg"] - 412.4) < 0.2
    assert event.data["samples"] == 5 and event.data["spread_kg"] <= 0.2
    assert event.data["settled_at"] == event.to_wire()["ts"]
    assert i > 3 + 5  # not before the oscillation died down


def test_an_oscillating_load_never_settles():
    weights = [300 + 1.5 * math.sin(1.3 * i) for i in range(200)]
    assert feed(detector(), weights) == []


def test_the_scales_motion_flag_blocks_a_steady_looking_window():
    weights = [50.0] * 30
    assert feed(detector(), weights, motion=[True] * 30) == []
    # once motion clears for a whole window, it settles
    events = feed(detector(), weights, motion=[True] * 10 + [False] * 20)
    assert [i for i, _ in events] == [14]


def test_light_loads_below_min_load_are_not_reported():
    assert feed(detector(min_load_kg=2.0), [1.9] * 50) == []


def test_one_event_per_load_and_rearmed_after_the_load_is_removed():
    weights = [80.0] * 30 + [80.1] * 30 + [0.0] * 3 + [25.0] * 10
    events = feed(detector(), weights)
    assert [round(e.data["kg"], 1) for _, e in events] == [80.0, 25.0]


def test_a_brief_dip_that_stays_above_min_load_does_not_rearm():
    weights = [80.0] * 10 + [40.0] * 10 + [80.0] * 10
    assert len(feed(detector(), weights)) == 1

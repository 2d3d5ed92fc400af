"""Scenario files: the shipped examples load, and mistakes are reported by field name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from simulators.warehouse.scenario import (
    ScenarioError,
    example,
    load_scenario,
    scenario_from_dict,
    with_overrides,
)
from simulators.warehouse.sweep import mean_ci, parse_grid, variants


@pytest.mark.parametrize("name", ["small", "medium", "peak"])
def test_examples_load(name: str) -> None:
    sc = load_scenario(example(name))
    assert sc.name == name
    assert sc.resources.pickers.count > 0


def test_medium_example_is_the_benchmark_warehouse() -> None:
    sc = load_scenario(example("medium"))
    assert (sc.shift_hours, sc.resources.pickers.count, sc.resources.agvs.count) == (8, 40, 20)


def _base() -> dict[str, Any]:
    return yaml.safe_load(example("small").read_text())


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("resources", "pickers", "speed_m_s"), -1, "resources.pickers.speed_m_s:"),
        (("resources", "arm_stations", "fail_rate"), 1.5, "resources.arm_stations.fail_rate:"),
        (("policies", "slotting"), "alphabetical", "policies.slotting:"),
        (("policies", "routing"), "teleport", "policies.routing:"),
        (("skus", "count"), 100000, "skus.count:"),
        (("demand", "orders_per_hour"), [], "demand.orders_per_hour:"),
        (("layout", "aisle_length"), 4, "layout.aisle_length: AGVs need aisles of at least 4.5 m"),
    ],
)
def test_errors_name_the_field(path: tuple[str, ...], value: Any, message: str) -> None:
    data = _base()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert str(err.value).startswith(message)


def test_unknown_field_and_bad_inbound_entry_are_named() -> None:
    data = _base()
    data["resources"]["agvs"]["colour"] = "red"
    with pytest.raises(ScenarioError, match=r"^resources\.agvs\.colour:"):
        scenario_from_dict(data)
    data = _base()
    data["inbound"][0]["pallets"] = 0
    with pytest.raises(ScenarioError, match=r"^inbound\[0\]\.pallets:"):
        scenario_from_dict(data)


def test_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("layout: [unclosed")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match=r"missing\.yaml"):
        load_scenario(tmp_path / "missing.yaml")


def test_overrides_and_grids() -> None:
    sc = load_scenario(example("small"))
    assert with_overrides(sc, {"resources.agvs.count": 9}).resources.agvs.count == 9
    with pytest.raises(ScenarioError, match=r"resources\.agvs\.colour: no such field"):
        with_overrides(sc, {"resources.agvs.colour": 1})
    grid = parse_grid(["resources.agvs.count=2,4", "policies.routing=exact,s-shape"])
    assert grid == {"resources.agvs.count": [2, 4], "policies.routing": ["exact", "s-shape"]}
    assert len(variants(sc, grid)) == 4
    with pytest.raises(ScenarioError, match="expected name=v1"):
        parse_grid(["agvs"])


def test_confidence_interval() -> None:
    ci = mean_ci([1.0, 2.0, 3.0])
    # mean 2, s = 1, t(0.975, 2) = 4.303: half-width 4.303 / sqrt(3) = 2.484
    assert ci["mean"] == 2.0
    assert ci["ci_high"] - 2.0 == pytest.approx(2.484, abs=1e-3)
    assert mean_ci([5.0])["ci_low"] == 5.0

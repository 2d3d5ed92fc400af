"""The fleet file of `whs central serve`: what it sets up, and errors that name the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from whs.fleet_runtime import FleetConfigError, load_fleet_config, parse_fleet_config

GOOD = {
    "layout": {"generate": {"homes": 3, "width": 25, "stations": 4}},
    "step_s": 0.5,
    "max_base": 4,
    "no_progress_s": 12,
    "vehicles": [
        {"serial": "agv01", "home": "c4_3"},
        {"serial": "acme01", "home": "c6_3", "vendor": "opcua", "controller": "ctl"},
    ],
    "opcua_controllers": [{"id": "ctl", "endpoint": "opc.tcp://127.0.0.1:4842/whs/agv/"}],
    "arm_zones": [{"zone": "ARM", "station": "arm-01", "pick_node": "c2_0", "pack_node": "c2_8"}],
}


def test_a_fleet_file_sets_up_vehicles_vendors_policies_and_arm_zones() -> None:
    setup = parse_fleet_config(GOOD)
    assert setup.homes == {"agv01": "c4_3", "acme01": "c6_3"}
    assert setup.opcua == {"acme01": "ctl"}
    assert setup.controllers[0].kind == "opcua_agv"
    assert setup.controllers[0].methods_object == "ns=2;s=Fleet"
    assert (setup.fleet.step_s, setup.fleet.max_base, setup.fleet.no_progress_s) == (0.5, 4, 12.0)
    assert isinstance(setup.fleet.max_base, int)
    assert setup.fleet.stale_state_s == 75.0  # defaults stay
    assert setup.arm_zones[0].station == "arm-01"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"layout": {}}, "layout"),
        ({"vehicles": []}, "vehicles"),
        ({"vehicles": [{"serial": "agv01", "home": "c0_0"}]}, "vehicles[0]: home 'c0_0'"),
        ({"vehicles": [{"serial": "x", "home": "c4_3", "vendor": "opcua"}]}, "unknown controller"),
        ({"opcua_controllers": [{"id": "ctl"}]}, "opcua_controllers[0]"),
        (
            {
                "arm_zones": [
                    {"zone": "A", "station": "s", "pick_node": "c99_99", "pack_node": "c2_8"}
                ]
            },
            "arm_zones[0]",
        ),
    ],
)
def test_a_bad_fleet_file_is_refused_naming_the_field(change: dict, message: str) -> None:
    with pytest.raises(FleetConfigError, match=re.escape(message)):
        parse_fleet_config({**GOOD, **change})


def test_an_unreadable_fleet_file_names_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "fleet.yaml"
    bad.write_text("vehicles: [")
    with pytest.raises(FleetConfigError, match=re.escape("fleet.yaml")):
        load_fleet_config(bad)

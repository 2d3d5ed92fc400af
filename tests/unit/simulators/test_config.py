"""Stand-ins config: the documented example loads; mistakes get clear errors."""

from __future__ import annotations

import pytest

from simulators.devices.config import (
    GateSim,
    ScaleSim,
    SimConfigError,
    load_standins_config,
    parse_standins_config,
)
from simulators.devices.runner import parse_pallet_message

EXAMPLE = """
site: wh1
broker: {host: 127.0.0.1, port: 1883, tls: false}
seed: 42
time_factor: 1.0
control: {username: sim, password: secret}
docks:
  - dock: DOCK-01
    gate: {id: gate-01, password: secret, read_cycle_s: 0.2, pass_duration_s: 2.0, miss_rate: 0.1,
           duplicate_rate: 0.3, rssi_dbm: -55, rssi_noise_db: 4}
    scale: {id: scale-01, password: secret, sample_period_s: 0.2, noise_kg: 0.02, settle_s: 1.5,
            dwell_s: 4.0, unsettled: false}
"""


def test_the_documented_example_loads(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text(EXAMPLE)
    config = load_standins_config(path)
    assert (config.site, config.seed, config.time_factor, config.control.username) == (
        "wh1",
        42,
        1.0,
        "sim",
    )
    dock = config.dock("DOCK-01")
    assert dock.gate == GateSim("gate-01", "secret", 0.2, 2.0, 0.1, 0.3, -55, 4)
    assert dock.scale == ScaleSim("scale-01", "secret", 0.2, 0.02, 1.5, 4.0, False)
    with pytest.raises(KeyError, match="DOCK-02"):
        config.dock("DOCK-02")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"docks": []}, "config.site: required"),
        ({"site": "wh1", "time_factor": 0}, "time_factor: must be > 0"),
        ({"site": "wh1", "docks": [{"gate": {"id": "g"}}]}, "docks[0].dock: required"),
        (
            {"site": "wh1", "docks": [{"dock": "D", "gate": {"id": "g", "miss_rate": 1.5}}]},
            "miss_rate: must be between",
        ),
        (
            {"site": "wh1", "docks": [{"dock": "D", "scale": {"id": "s", "unsettled": "yes"}}]},
            "expected true or false",
        ),
        (
            {"site": "wh1", "docks": [{"dock": "D", "scale": {"sample_period_s": 1}}]},
            "scale.id: required",
        ),
        ({"site": "wh1", "broker": {"prot": 1}}, "unknown key(s) prot"),
        (
            {"site": "wh1", "docks": [{"dock": "D", "gate": {"id": "x"}, "scale": {"id": "x"}}]},
            "its own id",
        ),
    ],
)
def test_mistakes_are_reported_with_the_field(raw, message):
    with pytest.raises(SimConfigError) as err:
        parse_standins_config(raw)
    assert message in str(err.value)


def test_pallet_control_messages():
    assert parse_pallet_message(b'{"pallet_id": "P1", "epcs": ["AB"], "gross_kg": 12}') == (
        "P1",
        ["AB"],
        12.0,
    )
    for bad, reason in [
        (b"[", "not JSON"),
        (b'{"epcs": "AB", "gross_kg": 1}', "epcs"),
        (b'{"epcs": [], "gross_kg": -1}', "gross_kg"),
    ]:
        with pytest.raises(ValueError, match=reason):
            parse_pallet_message(bad)

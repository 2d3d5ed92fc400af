"""Edge config: the documented example loads with its defaults; mistakes get clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import (
    ConfigError,
    RfidGateConfig,
    ScaleConfig,
    load_edge_config,
    parse_edge_config,
)

EXAMPLE = """
edge_id: edge-01
site: wh1
data_dir: var/edge-01
broker: {host: 127.0.0.1, port: 1883, username: edge-01, password: secret, tls: false}
uplink_broker: null
uplink: {max_batch_events: 500, max_batch_delay_s: 0.2, max_in_flight: 8, ack_timeout_s: 10}
devices:
  - {id: gate-01, kind: rfid_gate, dedup_window_s: 5.0, pass_gap_s: 1.5,
     outer_antennas: [1], inner_antennas: [2]}
  - {id: scale-01, kind: scale, window: 8, max_spread_kg: 0.2, min_load_kg: 2.0}
"""


def test_the_documented_example_loads(tmp_path: Path):
    path = tmp_path / "edge.yaml"
    path.write_text(EXAMPLE)
    config = load_edge_config(path)
    assert (config.edge_id, config.site, config.data_dir) == ("edge-01", "wh1", Path("var/edge-01"))
    assert config.effective_uplink_broker is config.broker
    assert config.broker.username == "edge-01" and config.uplink.ack_timeout_s == 10.0
    assert config.device("gate-01") == RfidGateConfig("gate-01", 5.0, 1.5, (1,), (2,))
    assert config.device("scale-01") == ScaleConfig("scale-01", 8, 0.2, 2.0)


def test_defaults_fill_what_is_left_out():
    config = parse_edge_config(
        {
            "edge_id": "e1",
            "site": "wh1",
            "broker": {},
            "devices": [{"id": "g", "kind": "rfid_gate"}],
        }
    )
    assert config.broker.port == 1883 and config.uplink.max_batch_events == 500
    assert config.uplink.max_in_flight == 8 and config.data_dir == Path("var/e1")
    assert config.uplink.journal == "sqlite"
    assert config.devices[0] == RfidGateConfig("g")


def test_a_separate_uplink_broker():
    config = parse_edge_config(
        {
            "edge_id": "e1",
            "site": "wh1",
            "broker": {},
            "uplink_broker": {"host": "central.example", "tls": True},
        }
    )
    assert config.effective_uplink_broker.host == "central.example"
    assert config.effective_uplink_broker.tls is True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"edge_id": "edge/01"}, "edge_id"),
        ({"broker": {"port": "1883"}}, "broker.port: expected an integer"),
        ({"broker": {"hots": "x"}}, "unknown key(s) hots"),
        ({"uplink": {"max_in_flight": 0}}, "uplink.max_in_flight: must be >= 1"),
        ({"uplink": {"max_batch_events": 20000}}, "at most 10000"),
        ({"uplink": {"journal": "disk"}}, "uplink.journal: expected one of sqlite, memory"),
        ({"devices": [{"id": "g", "kind": "camera"}]}, "devices[0].kind"),
        ({"devices": [{"id": "g", "kind": "scale", "window": 1}]}, "devices[0].window"),
        (
            {
                "devices": [
                    {"id": "g", "kind": "rfid_gate", "outer_antennas": [1], "inner_antennas": [1]}
                ]
            },
            "both outer and inner",
        ),
        (
            {"devices": [{"id": "g", "kind": "scale"}, {"id": "g", "kind": "rfid_gate"}]},
            "duplicate id(s) g",
        ),
        (
            {"devices": [{"id": "g", "kind": "rfid_gate", "pass_gap_s": 0}]},
            "pass_gap_s: must be > 0",
        ),
    ],
)
def test_mistakes_are_reported_with_the_field(change, message):
    raw = {"edge_id": "edge-01", "site": "wh1", "broker": {}, **change}
    with pytest.raises(ConfigError) as err:
        parse_edge_config(raw)
    assert message in str(err.value)


def test_file_errors_name_the_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_edge_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("edge_id: [unclosed")
    with pytest.raises(ConfigError, match=r"bad\.yaml is not valid YAML"):
        load_edge_config(bad)
    no_site = tmp_path / "nosite.yaml"
    no_site.write_text("edge_id: e1\nbroker: {}\n")
    with pytest.raises(ConfigError, match=r"nosite\.yaml: config: edge_id and site are required"):
        load_edge_config(no_site)

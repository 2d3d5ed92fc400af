"""`whs edge run` and `whs sim devices` refuse a bad config with a clear message and exit 2."""

from __future__ import annotations

from typer.testing import CliRunner

from whs.edge_cli import app as edge_app
from whs.sim_cli import app as sim_app


def test_edge_run_with_a_missing_config_says_so(tmp_path):
    result = CliRunner().invoke(edge_app, ["run", "--config", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "cannot read" in result.output and "nope.yaml" in result.output


def test_edge_run_with_a_bad_field_names_it(tmp_path):
    path = tmp_path / "edge.yaml"
    path.write_text("edge_id: e1\nsite: wh1\nbroker: {port: -1}\n")
    result = CliRunner().invoke(edge_app, ["run", "--config", str(path)])
    assert result.exit_code == 2 and "broker.port: must be >= 1" in result.output


def test_sim_devices_with_a_bad_field_names_it(tmp_path):
    path = tmp_path / "sim.yaml"
    path.write_text("site: wh1\ndocks: [{dock: D, gate: {id: g, miss_rate: 2}}]\n")
    result = CliRunner().invoke(sim_app, ["devices", "--config", str(path)])
    assert result.exit_code == 2 and "miss_rate: must be between 0 and 1" in result.output

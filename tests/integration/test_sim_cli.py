"""`whs sim run / compare / sweep` as an engineer uses them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from whs.sim_cli import app

runner = CliRunner()


def test_run_writes_kpis_and_a_self_contained_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "small", "--hours", "1", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    kpis = json.loads((tmp_path / "kpis.json").read_text())
    for key in (
        "order_processing_time_min",
        "throughput",
        "picks_per_picker_hour",
        "travel_per_pick_m",
        "stock_out_rate",
        "utilisation",
    ):
        assert key in kpis
    assert kpis["orders_shipped"] > 0
    page = (tmp_path / "report.html").read_text()
    assert page.count("<svg") >= 5  # throughput, queues, utilisation x2, travel, heatmap
    assert "Heatmap of picks" in page and "Throughput over time" in page
    assert 'src="http' not in page and "<script src" not in page  # nothing fetched


def test_run_reports_a_bad_scenario_by_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlayout: {aisles: 0, aisle_length: 10, slots_per_aisle: 5}\n")
    result = runner.invoke(app, ["run", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "layout.aisles" in result.output


def test_compare_shows_exact_routing_beats_s_shape(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "compare",
            "medium@policies.routing=exact",
            "medium@policies.routing=s-shape",
            "--hours",
            "0.75",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    kpis = json.loads((tmp_path / "kpis.json").read_text())
    exact = kpis["medium@policies.routing=exact"]["travel_per_pick_m"]
    s_shape = kpis["medium@policies.routing=s-shape"]["travel_per_pick_m"]
    assert exact < s_shape
    page = (tmp_path / "report.html").read_text()
    assert "Travel per pick" in page
    assert f"{exact:.2f}" in page and f"{s_shape:.2f}" in page  # the bar labels


def test_sweep_runs_a_grid_with_confidence_intervals(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "sweep",
            "small",
            "--grid",
            "resources.pack_stations.count=1,6",
            "--replications",
            "2",
            "--workers",
            "2",
            "--hours",
            "0.75",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads((tmp_path / "kpis.json").read_text())
    assert [r["variant"] for r in rows] == [
        "resources.pack_stations.count=1",
        "resources.pack_stations.count=6",
    ]
    one, six = (r["stats"]["order_processing_time_min"] for r in rows)
    assert one["n"] == 2 and one["ci_low"] <= one["mean"] <= one["ci_high"]
    assert one["mean"] > six["mean"]  # one pack station is the bottleneck
    assert "95 % CI" in (tmp_path / "report.html").read_text()

"""`whs optimize ...` end to end: files in, JSON out."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from optimization.mapf.grid import random_tasks, warehouse_grid
from whs.optimize_cli import app

from .mapf_validator import violations
from .sprp_sample import DATA

runner = CliRunner()


def test_pick_path_json_on_a_benchmark_instance():
    path = DATA / "instances" / "unit_F1_m5_C30_a3_0.txt"
    out = runner.invoke(app, ["pick-path", str(path), "--layout", "two-block", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["length"] == 60  # the published two-block optimum
    assert sorted(data["tour"]) == [0, 1, 2]
    assert data["method"] == "exact" and data["ms"] >= 0
    heuristic = runner.invoke(app, ["pick-path", str(path), "--method", "s-shape", "--json"])
    assert json.loads(heuristic.output)["length"] >= 74  # the single-block optimum


def test_pick_path_rejects_unknown_method_and_missing_file(tmp_path):
    path = DATA / "instances" / "unit_F1_m5_C30_a3_0.txt"
    assert runner.invoke(app, ["pick-path", str(path), "--method", "magic"]).exit_code == 2
    assert runner.invoke(app, ["pick-path", str(tmp_path / "none.txt")]).exit_code == 2


def test_mapf_json_paths_are_valid(tmp_path):
    grid = warehouse_grid(width=41, height=21, margin=5)
    rows = ["".join("." if f else "@" for f in row) for row in grid.free]
    (tmp_path / "w.map").write_text(
        f"type octile\nheight {grid.height}\nwidth {grid.width}\nmap\n" + "\n".join(rows) + "\n"
    )
    tasks = random_tasks(grid, 30, seed=5)
    lines = ["version 1"] + [
        f"0\tw.map\t{grid.width}\t{grid.height}\t{t.start[0]}\t{t.start[1]}\t{t.goal[0]}\t"
        f"{t.goal[1]}\t0"
        for t in tasks
    ]
    (tmp_path / "w.scen").write_text("\n".join(lines) + "\n")
    args = ["mapf", "--map", str(tmp_path / "w.map"), "--scen", str(tmp_path / "w.scen")]
    out = runner.invoke(app, [*args, "--agents", "20", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    starts, goals = [t.start for t in tasks[:20]], [t.goal for t in tasks[:20]]
    assert violations(grid.free, starts, goals, data["paths"]) == []
    assert data["sum_of_costs"] == sum(len(p) - 1 for p in data["paths"])
    lacam = runner.invoke(app, [*args, "--agents", "30", "--method", "lacam", "--json"])
    assert lacam.exit_code == 0, lacam.output
    data = json.loads(lacam.output)
    assert data["method"] == "lacam"
    assert (
        violations(grid.free, [t.start for t in tasks], [t.goal for t in tasks], data["paths"])
        == []
    )
    bad = runner.invoke(app, [*args, "--agents", "3", "--method", "cbs"])
    assert bad.exit_code == 2
    assert data["makespan"] == max(len(p) - 1 for p in data["paths"])
    assert runner.invoke(app, [*args, "--agents", "31"]).exit_code == 2


def test_ss_policy_json():
    out = runner.invoke(
        app,
        [
            "ss-policy",
            "--holding",
            "1",
            "--stockout",
            "9",
            "--fixed",
            "64",
            "--poisson-mean",
            "10",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert (data["s"], data["S"]) == (6, 40)
    assert abs(data["cost"] - 35.02) < 0.01

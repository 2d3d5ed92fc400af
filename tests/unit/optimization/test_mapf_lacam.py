"""LaCAM with PIBT: complete on small hard cases, valid and fast on large random ones."""

from __future__ import annotations

import time

import numpy as np

from optimization.mapf.distances import distance_table
from optimization.mapf.grid import Grid, Task, parse_map, random_tasks, warehouse_grid
from optimization.mapf.improve import improve_plan
from optimization.mapf.lacam import plan_lacam
from optimization.mapf.pibt import Pibt
from optimization.mapf.solve import solve_mapf

from .mapf_validator import violations

TEE = "type octile\nheight 2\nwidth 5\nmap\n@@.@@\n.....\n"
DEAD_END = "type octile\nheight 3\nwidth 6\nmap\n@@@...\n......\n@@@...\n"
RING = "type octile\nheight 3\nwidth 3\nmap\n...\n.@.\n...\n"


def _check(grid: Grid, tasks: list[Task], paths) -> None:
    starts, goals = [t.start for t in tasks], [t.goal for t in tasks]
    assert violations(grid.free, starts, goals, paths) == []


def _lacam(grid: Grid, tasks: list[Task], limit: float = 5.0):
    starts = [grid.index(t.start) for t in tasks]
    goals = [grid.index(t.goal) for t in tasks]
    dist = distance_table(grid, goals).tolist()
    return plan_lacam(grid.neighbours, starts, goals, dist, limit), dist


def test_both_agents_must_give_way_where_prioritised_planning_fails():
    grid = parse_map(TEE)
    # agent 1 already rests on its goal between agent 0 and agent 0's goal: it must duck into
    # the pocket and agent 0 must overshoot its goal so that agent 1 can come back
    tasks = [Task((4, 1), (2, 1)), Task((3, 1), (3, 1))]
    assert solve_mapf(grid, tasks, 0.5, method="prioritized") is None
    result = solve_mapf(grid, tasks, 5.0)
    assert result is not None and result.method == "lacam"
    _check(grid, tasks, result.paths)
    assert result.sum_of_costs == 8  # 4 + 4 moves: the optimum for this instance


def test_corridor_swap_through_the_side_pocket():
    grid = parse_map("type octile\nheight 3\nwidth 7\nmap\n@@@@@.@\n.......\n@@@@@@@\n")
    tasks = [Task((0, 1), (6, 1)), Task((6, 1), (0, 1))]
    result = solve_mapf(grid, tasks, 5.0, method="lacam")
    assert result is not None
    _check(grid, tasks, result.paths)
    assert result.sum_of_costs >= 17  # the optimum (see test_mapf)


def test_head_on_without_pocket_is_proved_unsolvable():
    grid = parse_map("type octile\nheight 1\nwidth 5\nmap\n.....\n")
    outcome, _ = _lacam(grid, [Task((0, 0), (4, 0)), Task((4, 0), (0, 0))])
    assert outcome.paths is None and outcome.exhausted


def test_dead_end_agents_come_out_and_reenter_in_the_other_order():
    grid = parse_map(DEAD_END)
    # (0, 1) and (1, 1) form a dead end; the agents inside must trade places
    tasks = [Task((0, 1), (1, 1)), Task((1, 1), (0, 1)), Task((2, 1), (2, 1))]
    result = solve_mapf(grid, tasks, 5.0, method="lacam")
    assert result is not None
    _check(grid, tasks, result.paths)
    assert result.sum_of_costs > result.lower_bound + 4  # both had to leave the dead end


def test_full_ring_rotates_in_one_step():
    grid = parse_map(RING)
    ring = [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
    tasks = [Task(ring[k], ring[(k + 1) % 8]) for k in range(8)]
    result = solve_mapf(grid, tasks, 5.0, method="lacam")
    assert result is not None
    _check(grid, tasks, result.paths)
    assert result.sum_of_costs == 8 and result.makespan == 1


def test_pibt_respects_constraints_and_rejects_conflicting_ones():
    grid = parse_map("type octile\nheight 1\nwidth 4\nmap\n....\n")
    goals = [3, 0]
    dist = distance_table(grid, goals).tolist()
    pibt = Pibt(grid.neighbours, dist, goals)
    assert pibt.step([1, 2], [0, 1], [(0, 0)]) == [0, 1]  # 0 is sent back, 1 follows
    assert pibt.step([1, 2], [0, 1], [(0, 2), (1, 1)]) is None  # a swap
    assert pibt.step([1, 2], [0, 1], [(0, 0), (1, 0)]) is None  # both on one cell


def test_random_dense_instances_are_valid():
    grid = warehouse_grid(width=41, height=21, margin=5)
    for seed in range(3):
        tasks = random_tasks(grid, 150, seed)  # about a third of the free cells
        result = solve_mapf(grid, tasks, 5.0, method="lacam")
        assert result is not None
        _check(grid, tasks, result.paths)
        assert result.sum_of_costs >= result.lower_bound


def test_improvement_keeps_the_plan_valid_and_never_costlier():
    grid = warehouse_grid(width=41, height=21, margin=5)
    tasks = random_tasks(grid, 120, seed=7)
    outcome, dist = _lacam(grid, tasks)
    assert outcome.paths is not None
    before = sum(len(p) - 1 for p in outcome.paths)
    better = improve_plan(grid, outcome.paths, dist, time_limit_s=1.5)
    after = sum(len(p) - 1 for p in better)
    _check(grid, tasks, [[grid.cell(c) for c in p] for p in better])
    assert after < before


def test_four_hundred_agents_on_the_warehouse_grid():
    grid = warehouse_grid()
    tasks = random_tasks(grid, 400, seed=11)
    start = time.perf_counter()
    outcome, _ = _lacam(grid, tasks, limit=30.0)
    elapsed = time.perf_counter() - start
    assert outcome.paths is not None
    _check(grid, tasks, [[grid.cell(c) for c in p] for p in outcome.paths])
    assert elapsed < 15  # about 1-2 s on a quiet machine


def test_distance_table_matches_single_searches():
    grid = warehouse_grid(width=41, height=21, margin=5)
    cells = np.flatnonzero(grid.free.ravel())[::37].tolist()
    table = distance_table(grid, cells)
    for row, cell in zip(table, cells, strict=True):
        assert (row == grid.distances_from(cell)).all()

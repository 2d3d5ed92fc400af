"""Traffic: plans avoid each other, release waits for earlier visits, upsets re-plan."""

from __future__ import annotations

import numpy as np

from central.fleet.layout import Layout
from central.fleet.traffic import Traffic
from optimization.mapf.grid import Grid

CORRIDOR = Layout(("......", "#.##.#"))


def test_two_vehicles_crossing_a_corridor_get_plans_without_vertex_or_swap_conflicts() -> None:
    grid = Grid(np.ones((3, 5), dtype=bool))
    tr = Traffic(grid)
    a, b = grid.index((0, 1)), grid.index((4, 1))
    tr.park("a", a, 0)
    tr.park("b", b, 0)
    assert tr.plan("a", b, 0) is False  # b rests there: never plan onto a resting vehicle
    tr.park("b", b, 0)
    assert tr.plan("b", grid.index((0, 0)), 0)
    assert tr.plan("a", grid.index((4, 2)), 0)
    pa = _timeline(tr, "a")
    pb = _timeline(tr, "b")
    for t in range(max(len(pa), len(pb))):
        ca, cb = pa[min(t, len(pa) - 1)], pb[min(t, len(pb) - 1)]
        assert ca != cb
        if t:
            prev = (pa[min(t - 1, len(pa) - 1)], pb[min(t - 1, len(pb) - 1)])
            assert not (ca == prev[1] and cb == prev[0])  # no swap


def _timeline(tr: Traffic, vehicle: str) -> list[int]:
    out: list[int] = []
    for v in tr.plans[vehicle].visits:
        end = v.t1 if v.t1 < 1 << 40 else v.t0
        out += [v.cell] * (end - max(v.t0, len(out)) + 1)
    return out


def test_a_vehicle_is_released_into_a_node_only_after_the_earlier_visitor_left_it() -> None:
    grid = CORRIDOR.grid
    tr = Traffic(grid, lookahead=100)
    left, mid, right = grid.index((0, 0)), grid.index((2, 0)), grid.index((5, 0))
    tr.park("first", grid.index((1, 1)), 0)
    tr.park("second", left, 0)
    assert tr.plan("first", right, 0)
    assert tr.plan("second", right - 1, 0)
    tr.release("first", 0, max_ahead=1)  # first is slow: it only got its next node
    released = tr.release("second", 50, max_ahead=10)
    cells = [v.cell for v in tr.plans["second"].visits[:released]]
    assert grid.index((1, 0)) not in cells  # first will pass there first
    assert tr.reached("first", grid.index((1, 0))) == [grid.index((1, 1))]
    tr.release("first", 5, max_ahead=3)
    tr.reached("first", grid.index((3, 0)))
    released = tr.release("second", 50, max_ahead=10)
    assert mid in [v.cell for v in tr.plans["second"].visits[:released]]


def test_vehicles_touching_blocked_cells_are_found_for_re_planning() -> None:
    grid = CORRIDOR.grid
    tr = Traffic(grid)
    tr.park("a", grid.index((0, 0)), 0)
    assert tr.plan("a", grid.index((5, 0)), 0)
    assert tr.touching({grid.index((3, 0))}) == ["a"]
    tr.blocked.add(grid.index((3, 0)))
    assert tr.plan("a", grid.index((5, 0)), 0) is False  # the corridor is cut: no way round
    assert tr.plan("a", grid.index((1, 1)), 0)


def test_a_cell_splits_the_floor_only_if_it_is_the_only_way_somewhere() -> None:
    floor = Layout(("......", "......", "#.##.#"))  # two lanes, two dead ends below
    tr = Traffic(floor.grid)
    cell = floor.grid.index
    assert not tr.splits(cell((2, 0)))  # the other lane goes round it
    assert tr.splits(cell((1, 1)))  # the only way into the dead end (1, 2)
    tr.blocked.add(cell((2, 1)))
    assert tr.splits(cell((2, 0)))  # with its twin blocked, it is the only way along

"""AGV moves in the simulation are planned by central's traffic control: no conflicts, waits."""

from __future__ import annotations

from typing import Any

import simpy

from simulators.warehouse.engine import simulate
from simulators.warehouse.scenario import example, load_scenario, with_overrides
from simulators.warehouse.traffic import FloorTraffic


def test_two_agvs_meeting_in_one_lane_aisle_do_not_collide_and_one_gives_way() -> None:
    env = simpy.Environment()
    floor = FloorTraffic(env, 2, 12.0, (0.0, 12.0), 3.0, 1.5, agvs=2)  # rows 0-4, 2 s per node
    floor.place(0, floor.bay(0, 0, 0))
    floor.place(1, floor.bay(0, 4, 1))
    arrived: dict[int, float] = {}

    def go(agv: int, goal: int) -> Any:
        yield from floor.drive(agv, [goal])
        arrived[agv] = env.now

    env.process(go(0, floor.bay(0, 4, 0)))  # up aisle 0 ...
    env.process(go(1, floor.bay(0, 0, 1)))  # ... while the other comes down it
    env.run()
    shortest_s = (1 + 4 + 1) * floor.step_s  # out of the bay, four lane nodes, into the bay
    assert floor.stats.conflicts == 0
    assert floor.stats.legs == 2
    assert min(arrived.values()) >= shortest_s
    assert max(arrived.values()) > shortest_s  # one waited for the other or drove around
    assert floor.node == [floor.bay(0, 4, 0), floor.bay(0, 0, 1)]


def _small(**overrides: Any) -> Any:
    return with_overrides(load_scenario(example("small")), {"shift_hours": 1.0, **overrides})


def test_more_agvs_on_the_same_floor_wait_more_per_move_and_never_conflict() -> None:
    few = simulate(_small())["kpis"]["agv"]
    many = simulate(_small(**{"resources.agvs.count": 12}))["kpis"]["agv"]
    free_flow = simulate(_small(**{"resources.agvs.traffic": False}))["kpis"]["agv"]
    assert few["traffic"]["planned"] and few["traffic"]["moves"] > 100
    assert few["traffic"]["conflicts"] == 0 and many["traffic"]["conflicts"] == 0
    assert many["traffic"]["wait_per_move_s"] > few["traffic"]["wait_per_move_s"] > 0
    assert free_flow["traffic"] == {"planned": False}

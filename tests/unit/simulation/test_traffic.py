"""AGV moves in the simulation are planned by central's traffic control on a floor of two-lane
cross-aisles and dead-end picker aisles: no conflicts, near free flow for a few AGVs, waits
that grow with the fleet."""

from __future__ import annotations

from typing import Any

import simpy

from simulators.warehouse.engine import WarehouseSim, simulate
from simulators.warehouse.scenario import example, load_scenario, with_overrides
from simulators.warehouse.traffic import FloorTraffic


def _floor(agvs: int) -> tuple[simpy.Environment, FloorTraffic]:
    env = simpy.Environment()
    # 3 aisles 3 m apart, 12 m long, cross-aisles front and back: 1.5 m nodes, 1 s per node
    return env, FloorTraffic(env, 3, 12.0, (0.0, 12.0), 3.0, 1.5, agvs=agvs)


def _drive_all(env: simpy.Environment, floor: FloorTraffic, goals: list[int]) -> list[float]:
    arrived = [0.0] * len(goals)

    def go(agv: int, goal: int) -> Any:
        yield from floor.drive(agv, [goal])
        arrived[agv] = env.now

    for agv, goal in enumerate(goals):
        env.process(go(agv, goal))
    env.run()
    return arrived


def test_nodes_are_about_a_metre_and_a_half_apart_and_an_agv_alone_drives_the_shortest_way() -> (
    None
):
    env, floor = _floor(1)
    assert floor.cell_m == 1.5 and floor.step_s == 1.0
    floor.place(0, floor.station_bay(0))
    goal = floor.bay(2, 2, 0)  # a pick face 3 m into the last aisle
    [arrived] = _drive_all(env, floor, [goal])
    # out of the bay, along the front cross-aisle to aisle 2 (4 nodes), 2 nodes in, into the bay
    assert arrived == 1 + 4 + 2 + 1
    assert floor.stats.wait_s == 0 and floor.stats.conflicts == 0


def test_agvs_meeting_on_a_cross_aisle_pass_each_other_on_its_two_lanes() -> None:
    env, floor = _floor(2)
    floor.place(0, floor.station_bay(0))
    floor.place(1, floor.station_bay(2))
    arrived = _drive_all(env, floor, [floor.station_bay(2), floor.station_bay(0)])
    assert floor.stats.conflicts == 0
    assert arrived == [1 + 4 + 1, 1 + 4 + 1]  # neither waits for the other


def test_an_agv_leaving_a_picker_aisle_and_one_entering_it_do_not_collide() -> None:
    env, floor = _floor(2)  # picker aisles are single-lane spurs off the cross-aisles
    floor.place(0, floor.bay(1, 3, 0))
    floor.place(1, floor.station_bay(1))
    arrived = _drive_all(env, floor, [floor.station_bay(1), floor.bay(1, 2, 1)])
    assert floor.stats.conflicts == 0
    assert floor.node == [floor.station_bay(1), floor.bay(1, 2, 1)]
    assert max(arrived) > 1 + 3 + 1  # one gave way to the other in the aisle


def test_an_agv_follows_another_two_nodes_behind() -> None:
    env, floor = _floor(2)
    for agv in range(2):
        floor.place(agv, floor.station_bay(0))
    # both bays are six steps away along the same lane; the second keeps a node clear
    arrived = _drive_all(env, floor, [floor.store_bay(6), floor.station_bay(2)])
    assert floor.stats.conflicts == 0
    assert sorted(arrived) == [6, 8]


def _small(**overrides: Any) -> Any:
    return with_overrides(load_scenario(example("small")), {"shift_hours": 1.0, **overrides})


def _agv(count: int, traffic: bool) -> dict[str, Any]:
    kpis = simulate(_small(**{"resources.agvs.count": count, "resources.agvs.traffic": traffic}))[
        "kpis"
    ]
    return {**kpis["agv"], "tasks": sum(kpis["agv"]["tasks"].values())}


def test_one_or_two_agvs_with_traffic_do_as_much_as_free_flow_and_barely_wait() -> None:
    for count in (1, 2):
        planned, free = _agv(count, True), _agv(count, False)
        assert free["traffic"] == {"planned": False}
        assert planned["tasks"] > 30
        assert abs(planned["tasks"] - free["tasks"]) <= 0.03 * free["tasks"]
        assert abs(planned["travel_km"] - free["travel_km"]) <= 0.05 * free["travel_km"]
        assert planned["traffic"]["wait_share"] < 0.02
        assert planned["traffic"]["conflicts"] == 0


def test_wait_per_move_grows_with_the_fleet_and_nobody_ever_conflicts() -> None:
    waits = []
    for count in (2, 8, 16):
        traffic = _agv(count, True)["traffic"]
        assert traffic["conflicts"] == 0 and traffic["moves"] > 150
        waits.append(traffic["wait_per_move_s"])
    assert waits[0] < waits[1] < waits[2]


def test_goods_to_person_totes_are_stored_by_the_arm_stations_not_at_pick_faces() -> None:
    sim = WarehouseSim(load_scenario(example("medium")))
    gtp = [s for s in range(len(sim.gtp)) if sim.gtp[s]]
    homes = [int(sim.sku_loc[s]) for s in gtp]
    assert len(gtp) == 5 and all(h >= sim.store_base for h in homes)
    assert len(set(homes)) == 5  # spread along the storage rows, not in one place
    faces = [int(sim.sku_loc[s]) for s in range(len(sim.gtp)) if not sim.gtp[s]]
    assert len(set(faces)) == len(faces) and max(faces) < sim.n_loc
    # the pickers' best faces (nearest the depot) now hold the pickers' fastest SKUs
    assert sim.location_cost[sim.sku_loc[5]] <= sorted(sim.location_cost)[10]

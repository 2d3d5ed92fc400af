"""Nodes held by a stopped vehicle or an obstacle: waiting tasks say why, supervisors free them."""

from __future__ import annotations

import pytest

from central.fleet.domain import TaskStatus, VehicleStatus
from central.fleet.layout import DOCK, generate_layout
from central.fleet.manager import BlockStateError
from simulators.vda5050.inprocess import InProcessFleet
from simulators.vda5050.trajectory import find_conflicts
from tests.unit.fleet.test_manager import make, submit_totes
from tests.unit.fleet.test_stuck import submit_pallets


def freeze_at_a_dock_entrance(sim: InProcessFleet) -> tuple[str, int]:
    """Run until a vehicle drives empty to its dock with the dock's only entrance released to
    it, and freeze it there: (serial, dock cell)."""
    docks = set(sim.layout.cells(DOCK))
    while sim.env.now < 300:
        sim.run(sim.env.now + 0.25)
        for serial, v in sim.fleet.vehicles.items():
            task = sim.fleet.tasks.get(v.task_id or "")
            plan = sim.fleet.traffic.plans.get(serial)
            if task is None or task.status != TaskStatus.ASSIGNED or plan is None:
                continue
            released = {x.cell for x in plan.visits if x.released}
            entrance = set(sim.layout.grid.neighbours[task.source])
            if v.driving and task.source in docks and released & entrance:
                sim.vehicles[serial].freeze()
                return serial, task.source
    raise AssertionError("no vehicle drove into a dock entrance")


def test_a_vehicle_stopped_in_a_dock_entrance_holds_its_tasks_until_reported_removed() -> None:
    sim = InProcessFleet(generate_layout(4, stations=6), 4, validate=True)
    ids = submit_pallets(sim, 8)
    serial, dock = freeze_at_a_dock_entrance(sim)
    dock_node = sim.layout.node_id(dock)
    sim.run(sim.env.now + 600)
    fleet = sim.fleet
    assert fleet.vehicles[serial].status == VehicleStatus.STALE
    cut_off = [fleet.tasks[i] for i in ids if fleet.tasks[i].source == dock]
    others = [fleet.tasks[i] for i in ids if fleet.tasks[i].source != dock]
    assert all(t.status == TaskStatus.DONE for t in others)
    assert all(t.status == TaskStatus.PENDING for t in cut_off)
    reasons = {fleet.task_view(t)["waiting"] for t in cut_off}
    assert len(reasons) == 1 and f"{serial} (stale)" in reasons.pop()
    (alarm,) = fleet.snapshot()["alarms"]
    assert alarm["kind"] == "blocked_way" and sorted(alarm["task_ids"]) == [t.id for t in cut_off]
    assert f"{len(cut_off)} task(s) wait" in alarm["message"] and serial in alarm["message"]
    held = fleet.snapshot()["blocked"]
    assert held and {b["vehicle"] for b in held} == {serial}
    entrance = {sim.layout.node_id(c) for c in sim.layout.grid.neighbours[dock]}
    assert entrance <= {b["node"] for b in held}, f"{dock_node} is cut off by its entrance"

    busy = next(s for s in fleet.vehicles if s != serial)
    with pytest.raises(BlockStateError, match="in service"):
        fleet.vehicle_removed(busy)
    with pytest.raises(BlockStateError, match="report the vehicle removed"):
        fleet.clear_node(held[0]["node"])

    sim.vehicles[serial].remove_from_floor()  # the operator pushes it out of the way
    fleet.vehicle_removed(serial)
    assert fleet.snapshot()["blocked"] == [] and fleet.snapshot()["alarms"] == []
    sim.run(sim.env.now + 900)
    assert all(t.status == TaskStatus.DONE for t in cut_off), [(t.id, t.status) for t in cut_off]
    assert find_conflicts({s: v.trajectory for s, v in sim.vehicles.items()}, sim.env.now) == []


def test_an_obstacle_stays_blocked_until_a_supervisor_clears_it() -> None:
    sim = make(4)
    lane = "c3_1"
    for v in sim.vehicles.values():
        v.block_node(lane)
    ids = submit_totes(sim, 6)
    sim.run(600)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)
    (block,) = sim.fleet.snapshot()["blocked"]
    assert block["node"] == lane and block["kind"] == "obstacle"
    with pytest.raises(BlockStateError, match="not blocked"):
        sim.fleet.clear_node("c4_2")
    for v in sim.vehicles.values():
        v.clear_blocks()  # the obstacle is taken away; vehicles stop reporting it
    sim.run(sim.env.now + 30)
    assert [b["node"] for b in sim.fleet.snapshot()["blocked"]] == [lane], "kept until cleared"
    sim.fleet.clear_node(lane)
    assert sim.fleet.snapshot()["blocked"] == []
    assert not sim.fleet.traffic.blocked


def test_a_vehicle_cut_off_from_its_home_waits_where_it_is_and_keeps_working() -> None:
    sim = make(1)
    (serial,) = sim.vehicles
    home = sim.fleet.vehicles[serial].home
    (entrance,) = sim.layout.grid.neighbours[home]
    first = submit_totes(sim, 1)[0]
    while sim.fleet.tasks[first].status != TaskStatus.CARRYING:
        sim.run(sim.env.now + 0.5)
    sim.vehicles[serial].block_node(sim.layout.node_id(entrance))  # dropped on its way home
    sim.run(sim.env.now + 300)
    fleet = sim.fleet
    assert fleet.tasks[first].status == TaskStatus.DONE
    assert [b["node"] for b in fleet.snapshot()["blocked"]] == [sim.layout.node_id(entrance)]
    assert (
        fleet.vehicles[serial].status == VehicleStatus.IDLE and fleet.vehicles[serial].cell != home
    )
    rest = fleet.vehicles[serial].cell
    assert all(sim.layout.kind(n) == "." for n in sim.layout.grid.neighbours[rest])
    more = submit_totes(sim, 6)  # every pick station: where it rests cuts none of them off
    sim.run(sim.env.now + 1200)
    assert all(fleet.tasks[i].status == TaskStatus.DONE for i in more), "it still takes work"
    fleet.clear_node(sim.layout.node_id(entrance))
    sim.vehicles[serial].clear_blocks()
    sim.run(sim.env.now + 300)
    assert fleet.vehicles[serial].cell == home, "it goes home once the way is clear"

"""Vehicles that drop out: a FATAL error hands the task on; a load left on a vehicle waits
for a supervisor, who says where it is now (a new leg from there) or cancels the task."""

from __future__ import annotations

from central.fleet.domain import TaskStatus, VehicleStatus
from central.fleet.layout import generate_layout
from simulators.vda5050.inprocess import InProcessFleet
from simulators.vda5050.trajectory import find_conflicts
from tests.unit.fleet.test_manager import submit_totes
from tests.unit.fleet.test_stuck import driving_with_task, open_lane, submit_pallets


def test_a_vehicle_standing_with_a_fatal_error_loses_its_task_to_another() -> None:
    sim = InProcessFleet(generate_layout(4, stations=6), 4, validate=True)
    ids = submit_pallets(sim, 4)
    serial = driving_with_task(sim)  # on its way to the source: no load yet
    task_id = sim.fleet.vehicles[serial].task_id or ""
    sim.vehicles[serial].raise_error("laserScannerDirty")  # FATAL: it stops
    sim.run(sim.env.now + 2)
    view = sim.fleet.vehicle_view(sim.fleet.vehicles[serial])
    assert view["status"] == "error" and view["task_id"] is None
    assert "laserScannerDirty" in view["errors"]
    sim.run(sim.env.now + 500)
    task = sim.fleet.tasks[task_id]
    assert task.status == TaskStatus.DONE and task.vehicle != serial and task.vehicles[0] == serial
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)
    sim.vehicles[serial].clear_error("laserScannerDirty")  # repaired: back in service
    sim.run(sim.env.now + 60)
    assert sim.fleet.vehicles[serial].status in (VehicleStatus.IDLE, VehicleStatus.CHARGING)
    assert find_conflicts({s: v.trajectory for s, v in sim.vehicles.items()}, sim.env.now) == []


def test_a_vehicle_silent_with_a_load_holds_its_task_until_the_load_is_recovered() -> None:
    sim = InProcessFleet(generate_layout(4, stations=6), 4, validate=True)
    submit_totes(sim, 2)
    serial = driving_with_task(sim, limit_s=300, carrying=True)
    task_id = sim.fleet.vehicles[serial].task_id or ""
    sim.vehicles[serial].freeze()  # link up, silent: stale while carrying the tote
    while sim.fleet.vehicles[serial].status != VehicleStatus.STALE:
        sim.run(sim.env.now + 1)
    sim.run(sim.env.now + 200)  # nobody fetches the tote from the source again
    task = sim.fleet.tasks[task_id]
    assert task.status == TaskStatus.NEEDS_RECOVERY and task.vehicles == [serial]
    alarms = sim.fleet.snapshot()["alarms"]
    assert [a["task_id"] for a in alarms] == [task_id]
    assert f"is on vehicle {serial}" in alarms[0]["message"]
    # the supervisor takes the tote off and puts it down on a free lane node
    stuck = sim.fleet.traffic.blocked
    spot = next(
        c
        for c in range(len(sim.layout.grid.free.ravel()))
        if open_lane(sim, c) and c not in stuck and c not in sim.fleet.locked
    )
    node = sim.layout.node_id(spot)
    sim.fleet.recover(task_id, node)
    assert sim.fleet.snapshot()["alarms"] == []
    sim.run(sim.env.now + 400)
    task = sim.fleet.tasks[task_id]
    assert task.status == TaskStatus.DONE and task.vehicle != serial
    view = sim.fleet.task_view(task)
    assert view["source"] == node  # the new leg started where the tote was put down
    other = sim.vehicles[task.vehicle or ""]
    assert any(m[0] == node for m in other.trajectory.moves)
    # the silent vehicle wakes up with the tote still on board: back, but given no task
    sim.vehicles[serial].thaw()
    sim.run(sim.env.now + 60)
    back = sim.fleet.vehicle_view(sim.fleet.vehicles[serial])
    assert back["status"] != "stale" and back["loaded"] is True
    more = submit_totes(sim, 3)
    sim.run(sim.env.now + 400)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in more)
    assert all(serial not in sim.fleet.tasks[i].vehicles for i in more)


def test_a_vehicle_back_with_the_load_of_its_held_task_carries_it_on_by_itself() -> None:
    sim = InProcessFleet(generate_layout(4, stations=6), 4, validate=True)
    ids = submit_totes(sim, 3)
    serial = driving_with_task(sim, limit_s=300, carrying=True)
    task_id = sim.fleet.vehicles[serial].task_id or ""
    sim.vehicles[serial].freeze()
    while sim.fleet.tasks[task_id].status != TaskStatus.NEEDS_RECOVERY:
        sim.run(sim.env.now + 1)
    assert [a["task_id"] for a in sim.fleet.snapshot()["alarms"]] == [task_id]
    sim.vehicles[serial].thaw()  # it wakes up with the tote on board, before anyone acts
    sim.run(sim.env.now + 400)
    task = sim.fleet.tasks[task_id]
    assert task.status == TaskStatus.DONE and task.vehicles == [serial] and task.vehicle == serial
    assert sim.vehicles[serial].loads == [], "it dropped the tote at the destination"
    assert sim.fleet.snapshot()["alarms"] == []
    assert any("is back with load" in what for _, who, what in sim.fleet.events if who == task_id)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)
    assert find_conflicts({s: v.trajectory for s, v in sim.vehicles.items()}, sim.env.now) == []


def test_a_vehicle_that_drops_out_during_the_pick_holds_its_task_for_a_supervisor() -> None:
    sim = InProcessFleet(generate_layout(4, stations=6), 4, validate=True)
    submit_totes(sim, 2)
    serial = ""
    while not serial and sim.env.now < 300:
        sim.run(sim.env.now + 0.25)
        serial = next((s for s, v in sim.fleet.vehicles.items() if v.action_running), "")
    assert serial, "no vehicle started a pick"
    v = sim.fleet.vehicles[serial]
    task = sim.fleet.tasks[v.task_id or ""]
    source = sim.layout.node_id(task.source)
    assert task.status == TaskStatus.ASSIGNED and v.cell == task.source
    sim.vehicles[serial].freeze()  # whether the tote made it onto the vehicle is not known
    while task.status not in (TaskStatus.NEEDS_RECOVERY, TaskStatus.PENDING):
        sim.run(sim.env.now + 1)
    assert task.status == TaskStatus.NEEDS_RECOVERY, "not fetched again from the station blindly"
    (alarm,) = sim.fleet.snapshot()["alarms"]
    assert f"may be on vehicle {serial} or still at {source}" in alarm["message"]
    sim.fleet.recover(task.id, source)  # the supervisor finds it still on the station
    sim.run(sim.env.now + 60)
    view = sim.fleet.task_view(task)
    assert view["status"] == "pending" and f"{source} is blocked by {serial}" in view["waiting"]
    sim.vehicles[serial].remove_from_floor()  # the hung vehicle is pushed off the station
    sim.fleet.vehicle_removed(serial)
    sim.run(sim.env.now + 400)
    assert task.status == TaskStatus.DONE and task.vehicle != serial

"""Vehicles that stop silently are taken out of service and their tasks go to others."""

from __future__ import annotations

from collections.abc import Callable

from central.fleet.domain import TaskKind, TaskStatus, VehicleStatus
from central.fleet.layout import DOCK, RESERVE, generate_layout
from simulators.vda5050.inprocess import InProcessFleet
from simulators.vda5050.trajectory import find_conflicts
from tests.unit.fleet.test_manager import submit_totes


def open_lane_of(sim: InProcessFleet) -> Callable[[int], bool]:
    """`open_lane` for this simulation."""
    return lambda cell: open_lane(sim, cell)


def open_lane(sim: InProcessFleet, cell: int) -> bool:
    """A lane whose neighbours are lanes: blocking it cuts off no station or home."""
    kind = sim.layout.kind
    return kind(cell) == "." and all(kind(n) == "." for n in sim.layout.grid.neighbours[cell])


def driving_with_task(sim: InProcessFleet, limit_s: float = 120, carrying: bool = False) -> str:
    """Run until some vehicle drives a task along open lanes, to its source (or, `carrying`,
    with the load to its destination); its serial."""
    wanted = TaskStatus.CARRYING if carrying else TaskStatus.ASSIGNED
    while sim.env.now < limit_s:
        sim.run(sim.env.now + 0.25)
        for serial, v in sim.fleet.vehicles.items():
            route = sim.fleet.traffic.route(serial)
            ahead = [v.cell, *route[:3]]
            task = sim.fleet.tasks.get(v.task_id or "")
            far = carrying or len(route) > 6  # its source is not within the released nodes
            if (
                task
                and task.status == wanted
                and far
                and v.driving
                and all(map(open_lane_of(sim), ahead))
            ):
                return serial
    raise AssertionError("no vehicle drove a task along open lanes")


def test_a_frozen_vehicle_goes_stale_its_task_is_done_by_another_and_it_comes_back() -> None:
    sim = InProcessFleet(generate_layout(4, stations=6), 4, validate=True)
    ids = submit_totes(sim, 6)
    serial = driving_with_task(sim)
    task_id = sim.fleet.vehicles[serial].task_id
    sim.vehicles[serial].freeze()  # connection up, no more state messages, no motion
    frozen_at = sim.env.now
    while sim.fleet.vehicles[serial].status != VehicleStatus.STALE:
        sim.run(sim.env.now + 1)
        assert sim.env.now - frozen_at < 120, "a silent vehicle was never noticed"
    assert sim.env.now - frozen_at <= 61  # its last state said driving: no_progress_s (30)
    view = sim.fleet.vehicle_view(sim.fleet.vehicles[serial])
    assert view["status"] == "stale" and view["online"] is True and view["task_id"] is None
    sim.run(sim.env.now + 500)
    task = sim.fleet.tasks[task_id or ""]
    assert task.status == TaskStatus.DONE and task.vehicle != serial and task.vehicles[0] == serial
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)
    sim.vehicles[serial].thaw()  # it finishes what it was released, is cancelled, reports
    sim.run(sim.env.now + 200)
    assert sim.fleet.vehicles[serial].status in (VehicleStatus.IDLE, VehicleStatus.CHARGING)
    assert not sim.fleet.vehicles[serial].stale
    more = submit_totes(sim, 8)
    sim.run(sim.env.now + 600)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in more)
    assert find_conflicts({s: v.trajectory for s, v in sim.vehicles.items()}, sim.env.now) == []


def test_a_silent_idle_vehicle_goes_stale_after_stale_state_s_and_gets_no_task() -> None:
    sim = InProcessFleet(generate_layout(3, stations=6), 3, validate=True)
    sim.run(5)
    sim.vehicles["agv001"].freeze()
    sim.run(80)  # its last state was at 0 s; the others' heartbeats (30 s) keep them in service
    assert all(v.status != VehicleStatus.STALE for v in sim.fleet.vehicles.values())
    sim.run(95)  # 75 s behind the fleet's freshest state (the heartbeats at 90 s)
    assert sim.fleet.vehicles["agv001"].status == VehicleStatus.STALE
    assert any("no state for" in what for _, who, what in sim.fleet.events if who == "agv001")
    ids = submit_totes(sim, 4)
    sim.run(600)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)
    assert all("agv001" not in sim.fleet.tasks[i].vehicles for i in ids)


def submit_pallets(sim: InProcessFleet, count: int) -> list[str]:
    """Dock -> reserve tasks: the docks are far from the homes, so vehicles drive a while empty."""
    docks, reserves, node = sim.layout.cells(DOCK), sim.layout.cells(RESERVE), sim.layout.node_id
    return [
        sim.fleet.submit(
            TaskKind.PALLET, node(docks[i % len(docks)]), node(reserves[i % len(reserves)])
        ).id
        for i in range(count)
    ]


def test_a_vehicle_driving_without_progress_goes_stale_and_its_task_is_reassigned() -> None:
    sim = InProcessFleet(generate_layout(4, stations=6), 4, validate=True)
    ids = submit_pallets(sim, 4)
    serial = driving_with_task(sim)
    task_id = sim.fleet.vehicles[serial].task_id
    sim.vehicles[serial].stall()  # still says driving (and sends states), never arrives
    stalled_at = sim.env.now
    while sim.fleet.vehicles[serial].status != VehicleStatus.STALE:
        sim.run(sim.env.now + 1)
        assert sim.env.now - stalled_at < 90, "a stuck vehicle was never noticed"
    # no_progress_s (30) measured to the fleet's freshest state: heartbeats come every 30 s
    assert sim.env.now - stalled_at <= 30 + 30 + 1
    assert any("without progress" in what for _, who, what in sim.fleet.events if who == serial)
    sim.run(sim.env.now + 500)
    task = sim.fleet.tasks[task_id or ""]
    assert task.status == TaskStatus.DONE and task.vehicle != serial
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)
    assert find_conflicts({s: v.trajectory for s, v in sim.vehicles.items()}, sim.env.now) == []


def test_a_vehicle_back_online_is_placed_where_it_reports_and_works_again() -> None:
    sim = InProcessFleet(generate_layout(4, stations=6), 4, validate=True)
    ids = submit_totes(sim, 6)
    serial = driving_with_task(sim)
    sim.fleet.on_connection(serial, "CONNECTIONBROKEN")  # as from its last will
    sim.run(sim.env.now + 30)  # it drives on to the end of what was released
    where, back = sim.vehicles[serial].last_node_id, sim.env.now
    sim.fleet.on_connection(serial, "ONLINE")  # stateRequest; its old order is cancelled
    sim.run(sim.env.now + 20)
    assert sim.fleet.vehicles[serial].online
    moves = [m for m in sim.vehicles[serial].trajectory.moves if m[2] >= back]
    assert moves and moves[0][0] == where  # planned from where it really stood
    more = submit_totes(sim, 6)
    sim.run(sim.env.now + 800)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids + more)
    assert any(serial in sim.fleet.tasks[i].vehicles for i in more)  # it works again
    assert find_conflicts({s: v.trajectory for s, v in sim.vehicles.items()}, sim.env.now) == []

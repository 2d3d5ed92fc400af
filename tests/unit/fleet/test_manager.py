"""The fleet manager with in-process stand-ins: tasks done, no conflicts, upsets handled."""

from __future__ import annotations

from central.fleet.domain import TaskKind, TaskStatus
from central.fleet.layout import DOCK, PACK, PICK, RESERVE, generate_layout
from simulators.vda5050.inprocess import InProcessFleet
from simulators.vda5050.trajectory import find_conflicts


def make(n: int = 6) -> InProcessFleet:
    return InProcessFleet(generate_layout(n, stations=6), n, validate=True)


def submit_totes(sim: InProcessFleet, count: int) -> list[str]:
    picks, packs = sim.layout.cells(PICK), sim.layout.cells(PACK)
    node = sim.layout.node_id
    return [
        sim.fleet.submit(TaskKind.TOTE, node(picks[i % len(picks)]), node(packs[i % 5])).id
        for i in range(count)
    ]


def test_tasks_of_both_kinds_are_done_without_conflicts() -> None:
    sim = make()
    ids = submit_totes(sim, 12)
    node = sim.layout.node_id
    ids.append(
        sim.fleet.submit(
            TaskKind.PALLET, node(sim.layout.cells(DOCK)[0]), node(sim.layout.cells(RESERVE)[1])
        ).id
    )
    sim.run(600)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)
    trajectories = {s: v.trajectory for s, v in sim.vehicles.items()}
    assert find_conflicts(trajectories, sim.env.now) == []
    assert all(v.loads == [] for v in sim.vehicles.values())  # every tote was dropped


def test_a_task_between_the_wrong_kinds_of_station_is_refused() -> None:
    sim = make(2)
    node = sim.layout.node_id
    try:
        sim.fleet.submit(
            TaskKind.TOTE, node(sim.layout.cells(PACK)[0]), node(sim.layout.cells(PICK)[0])
        )
    except ValueError as exc:
        assert "pick" in str(exc).lower() or "P" in str(exc)
    else:
        raise AssertionError("a tote task from a pack station was accepted")


def test_pause_all_stops_every_vehicle_and_resume_lets_them_finish() -> None:
    sim = make(4)
    ids = submit_totes(sim, 4)
    sim.run(5)
    sim.fleet.pause_all()
    sim.run(6)
    before = {s: len(v.trajectory.moves) for s, v in sim.vehicles.items()}
    sim.run(60)
    assert {s: len(v.trajectory.moves) for s, v in sim.vehicles.items()} == before
    sim.fleet.resume_all()
    sim.run(400)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)


def test_emergency_stop_halts_dispatch_and_release_finishes_the_work() -> None:
    sim = make(4)
    ids = submit_totes(sim, 6)
    sim.run(8)
    sim.fleet.emergency_stop()
    sim.run(12)
    assert not any(v.driving for v in sim.vehicles.values())
    before = sum(len(v.trajectory.moves) for v in sim.vehicles.values())
    sim.run(80)
    assert sum(len(v.trajectory.moves) for v in sim.vehicles.values()) == before
    sim.fleet.release_emergency_stop()
    sim.run(600)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)
    assert find_conflicts({s: v.trajectory for s, v in sim.vehicles.items()}, sim.env.now) == []


def test_a_blocked_node_is_planned_around_and_the_work_still_gets_done() -> None:
    sim = make(4)
    ids = submit_totes(sim, 6)
    lane = sim.layout.cell_of("c3_1")
    for v in sim.vehicles.values():
        v.block_node(sim.layout.node_id(lane))
    sim.run(600)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)
    visited = {m[1] for v in sim.vehicles.values() for m in v.trajectory.moves}
    assert "c3_1" not in visited


def test_low_battery_vehicles_go_home_and_charge_before_working_again() -> None:
    sim = make(2)
    agv = sim.vehicles["agv000"]
    agv.battery = 20.0
    agv.publish_state()  # it reports its low battery
    ids = submit_totes(sim, 4)
    sim.run(30)
    assert sim.fleet.tasks[ids[0]].vehicle != "agv000"  # too low to be given work
    assert agv.charging
    sim.run(900)
    assert agv.battery > 80.0
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)

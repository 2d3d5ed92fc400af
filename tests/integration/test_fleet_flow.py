"""Fleet over real Mosquitto: VDA 5050 stand-ins, the master adapter and the fleet manager.

10 simulated AGVs (accelerated time) carry 100 totes from pick to pack stations; the recorded
trajectories have no vertex or swap conflicts. A vehicle that loses its link mid-task is marked
offline by its last will and its task is finished by another vehicle.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from central.fleet.domain import TaskKind, TaskStatus
from central.fleet.layout import DOCK, HOME, PACK, PICK, RESERVE, Layout, generate_layout
from central.fleet.manager import FleetConfig, FleetManager
from edge.adapters.vda5050 import Vda5050Master
from simulators.vda5050.runner import AgvStandIns
from simulators.vda5050.trajectory import find_conflicts
from tests.helpers import wait_for
from tests.integration.fleet_support import (
    ManagerBox,
    agv_accounts,
    manager_running,
    vda_master,
    vda_standins,
)
from whs.broker import LocalBroker

pytestmark = pytest.mark.integration

TIME_FACTOR = 40.0


@dataclass
class Fleet:
    layout: Layout
    standins: AgvStandIns
    master: Vda5050Master
    manager: FleetManager


@contextmanager
def running_fleet(
    tmp: Path,
    vehicles: int,
    faults: list[dict[str, object]] | None = None,
    config: FleetConfig | None = None,
) -> Iterator[Fleet]:
    layout = generate_layout(vehicles, width=25, stations=8)
    homes = {f"agv{i:02d}": layout.node_id(c) for i, c in enumerate(layout.cells(HOME)[:vehicles])}
    with LocalBroker(tmp / "broker", agv_accounts(list(homes))) as broker:
        standins = vda_standins(
            broker,
            layout,
            homes,
            TIME_FACTOR,
            vehicle={"action_s": 2.0, "speed_mps": 1.0},
            validate_outgoing=True,
            faults=faults or [],
        )
        box = ManagerBox()
        master = vda_master(broker, "fleet-test", box, record=True)
        manager = FleetManager(
            layout,
            master,
            standins.now,
            homes,
            # stuck-vehicle thresholds in simulated seconds: at x40 a busy host's lag of a
            # second is 40 s, so they are far above the production defaults here
            config or FleetConfig(step_s=1.0, stale_state_s=1200.0, no_progress_s=600.0),
        )
        box.manager = manager
        master.start()
        assert master.wait_connected(10)
        standins.start()
        try:
            with manager_running(manager):
                yield Fleet(layout, standins, master, manager)
        finally:
            standins.stop()
            master.stop()


def tote_tasks(fleet: Fleet, count: int) -> list[str]:
    picks, packs = fleet.layout.cells(PICK), fleet.layout.cells(PACK)
    ids = []
    for i in range(count):
        src = fleet.layout.node_id(picks[i % len(picks)])
        dst = fleet.layout.node_id(packs[(i * 3 + 1) % len(packs)])
        ids.append(fleet.manager.submit(TaskKind.TOTE, src, dst, f"tote-{i:03d}").id)
    return ids


def pallet_tasks(fleet: Fleet, count: int) -> list[str]:
    """Dock -> reserve: docks are far from the homes, so vehicles drive a while without a load."""
    docks, reserves, node = (
        fleet.layout.cells(DOCK),
        fleet.layout.cells(RESERVE),
        fleet.layout.node_id,
    )
    return [
        fleet.manager.submit(
            TaskKind.PALLET, node(docks[i % len(docks)]), node(reserves[i % len(reserves)])
        ).id
        for i in range(count)
    ]


def open_lane(fleet: Fleet, cell: int) -> bool:
    """A lane cell whose neighbours are lanes or walls: blocking it strands no station or home."""
    grid, layout = fleet.layout.grid, fleet.layout
    return layout.kind(cell) == "." and all(layout.kind(n) == "." for n in grid.neighbours[cell])


def off_stations(fleet: Fleet, cell: int) -> bool:
    """A lane cell next to no station (a home's entrance may be: its vehicle rests elsewhere)."""
    grid, layout = fleet.layout.grid, fleet.layout
    return layout.kind(cell) == "." and all(layout.kind(n) in ".H" for n in grid.neighbours[cell])


def wait_done(fleet: Fleet, ids: list[str], timeout_s: float) -> None:
    """Wait (at most `timeout_s`) until every task of `ids` is done."""
    tasks = fleet.manager.tasks
    wait_for(lambda: all(tasks[i].status == TaskStatus.DONE for i in ids), timeout_s, 0.2)


def upset_one_driving_empty(fleet: Fleet, upset: Callable[[str], None]) -> tuple[str, str]:
    """Upset (freeze, cut off) a vehicle driving empty to its task off stations: (task, serial).

    Its goal is far: the manager's view of it lags (more on a busy host), and where it really
    stops, its released nodes must not include a station's entrance, or that station is cut
    off until a supervisor takes the vehicle away (tests/unit/fleet/test_blocked_ways.py). They
    may include a home's entrance: that home's vehicle then rests elsewhere and keeps working."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for serial, v in fleet.manager.vehicles.items():
            route = fleet.manager.traffic.route(serial)
            ahead = [v.cell, *route[:4]]
            task = fleet.manager.tasks.get(v.task_id or "")
            empty = task is not None and task.status == TaskStatus.ASSIGNED
            far = len(route) >= 8
            if task and empty and far and v.driving and all(off_stations(fleet, c) for c in ahead):
                upset(serial)
                return task.id, serial
        time.sleep(0.01)
    raise AssertionError("no vehicle was driving empty on an open lane within 10 s")


def test_ten_agvs_complete_a_hundred_tasks_without_conflicts(tmp_path: Path) -> None:
    with running_fleet(tmp_path, 10) as fleet:
        ids = tote_tasks(fleet, 100)
        wait_done(fleet, ids, 55)
        now = fleet.standins.now()
        trajectories = {s: v.trajectory for s, v in fleet.standins.vehicles.items()}
        statuses = [fleet.manager.tasks[i].status for i in ids]
        rejected = [v.rejected_orders for v in fleet.standins.vehicles.values()]
        master_rejects = list(fleet.master.rejected)
    assert statuses.count(TaskStatus.DONE) == 100, statuses
    assert find_conflicts(trajectories, now) == []
    moved = sum(len(t.moves) for t in trajectories.values())
    assert moved > 100 * 4  # they really drove
    assert sum(rejected) == 0 and master_rejects == []


def test_a_vehicle_that_loses_its_link_with_a_tote_holds_its_task_until_the_tote_is_recovered(
    tmp_path: Path,
) -> None:
    with running_fleet(tmp_path, 6) as fleet:
        ids = tote_tasks(fleet, 12)
        deadline = time.monotonic() + 10
        lost = None
        while time.monotonic() < deadline:  # cut its link while it carries, away from stations
            v = fleet.manager.vehicles["agv03"]
            ahead = [v.cell, *fleet.manager.traffic.route("agv03")[:4]]
            task = fleet.manager.tasks.get(v.task_id or "")
            if (
                task
                and task.status == TaskStatus.CARRYING
                and v.driving
                and len(ahead) == 5
                and all(open_lane(fleet, c) for c in ahead)
            ):
                lost = task.id
                fleet.standins.drop_connection("agv03")
                break
            time.sleep(0.01)
        assert lost is not None
        while fleet.manager.tasks[lost].status != TaskStatus.NEEDS_RECOVERY:
            assert time.monotonic() < deadline, "the task of the lost vehicle was not held"
            time.sleep(0.05)
        offline_view = fleet.master.view("agv03").connection
        alarms = fleet.manager.snapshot()["alarms"]
        time.sleep(1)  # 40 s at x40: nobody goes back to the pick station for the tote
        held = fleet.manager.task_view(fleet.manager.tasks[lost])
        spot = next(
            c
            for c in fleet.layout.cells(".")
            if open_lane(fleet, c)
            and c not in fleet.manager.traffic.blocked
            and c not in fleet.manager.locked
        )
        fleet.manager.recover(lost, fleet.layout.node_id(spot))  # the tote is put down there
        wait_done(fleet, ids, 35)
        tasks = [fleet.manager.tasks[i] for i in ids]
        now = fleet.standins.now()
        trajectories = {s: v.trajectory for s, v in fleet.standins.vehicles.items()}
        agv03 = fleet.manager.vehicle_view(fleet.manager.vehicles["agv03"])
    assert offline_view == "CONNECTIONBROKEN"  # the broker published the last will
    assert agv03["online"] is False and agv03["status"] == "offline"
    assert [a["task_id"] for a in alarms] == [lost] and "is on vehicle agv03" in alarms[0][
        "message"
    ]
    assert held["status"] == "needs_recovery" and held["vehicles"] == ["agv03"]
    taken_over = [t for t in tasks if t.vehicles[:1] == ["agv03"] and len(t.vehicles) > 1]
    assert [t.id for t in taken_over] == [lost], [(t.id, t.vehicles, t.status) for t in tasks]
    assert taken_over[0].status == TaskStatus.DONE and taken_over[0].vehicle != "agv03"
    assert fleet.layout.node_id(taken_over[0].source) == fleet.layout.node_id(spot)
    assert all(t.status == TaskStatus.DONE for t in tasks), [
        (t.id, t.status, t.vehicles) for t in tasks
    ]
    assert find_conflicts(trajectories, now) == []


def test_a_vehicle_that_freezes_with_its_link_up_goes_stale_and_another_finishes_its_task(
    tmp_path: Path,
) -> None:
    config = FleetConfig(step_s=1.0, stale_state_s=240.0, no_progress_s=120.0)
    with running_fleet(tmp_path, 5, config=config) as fleet:
        ids = pallet_tasks(fleet, 10)
        # the stand-in's fault "freeze": the link stays up, the vehicle stops reporting and moving
        frozen_task, who = upset_one_driving_empty(
            fleet, lambda s: fleet.standins.call(s, "freeze")
        )
        vehicle = fleet.manager.vehicles[who]
        wait_for(
            lambda: vehicle.status == "stale", 20
        )  # 120 s of no progress at x40, plus heartbeats
        status = fleet.manager.vehicle_view(vehicle)
        wait_done(fleet, ids, 30)
        tasks = [fleet.manager.task_view(fleet.manager.tasks[i]) for i in ids]
        alarms = fleet.manager.snapshot()["alarms"]
        connection = fleet.master.view(who).connection
        now = fleet.standins.now()
        trajectories = {s: v.trajectory for s, v in fleet.standins.vehicles.items()}
    assert status["status"] == "stale" and status["online"] is True
    assert connection == "ONLINE"  # no last will: only the watchdog could tell
    task = next(t for t in tasks if t["id"] == frozen_task)
    assert task["vehicles"][0] == who and task["vehicle"] != who
    undone = [(t["id"], t["status"], t["vehicles"], t["waiting"]) for t in tasks]
    assert [u for u in undone if u[1] != "done"] == []
    assert alarms == []  # it froze on an open lane: no station was cut off
    assert find_conflicts(trajectories, now) == []


def test_a_vehicle_that_loses_its_link_before_pickup_has_its_task_reassigned_and_done(
    tmp_path: Path,
) -> None:
    with running_fleet(tmp_path, 5) as fleet:
        ids = pallet_tasks(fleet, 10)
        lost_task, who = upset_one_driving_empty(fleet, fleet.standins.drop_connection)
        wait_done(fleet, ids, 30)
        tasks = [fleet.manager.task_view(fleet.manager.tasks[i]) for i in ids]
        connection = fleet.master.view(who).connection
        lost_view = fleet.manager.vehicle_view(fleet.manager.vehicles[who])
        alarms = fleet.manager.snapshot()["alarms"]
        now = fleet.standins.now()
        trajectories = {s: v.trajectory for s, v in fleet.standins.vehicles.items()}
    assert connection == "CONNECTIONBROKEN"  # the broker published the last will
    assert lost_view["online"] is False
    task = next(t for t in tasks if t["id"] == lost_task)
    assert task["vehicles"][0] == who and task["vehicle"] != who  # reassigned, no supervisor
    assert alarms == []  # nothing was on the lost vehicle: no recovery needed
    undone = [(t["id"], t["status"], t["vehicles"], t["waiting"]) for t in tasks]
    assert [u for u in undone if u[1] != "done"] == []
    assert find_conflicts(trajectories, now) == []

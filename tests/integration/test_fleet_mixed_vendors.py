"""A mixed fleet: VDA 5050 stand-ins over Mosquitto and AGVs behind an OPC UA fleet controller
(asyncua stand-in, the edge's OPC UA AGV adapter) take tasks from one manager, with no conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from central.fleet.domain import TaskKind, TaskStatus
from central.fleet.layout import HOME, PACK, PICK, generate_layout
from central.fleet.links import VehicleLinks
from central.fleet.manager import FleetConfig, FleetManager
from edge.config import OpcUaConfig
from simulators.opcua_agv import OBJECT_ID, OpcUaAgvConfig, OpcUaAgvStandIn
from simulators.vda5050.trajectory import find_conflicts
from tests.helpers import wait_for
from tests.integration.fleet_support import (
    ManagerBox,
    agv_accounts,
    manager_running,
    vda_master,
    vda_standins,
)
from whs.broker import LocalBroker, find_free_port
from whs.fleet_runtime import DirectController

pytestmark = pytest.mark.integration

TIME_FACTOR = 10.0


def test_vda5050_and_opcua_vehicles_share_the_work_without_conflicts(tmp_path: Path) -> None:
    layout = generate_layout(5, width=25, stations=6)
    homes = [layout.node_id(c) for c in layout.cells(HOME)[:5]]
    vda = {f"agv{i:02d}": homes[i] for i in range(3)}
    acme = {f"acme{i:02d}": homes[3 + i] for i in range(2)}
    with LocalBroker(tmp_path / "broker", agv_accounts(list(vda))) as broker:
        standins = vda_standins(broker, layout, vda, TIME_FACTOR, validate_outgoing=True)
        controller = OpcUaAgvStandIn(
            OpcUaAgvConfig(
                vehicles=acme, port=find_free_port(), step_s=1.0, time_factor=TIME_FACTOR
            ),
            clock=standins.now,  # one clock for every trajectory
        )
        controller.start()
        box = ManagerBox()
        master = vda_master(broker, "fleet-mixed", box)
        opcua = DirectController(
            OpcUaConfig(
                id="agvctl-01",
                endpoint=controller.endpoint,
                browse_root=OBJECT_ID,
                publishing_interval_ms=50,
                kind="opcua_agv",
            ),
            on_state=box.on_state,
            on_connection=box.on_connection,
        )
        links = VehicleLinks(default=master)
        for serial in acme:
            links.add(serial, opcua.link)
        # stuck thresholds well above a busy host's lag (in simulated seconds at x10)
        config = FleetConfig(stale_state_s=300.0, no_progress_s=150.0)
        manager = FleetManager(layout, links, standins.now, {**vda, **acme}, config)
        box.manager = manager
        master.start()
        opcua.start()
        assert master.wait_connected(10) and opcua.wait_connected(10)
        standins.start()
        try:
            with manager_running(manager):
                picks, packs = layout.cells(PICK), layout.cells(PACK)
                ids = [
                    manager.submit(
                        TaskKind.TOTE,
                        layout.node_id(picks[i % len(picks)]),
                        layout.node_id(packs[(i * 5 + 2) % len(packs)]),
                        f"tote-{i:02d}",
                    ).id
                    for i in range(16)
                ]
                wait_for(
                    lambda: all(manager.tasks[i].status == TaskStatus.DONE for i in ids), 45, 0.2
                )
                now = standins.now()
                tasks = [manager.tasks[i] for i in ids]
                trajectories = {
                    **{s: v.trajectory for s, v in standins.vehicles.items()},
                    **controller.trajectories,
                }
                loaded = {s: controller.values[s]["Loaded"] for s in acme}
                failed_calls = list(opcua.failed_calls)
        finally:
            standins.stop()
            opcua.stop()
            master.stop()
            controller.stop()
    assert [t.status for t in tasks] == [TaskStatus.DONE] * 16, [
        (t.id, t.status, t.vehicles) for t in tasks
    ]
    by_vendor = {t.vehicle[:4] for t in tasks if t.vehicle}
    assert by_vendor == {"agv0", "acme"}  # both vendors carried totes
    assert find_conflicts(trajectories, now) == []
    assert sum(len(trajectories[s].moves) for s in acme) > 10  # the OPC UA vehicles drove
    assert loaded == {s: False for s in acme}  # picked up (SetLoaded) and dropped every tote
    assert failed_calls == []

"""A mixed fleet: VDA 5050 stand-ins over Mosquitto and AGVs behind an OPC UA fleet controller
(asyncua stand-in, the edge's OPC UA AGV adapter) take tasks from one manager, with no conflicts."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from central.fleet.domain import TaskKind, TaskStatus
from central.fleet.layout import HOME, PACK, PICK, generate_layout
from central.fleet.links import VehicleLinks
from central.fleet.manager import FleetConfig, FleetManager
from edge.adapters.vda5050 import Vda5050Master
from edge.config import BrokerConfig, OpcUaConfig
from simulators.opcua_agv import OBJECT_ID, OpcUaAgvConfig, OpcUaAgvStandIn
from simulators.vda5050.config import parse_agv_config
from simulators.vda5050.runner import AgvStandIns
from simulators.vda5050.trajectory import find_conflicts
from whs.broker import AGV, CENTRAL, BrokerAccount, LocalBroker, find_free_port
from whs.fleet_runtime import DirectController

pytestmark = pytest.mark.integration

TIME_FACTOR = 10.0
PASSWORD = "agv-pass"


def test_vda5050_and_opcua_vehicles_share_the_work_without_conflicts(tmp_path: Path) -> None:
    layout = generate_layout(5, width=25, stations=6)
    homes = [layout.node_id(c) for c in layout.cells(HOME)[:5]]
    vda = {f"agv{i:02d}": homes[i] for i in range(3)}
    acme = {f"acme{i:02d}": homes[3 + i] for i in range(2)}
    accounts = [BrokerAccount("central", CENTRAL)] + [
        BrokerAccount(s, AGV, password=PASSWORD) for s in vda
    ]
    with LocalBroker(tmp_path / "broker", accounts) as broker:
        standins = AgvStandIns(
            parse_agv_config(
                {
                    "broker": {
                        "host": broker.host,
                        "port": broker.port,
                        "username": "{serial}",
                        "password": PASSWORD,
                    },
                    "time_factor": TIME_FACTOR,
                    "validate_outgoing": True,
                    "vehicles": [
                        {
                            "serial": s,
                            "start_node": h,
                            "x": layout.position(layout.cell_of(h))[0],
                            "y": layout.position(layout.cell_of(h))[1],
                        }
                        for s, h in vda.items()
                    ],
                }
            )
        )
        controller = OpcUaAgvStandIn(
            OpcUaAgvConfig(
                vehicles=acme, port=find_free_port(), step_s=1.0, time_factor=TIME_FACTOR
            ),
            clock=standins.now,  # one clock for every trajectory
        )
        controller.start()
        box: list[FleetManager] = []
        master = Vda5050Master(
            BrokerConfig(
                host=broker.host,
                port=broker.port,
                username="central",
                password=broker.account("central").password,
            ),
            "fleet-mixed",
            manufacturer="whs-sim",
            on_state=lambda s, m: box[0].on_state(s, m),
            on_connection=lambda s, c: box[0].on_connection(s, c),
        )
        opcua = DirectController(
            OpcUaConfig(
                id="agvctl-01",
                endpoint=controller.endpoint,
                browse_root=OBJECT_ID,
                publishing_interval_ms=50,
                kind="opcua_agv",
            ),
            on_state=lambda s, m: box[0].on_state(s, m),
            on_connection=lambda s, c: box[0].on_connection(s, c),
        )
        links = VehicleLinks(default=master)
        for serial in acme:
            links.add(serial, opcua.link)
        # stuck thresholds well above a busy host's lag (in simulated seconds at x10)
        config = FleetConfig(stale_state_s=300.0, no_progress_s=150.0)
        manager = FleetManager(layout, links, standins.now, {**vda, **acme}, config)
        box.append(manager)
        master.start()
        opcua.start()
        assert master.wait_connected(10) and opcua.wait_connected(10)
        standins.start()
        stop = threading.Event()
        loop = threading.Thread(target=manager.run, args=(stop, 0.005), daemon=True)
        loop.start()
        try:
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
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:
                if all(manager.tasks[i].status == TaskStatus.DONE for i in ids):
                    break
                time.sleep(0.2)
            now = standins.now()
            tasks = [manager.tasks[i] for i in ids]
            trajectories = {
                **{s: v.trajectory for s, v in standins.vehicles.items()},
                **controller.trajectories,
            }
            loaded = {s: controller.values[s]["Loaded"] for s in acme}
            failed_calls = list(opcua.failed_calls)
        finally:
            stop.set()
            loop.join(5)
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

"""AGVs behind an OPC UA fleet controller driven through the edge: central's fleet sends device
commands (GoTo, SetLoaded, ...) over MQTT to the edge agent, which calls the controller's
methods; the controller's variables come back as `agv.state` events through the uplink and
central's ingest. Real Mosquitto, PostgreSQL, asyncua stand-in, edge agent, central app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from central.db.tables import Command
from central.fleet.layout import HOME, PACK, PICK, generate_layout
from simulators.opcua_agv import OBJECT_ID, OpcUaAgvConfig, OpcUaAgvStandIn
from simulators.vda5050.trajectory import find_conflicts
from tests.helpers import sign_in, wait_for
from tests.integration.fleet_support import central_app, edge_accounts, edge_serving
from whs.broker import LocalBroker, find_free_port
from whs.fleet_runtime import fleet_service

pytestmark = pytest.mark.integration

CONTROLLER = "agvctl-01"
TIME_FACTOR = 4.0  # 0.25 s per cell: room for a command round trip and the uplink


def test_opcua_agvs_driven_through_the_edge_finish_tasks(postgres_url: str, tmp_path: Path) -> None:
    layout = generate_layout(2, width=25, stations=4)
    homes = {f"acme{i}": layout.node_id(c) for i, c in enumerate(layout.cells(HOME)[:2])}
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(
        yaml.safe_dump(
            {
                "layout": {"generate": {"homes": 2, "width": 25, "stations": 4}},
                "step_s": 1.0 / TIME_FACTOR,
                "vehicles": [
                    {"serial": s, "home": h, "vendor": "opcua", "controller": CONTROLLER}
                    for s, h in homes.items()
                ],
                "opcua_controllers": [{"id": CONTROLLER, "via": "edge"}],
            }
        )
    )
    controller = OpcUaAgvStandIn(
        OpcUaAgvConfig(vehicles=homes, port=find_free_port(), time_factor=TIME_FACTOR)
    )
    controller.start()
    try:
        with (
            LocalBroker(tmp_path / "broker", edge_accounts()) as broker,
            central_app(postgres_url, broker, [fleet_service(fleet_file)]) as api,
            edge_serving(
                api,
                broker,
                tmp_path / "edge",
                controller.endpoint,
                CONTROLLER,
                "agv",
                kind="opcua_agv",
                browse_root=OBJECT_ID,
                publishing_interval_ms=50,
            ),
        ):
            app: Any = api.app
            operator = sign_in(api, "operator")
            picks = [layout.node_id(c) for c in layout.cells(PICK)]
            packs = [layout.node_id(c) for c in layout.cells(PACK)]
            ids = []
            for i in range(3):
                body = {"kind": "tote", "source": picks[i], "dest": packs[3 - i]}
                r = api.post("/api/v1/fleet/tasks", json=body, headers=operator)
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])

            def tasks() -> dict[str, dict[str, object]]:
                listed = api.get("/api/v1/fleet/tasks", headers=operator).json()
                return {t["id"]: t for t in listed}

            assert wait_for(lambda: all(tasks()[i]["status"] == "done" for i in ids), 60), tasks()
            done = tasks()
            service = app.state.fleet_service
            failed = [list(c.failed_calls) for c in service.controllers]
            with app.state.container.sessions() as session:
                sent = session.execute(
                    select(Command.action, Command.status).where(Command.target == CONTROLLER)
                ).all()
            controller.stop()  # the edge reports its device offline
            viewer = sign_in(api, "viewer")

            def vehicles() -> list[dict[str, object]]:
                return list(api.get("/api/v1/fleet/vehicles", headers=viewer).json())

            offline = wait_for(lambda: all(v["status"] == "offline" for v in vehicles()), 20)
    finally:
        controller.stop()
    assert {done[i]["vehicle"] for i in ids} <= set(homes)
    assert offline, "the controller's vehicles were not marked offline"
    assert failed == [[]]
    assert find_conflicts(controller.trajectories, controller.now()) == []
    assert sum(len(t.moves) for t in controller.trajectories.values()) > 6
    actions = {action for action, _ in sent}  # the calls went down as device commands
    assert {"GoTo", "SetLoaded"} <= actions
    assert {status for _, status in sent} <= {"ok", "sent", "pending"}

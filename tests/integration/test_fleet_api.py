"""The fleet API: a live map's feed, tasks, pause and emergency stop with role checks."""

from __future__ import annotations

from central.fleet.layout import PACK, PICK, generate_layout
from simulators.vda5050.inprocess import InProcessFleet
from tests.helpers import api_client, settings_for, sign_in


def test_fleet_endpoints_serve_the_map_take_tasks_and_stop_the_fleet(sqlite_url: str) -> None:
    sim = InProcessFleet(generate_layout(3, stations=4), 3)
    pick = sim.layout.node_id(sim.layout.cells(PICK)[0])
    pack = sim.layout.node_id(sim.layout.cells(PACK)[1])
    with api_client(settings_for(sqlite_url)) as client:
        viewer = sign_in(client, "viewer")
        operator = sign_in(client, "operator")
        assert client.get("/api/v1/fleet", headers=viewer).status_code == 503  # none running
        client.app.state.fleet = sim.fleet  # type: ignore[attr-defined]
        grid = client.get("/api/v1/fleet/map", headers=viewer).json()
        assert {n["id"] for n in grid["nodes"]} >= {pick, pack}
        body = {"kind": "tote", "source": pick, "dest": pack, "load_id": "tote-9"}
        assert client.post("/api/v1/fleet/tasks", json=body, headers=viewer).status_code == 403
        created = client.post("/api/v1/fleet/tasks", json=body, headers=operator)
        assert created.status_code == 201, created.text
        wrong = {**body, "source": pack, "dest": pick}
        assert client.post("/api/v1/fleet/tasks", json=wrong, headers=operator).status_code == 422
        sim.run(5)
        feed = client.get("/api/v1/fleet", headers=viewer).json()
        moving = [v for v in feed["vehicles"] if v["task_id"] == created.json()["id"]]
        assert moving and len(moving[0]["path"]) > 1  # the live map sees the planned path
        assert client.post("/api/v1/fleet/emergency-stop", headers=operator).json() == {
            "emergency_stop": True
        }
        release = "/api/v1/fleet/emergency-stop/release"
        assert client.post(release, headers=operator).status_code == 403  # supervisors only
        assert client.post(release, headers=sign_in(client, "supervisor")).status_code == 200
        sim.run(300)
        task = client.get("/api/v1/fleet/tasks", headers=viewer).json()[0]
        assert task["status"] == "done" and task["load_id"] == "tote-9"

"""The fleet API: a live map's feed, tasks, pause and emergency stop with role checks."""

from __future__ import annotations

from central.fleet.domain import TaskKind, TaskStatus
from central.fleet.layout import PACK, PICK, generate_layout
from simulators.vda5050.inprocess import InProcessFleet
from tests.helpers import api_client, settings_for, sign_in
from tests.unit.fleet.test_blocked_ways import freeze_at_a_dock_entrance
from tests.unit.fleet.test_stuck import submit_pallets


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


def test_a_supervisor_recovers_a_load_left_on_a_vehicle_or_cancels_a_task(sqlite_url: str) -> None:
    sim = InProcessFleet(generate_layout(3, stations=4), 3)
    picks, packs = sim.layout.cells(PICK), sim.layout.cells(PACK)
    node = sim.layout.node_id
    task = sim.fleet.submit(TaskKind.TOTE, node(picks[0]), node(packs[1]), "tote-7")
    while sim.fleet.tasks[task.id].status != TaskStatus.CARRYING:
        sim.run(sim.env.now + 0.5)
    carrier = task.vehicle or ""
    sim.fleet.on_connection(carrier, "CONNECTIONBROKEN")  # its last will, tote on board
    sim.run(sim.env.now + 1)
    with api_client(settings_for(sqlite_url)) as client:
        client.app.state.fleet = sim.fleet  # type: ignore[attr-defined]
        viewer, operator = sign_in(client, "viewer"), sign_in(client, "operator")
        supervisor = sign_in(client, "supervisor")
        feed = client.get("/api/v1/fleet", headers=viewer).json()
        assert [a["task_id"] for a in feed["alarms"]] == [task.id]
        assert f"tote-7 is on vehicle {carrier}" in feed["alarms"][0]["message"]
        held = client.get(
            "/api/v1/fleet/tasks", params={"task_status": "needs_recovery"}, headers=viewer
        )
        assert [t["id"] for t in held.json()] == [task.id] and held.headers["X-Total-Count"] == "1"

        url = f"/api/v1/fleet/tasks/{task.id}/recover"
        spot = node(picks[2])  # the operator put the tote down at another pick station
        assert client.post(url, json={"node": spot}, headers=operator).status_code == 403
        bad = client.post(url, json={"node": "c999_1"}, headers=supervisor)
        assert bad.status_code == 422 and "c999_1" in bad.json()["detail"]
        missing = "/api/v1/fleet/tasks/T09999/recover"
        assert client.post(missing, json={"node": spot}, headers=supervisor).status_code == 404
        recovered = client.post(url, json={"node": spot}, headers=supervisor)
        assert recovered.status_code == 200, recovered.text
        assert recovered.json()["status"] == "pending" and recovered.json()["source"] == spot
        again = client.post(url, json={"node": spot}, headers=supervisor)
        assert again.status_code == 409 and "not needs_recovery" in again.json()["detail"]
        assert client.get("/api/v1/fleet", headers=viewer).json()["alarms"] == []
        sim.run(sim.env.now + 300)
        done = sim.fleet.task_view(sim.fleet.tasks[task.id])
        assert done["status"] == "done" and done["vehicle"] != carrier

        # a queued task that nobody carries yet can be cancelled (no tick runs in between)
        queued = sim.fleet.submit(TaskKind.TOTE, node(picks[1]), node(packs[0]), "tote-8")
        cancel = f"/api/v1/fleet/tasks/{queued.id}/cancel"
        assert client.post(cancel, headers=supervisor).json()["status"] == "cancelled"
        twice = client.post(cancel, headers=supervisor)
        assert twice.status_code == 409 and "cannot be cancelled" in twice.json()["detail"]


def test_a_supervisor_frees_the_nodes_of_a_vehicle_taken_off_the_floor(sqlite_url: str) -> None:
    sim = InProcessFleet(generate_layout(4, stations=6), 4)
    ids = submit_pallets(sim, 6)
    serial, _ = freeze_at_a_dock_entrance(sim)
    sim.run(sim.env.now + 300)  # it goes stale; the tasks of its dock wait
    with api_client(settings_for(sqlite_url)) as client:
        client.app.state.fleet = sim.fleet  # type: ignore[attr-defined]
        viewer, operator = sign_in(client, "viewer"), sign_in(client, "operator")
        supervisor = sign_in(client, "supervisor")
        feed = client.get("/api/v1/fleet", headers=viewer).json()
        (alarm,) = feed["alarms"]
        assert alarm["kind"] == "blocked_way" and f"{serial} (stale)" in alarm["message"]
        waiting = [t for t in feed["tasks"] if t["status"] == "pending"]
        assert waiting and all(serial in t["waiting"] for t in waiting)
        held = {b["node"] for b in feed["blocked"]}
        assert held and all(b["vehicle"] == serial for b in feed["blocked"])

        url = f"/api/v1/fleet/vehicles/{serial}/removed"
        assert client.post(url, headers=operator).status_code == 403
        assert (
            client.post("/api/v1/fleet/vehicles/agv999/removed", headers=supervisor).status_code
            == 404
        )
        in_service = next(s for s in sim.fleet.vehicles if s != serial)
        refused = client.post(f"/api/v1/fleet/vehicles/{in_service}/removed", headers=supervisor)
        assert refused.status_code == 409 and "in service" in refused.json()["detail"]
        node = sorted(held)[0]
        not_an_obstacle = client.post(f"/api/v1/fleet/nodes/{node}/clear", headers=supervisor)
        assert not_an_obstacle.status_code == 409 and serial in not_an_obstacle.json()["detail"]
        assert (
            client.post("/api/v1/fleet/nodes/c999_9/clear", headers=supervisor).status_code == 404
        )

        sim.vehicles[serial].remove_from_floor()
        removed = client.post(url, headers=supervisor)
        assert removed.status_code == 200 and removed.json()["status"] == "stale"
        feed = client.get("/api/v1/fleet", headers=viewer).json()
        assert feed["blocked"] == [] and feed["alarms"] == []
    sim.run(sim.env.now + 900)
    assert all(sim.fleet.tasks[i].status == TaskStatus.DONE for i in ids)

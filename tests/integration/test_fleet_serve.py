"""The fleet inside central (`whs central serve`'s services): real Mosquitto, VDA 5050 stand-ins,
tasks over the HTTP API, and a central restart that finds its unfinished tasks again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from central.db.engine import make_engine, make_session_factory
from central.db.tables import FleetTask
from central.fleet.layout import HOME, PACK, PICK, generate_layout
from tests.helpers import api_client, sign_in, wait_for
from tests.integration.fleet_support import agv_accounts, central_settings, vda_standins
from whs.broker import LocalBroker
from whs.fleet_runtime import fleet_service

pytestmark = pytest.mark.integration

TIME_FACTOR = 20.0


def test_central_runs_the_fleet_and_a_restart_requeues_unfinished_tasks(
    database_url: str, tmp_path: Path
) -> None:
    layout = generate_layout(3, width=25, stations=4)
    homes = [layout.node_id(c) for c in layout.cells(HOME)[:3]]
    serials = ["agv00", "agv01", "agv02"]
    fleet_file = tmp_path / "fleet.yaml"
    fleet_file.write_text(
        yaml.safe_dump(
            {
                "layout": {"generate": {"homes": 3, "width": 25, "stations": 4}},
                "step_s": 1.0 / TIME_FACTOR,  # real seconds per cell at 1 m/s
                "stale_state_s": 10.0,
                "no_progress_s": 5.0,
                "vehicles": [{"serial": s, "home": h} for s, h in zip(serials, homes, strict=True)],
            }
        )
    )
    picks = [layout.node_id(c) for c in layout.cells(PICK)]
    packs = [layout.node_id(c) for c in layout.cells(PACK)]
    with LocalBroker(tmp_path / "broker", agv_accounts(serials)) as broker:
        settings = central_settings(database_url, broker)
        standins = vda_standins(
            broker,
            layout,
            dict(zip(serials, homes, strict=True)),
            TIME_FACTOR,
            vehicle={"state_interval_s": 10},
        )
        standins.start()
        try:
            services = [fleet_service(fleet_file)]

            def tasks(client: TestClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
                listed = client.get("/api/v1/fleet/tasks", headers=headers).json()
                return {t["id"]: t for t in listed}

            with api_client(settings, services=services) as client:
                operator = sign_in(client, "operator")
                first = []
                for i in range(3):
                    body = {
                        "kind": "tote",
                        "source": picks[i],
                        "dest": packs[i],
                        "load_id": f"tote-{i}",
                    }
                    created = client.post("/api/v1/fleet/tasks", json=body, headers=operator)
                    assert created.status_code == 201, created.text
                    first.append(created.json()["id"])
                assert wait_for(
                    lambda: all(tasks(client, operator)[i]["status"] == "done" for i in first),
                    20,
                    0.1,
                ), tasks(client, operator)
                done_by = {i: tasks(client, operator)[i]["vehicle"] for i in first}
                bad = {"kind": "tote", "source": packs[0], "dest": picks[0]}
                assert (
                    client.post("/api/v1/fleet/tasks", json=bad, headers=operator).status_code
                    == 422
                )
                later = [
                    client.post(
                        "/api/v1/fleet/tasks",
                        json={"kind": "tote", "source": picks[3], "dest": packs[3 - i]},
                        headers=operator,
                    ).json()["id"]
                    for i in range(2)
                ]
            # central is down: the unfinished tasks are in the database
            engine = make_engine(database_url)
            with make_session_factory(engine)() as session:
                rows = {r.id: r for r in session.scalars(select(FleetTask))}
            assert {rows[i].status for i in first} == {"done"}
            assert all(rows[i].done_at is not None and rows[i].vehicle == done_by[i] for i in first)
            assert {rows[i].status for i in later} <= {"pending", "assigned", "carrying"}

            with api_client(settings, seed=False, services=services) as client:
                viewer = sign_in(client, "viewer")
                restored = tasks(client, viewer)
                assert set(restored) == set(first + later)  # the history spans the restart
                assert {restored[i]["status"] for i in first} == {"done"}
                page = client.get(
                    "/api/v1/fleet/tasks",
                    params={"task_status": "done", "limit": 2, "offset": 1},
                    headers=viewer,
                )
                assert page.headers["X-Total-Count"] == "3"  # the first run's done tasks
                assert [t["id"] for t in page.json()] == list(reversed(first))[1:]  # newest first
                bad_filter = {"task_status": "lost"}
                assert (
                    client.get("/api/v1/fleet/tasks", params=bad_filter, headers=viewer).status_code
                    == 422
                )
                assert wait_for(
                    lambda: all(tasks(client, viewer)[i]["status"] == "done" for i in later),
                    30,
                    0.1,
                ), tasks(client, viewer)
                operator = sign_in(client, "operator")
                body = {"kind": "tote", "source": picks[0], "dest": packs[0]}
                again = client.post("/api/v1/fleet/tasks", json=body, headers=operator).json()
                assert again["id"] not in rows  # numbering goes on after the stored ids
            with make_session_factory(engine)() as session:
                statuses = {r.id: r.status for r in session.scalars(select(FleetTask))}
            engine.dispose()
            assert all(statuses[i] == "done" for i in first + later)
        finally:
            standins.stop()

"""Robot-arm pick stations end to end: central pick tasks -> MQTT -> edge -> OPC UA methods.

Real Mosquitto, PostgreSQL (a private schema), the asyncua robot-arm stand-in
(simulators/robot_arm.py), the edge agent with its robot-arm adapter, and central with its
ingest worker, MQTT link and station manager.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from central.db.tables import DeviceEvent
from edge.agent import EdgeAgent
from simulators.robot_arm import OBJECT_ID, ArmConfig, RobotArmStandIn
from tests.conftest import _psycopg_url, private_postgres_schema
from tests.helpers import sign_in, wait_for
from tests.integration.fleet_support import central_app, edge_accounts, edge_serving
from whs.broker import LocalBroker, find_free_port

pytestmark = pytest.mark.integration

ARM = "arm-01"


@dataclass
class Stack:
    api: TestClient
    operator: dict[str, str]
    supervisor: dict[str, str]
    arm: RobotArmStandIn
    edge: EdgeAgent
    db_url: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("arm")
    with (
        private_postgres_schema() as db_url,
        LocalBroker(tmp / "broker", edge_accounts()) as broker,
    ):
        # cycles of about 0.2 s + 0.125 s (4 s and 2.5 s at x20)
        arm = RobotArmStandIn(ArmConfig(port=find_free_port(), time_factor=20, seed=7))
        arm.start()
        try:
            with (
                central_app(db_url, broker) as api,
                edge_serving(
                    api,
                    broker,
                    tmp / "edge",
                    arm.endpoint,
                    ARM,
                    "robot_arm",
                    kind="robot_arm",
                    browse_root=OBJECT_ID,
                ) as edge,
            ):
                stack = Stack(
                    api, sign_in(api, "operator"), sign_in(api, "supervisor"), arm, edge, db_url
                )
                devices = lambda: api.get("/api/v1/devices", headers=stack.supervisor).json()  # noqa: E731
                assert wait_for(
                    lambda: any(
                        d["device_id"] == ARM and d["edge_id"] == "edge-01" for d in devices()
                    ),
                    15,
                ), "central never learnt which edge serves the arm"
                yield stack
        finally:
            arm.stop()


def queue(stack: Stack, sku: str, qty: int, tote: str) -> str:
    response = stack.api.post(
        "/api/v1/stations/tasks",
        json={"station": ARM, "sku": sku, "qty": qty, "tote": tote},
        headers=stack.operator,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def tasks(stack: Stack) -> dict[str, dict[str, Any]]:
    rows = stack.api.get("/api/v1/stations/tasks", headers=stack.operator).json()
    return {t["id"]: t for t in rows}


def settled(stack: Stack, ids: list[str], timeout_s: float = 20) -> dict[str, dict[str, Any]]:
    final = ("done", "exception", "cancelled")
    got = wait_for(
        lambda: (t := tasks(stack)) and all(t[i]["status"] in final for i in ids) and t,
        timeout_s,
        step_s=0.1,
    )
    assert got, f"tasks did not settle: {[tasks(stack)[i] for i in ids]}"
    return {i: got[i] for i in ids}


def logged(stack: Stack, kind: str) -> list[dict[str, Any]]:
    engine = create_engine(_psycopg_url(stack.db_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(DeviceEvent.data)
                .where(DeviceEvent.type == kind, DeviceEvent.source == ARM)
                .order_by(DeviceEvent.seq, DeviceEvent.idx)
            )
            return [r[0] for r in rows]
    finally:
        engine.dispose()


def test_station_completes_pick_tasks_through_opcua_method_calls(stack: Stack) -> None:
    before = stack.arm.picks
    ids = [queue(stack, f"SKU-{n}", n, f"TOTE-{n}") for n in (1, 2, 3)]
    done = settled(stack, ids)
    assert [t["status"] for t in done.values()] == ["done"] * 3
    assert stack.arm.picks == before + 3
    assert [c for c in stack.arm.calls if c.startswith("PickAndPlace(SKU-")][-3:] == [
        "PickAndPlace(SKU-1, 1, TOTE-1)",
        "PickAndPlace(SKU-2, 2, TOTE-2)",
        "PickAndPlace(SKU-3, 3, TOTE-3)",
    ]
    for task in done.values():
        (attempt,) = task["attempts"]
        assert attempt["status"] == "ok" and attempt["cycle_ms"] > 100  # ~0.33 s at x20
    totes = {"TOTE-1", "TOTE-2", "TOTE-3"}

    def logged_totes() -> set[str]:
        return {r["tote"] for r in logged(stack, "arm.pick_result") if r["ok"]}

    # the pick results travel edge -> uplink -> central after the commands answered: wait for all
    assert wait_for(lambda: logged_totes() >= totes, 15), logged_totes()
    states = logged(stack, "arm.state")
    assert states and states[0]["operational_mode"] == "AUTOMATIC"
    assert states[-1]["emergency_stop"] is False
    assert wait_for(lambda: logged(stack, "arm.state")[-1]["picks"] == stack.arm.picks, 5)


def test_a_failed_pick_is_reported_and_retried(stack: Stack) -> None:
    stack.arm.fail_next(1, code=1)
    (task_id,) = ids = [queue(stack, "SKU-F", 1, "TOTE-F")]
    task = settled(stack, ids)[task_id]
    assert task["status"] == "done"
    first, second = task["attempts"]
    assert first["status"] == "error" and "grasp_failed" in first["detail"]
    assert second["status"] == "ok"
    assert stack.arm.calls.count("PickAndPlace(SKU-F, 1, TOTE-F)") == 2

    def results_for_tote() -> list[tuple[bool, str]]:
        logged_results = logged(stack, "arm.pick_result")
        return [(r["ok"], r["reason"]) for r in logged_results if r.get("tote") == "TOTE-F"]

    # both results travel edge -> uplink -> central after the method calls answered: wait for both
    wait_for(lambda: len(results_for_tote()) >= 2, 10)
    results = results_for_tote()
    assert results == [(False, "grasp_failed"), (True, "ok")]


def test_a_pick_failing_every_attempt_waits_for_a_supervisor(stack: Stack) -> None:
    stack.arm.fail_next(3, code=2)
    task_id = queue(stack, "SKU-X", 2, "TOTE-X")
    later = queue(stack, "SKU-Y", 1, "TOTE-Y")
    got = settled(stack, [task_id, later])
    task = got[task_id]
    assert task["status"] == "exception" and "item_dropped" in task["reason"]
    assert [a["status"] for a in task["attempts"]] == ["error"] * 3
    assert got[later]["status"] == "done", "the station goes on with the next task"
    waiting = stack.api.get(
        "/api/v1/stations/tasks", params={"task_status": "exception"}, headers=stack.operator
    ).json()
    assert [t["id"] for t in waiting] == [task_id]
    refused = stack.api.post(f"/api/v1/stations/tasks/{task_id}/retry", headers=stack.operator)
    assert refused.status_code == 403, "operators cannot override an exception"
    retried = stack.api.post(f"/api/v1/stations/tasks/{task_id}/retry", headers=stack.supervisor)
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert settled(stack, [task_id])[task_id]["status"] == "done"


def test_emergency_stop_is_reported_and_refused_picks_escalate(stack: Stack) -> None:
    stack.arm.set_emergency_stop(True)
    try:
        assert wait_for(lambda: logged(stack, "arm.state")[-1]["emergency_stop"] is True, 10)
        assert logged(stack, "arm.state")[-1]["state"] == "Stopped"
        task_id = queue(stack, "SKU-E", 1, "TOTE-E")
        task = settled(stack, [task_id])[task_id]
        assert task["status"] == "exception" and "BadInvalidState" in task["reason"]
    finally:
        stack.arm.set_emergency_stop(False)
    assert wait_for(lambda: logged(stack, "arm.state")[-1]["emergency_stop"] is False, 10)
    stack.api.post(f"/api/v1/stations/tasks/{task_id}/retry", headers=stack.supervisor)
    assert settled(stack, [task_id])[task_id]["status"] == "done"

"""Commands and health end to end: API -> PostgreSQL -> MQTT -> edge -> OPC UA -> back.

Real Mosquitto, PostgreSQL (a private schema), an asyncua controller stand-in, the edge agent
and central with its ingest worker and MQTT link.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select

from central.db.tables import TelemetrySample
from edge.agent import EdgeAgent
from simulators.opcua_controller import ControllerConfig, OpcUaControllerStandIn
from tests.conftest import _psycopg_url, private_postgres_schema
from tests.helpers import sign_in, wait_for
from tests.integration.fleet_support import central_app, edge_accounts, edge_serving
from whs.broker import LocalBroker, find_free_port

pytestmark = pytest.mark.integration


@dataclass
class Stack:
    api: TestClient
    supervisor: dict[str, str]
    server: OpcUaControllerStandIn
    edge: EdgeAgent
    db_url: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("commands")
    with (
        private_postgres_schema() as db_url,
        LocalBroker(tmp / "broker", edge_accounts()) as broker,
    ):
        server = OpcUaControllerStandIn(ControllerConfig(tags=6, rate_hz=5, port=find_free_port()))
        server.start()
        try:
            with (
                central_app(db_url, broker) as api,
                edge_serving(
                    api, broker, tmp / "edge", server.endpoint, "ctl-01", "robot_arm"
                ) as edge,
            ):
                yield Stack(api, sign_in(api, "supervisor"), server, edge, db_url)
        finally:
            server.stop()


def device(stack: Stack, device_id: str) -> dict[str, Any]:
    rows = stack.api.get("/api/v1/devices", headers=stack.supervisor).json()
    return next(d for d in rows if d["device_id"] == device_id)


def finished(stack: Stack, command_id: str, timeout_s: float = 10) -> dict[str, Any]:
    def poll() -> dict[str, Any] | None:
        body = stack.api.get(f"/api/v1/commands/{command_id}", headers=stack.supervisor).json()
        return body if body["status"] not in ("pending", "sent") else None

    body = wait_for(poll, timeout_s, step_s=0.1)
    assert body, f"command {command_id} did not finish"
    return body


@pytest.fixture(scope="module")
def served(stack: Stack) -> Stack:
    """The stack once central has learnt from the edge that it serves ctl-01."""
    assert wait_for(lambda: device(stack, "ctl-01")["edge_id"] == "edge-01", 15)
    return stack


def test_a_device_without_a_known_edge_cannot_take_commands(stack: Stack) -> None:
    response = stack.api.post(
        "/api/v1/commands",
        json={"target": "scale-99", "action": "Tare"},
        headers=stack.supervisor,
    )
    assert response.status_code == 404


def test_method_call_result_reaches_central(served: Stack) -> None:
    assert device(served, "ctl-01")["online"] is True
    response = served.api.post(
        "/api/v1/commands",
        json={"target": "ctl-01", "action": "SetSetpoint", "params": {"setpoint": 7.5}},
        headers=served.supervisor,
    )
    assert response.status_code == 201, response.text
    body = finished(served, response.json()["id"])
    assert body["status"] == "ok" and body["edge_id"] == "edge-01"
    assert body["result"] == {"outputs": [0.0]}
    assert served.server.setpoint == 7.5


def test_repeated_id_returns_the_stored_command_and_runs_once(served: Stack) -> None:
    payload = {"id": "reset-1", "target": "ctl-01", "action": "Reset"}
    first = served.api.post("/api/v1/commands", json=payload, headers=served.supervisor)
    assert first.status_code == 201
    done = finished(served, "reset-1")
    assert done["status"] == "ok"
    again = served.api.post("/api/v1/commands", json=payload, headers=served.supervisor)
    assert again.status_code == 200
    assert again.json()["result"] == done["result"]
    time.sleep(0.3)
    assert served.server.calls.count("Reset") == 1


def test_deadline_is_honoured(served: Stack) -> None:
    response = served.api.post(
        "/api/v1/commands",
        json={
            "target": "ctl-01",
            "action": "Wait",
            "params": {"seconds": 5},
            "deadline_s": 0.8,
        },
        headers=served.supervisor,
    )
    started = time.monotonic()
    body = finished(served, response.json()["id"], timeout_s=6)
    assert body["status"] == "timeout"
    assert time.monotonic() - started < 4


def test_operators_may_not_send_commands(served: Stack) -> None:
    operator = sign_in(served.api, "operator")
    response = served.api.post(
        "/api/v1/commands", json={"target": "ctl-01", "action": "Reset"}, headers=operator
    )
    assert response.status_code == 403


def test_edge_health_and_telemetry_history(served: Stack) -> None:
    def edge() -> dict[str, Any] | None:
        rows = served.api.get("/api/v1/edges", headers=served.supervisor).json()
        return next((e for e in rows if e["edge_id"] == "edge-01" and e["health"]), None)

    row = wait_for(edge, 10)
    assert row and row["online"] is True and row["site"] == "wh1"
    assert row["health"]["devices"]["ctl-01"]["online"] is True
    assert isinstance(row["health"]["pending"], int)
    engine = create_engine(_psycopg_url(served.db_url))
    try:
        with engine.connect() as conn:
            count = wait_for(
                lambda: conn.scalar(
                    select(func.count())
                    .select_from(TelemetrySample)
                    .where(TelemetrySample.device_id == "ctl-01")
                ),
                10,
            )
        assert count and count >= 6
    finally:
        engine.dispose()

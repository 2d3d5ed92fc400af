"""OPC UA vehicles behind an edge: their states reach the fleet from ingest as each batch is
committed (no polling of the event log), once, and only while the controller link listens."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from central.fleet.edge_controller import EdgeController
from central.stations.manager import Outcome
from tests.helpers import api_client, settings_for, sign_in

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class NoCommands:
    def send(self, target: str, action: str, params: dict[str, Any], deadline_s: float) -> str:
        raise AssertionError("no command is sent in this test")

    def outcome(self, command_id: str) -> Outcome | None:
        return None


def agv_state(serial: str, node: str) -> dict[str, Any]:
    data = {
        "serial": serial,
        "manufacturer": "acme",
        "order_id": "",
        "order_update_id": 0,
        "last_node_id": node,
        "driving": False,
        "paused": False,
        "battery_pct": 88.0,
        "charging": False,
        "loaded": False,
        "errors": [],
        "position": {"x": 3.0, "y": 1.0, "theta": 0.0},
    }
    return {"type": "agv.state", "source": serial, "ts": NOW, "data": data}


def controller_status(online: bool) -> dict[str, Any]:
    data = {"device_id": "agvctl-01", "online": online, "ts": NOW, "reason": "last-will"}
    return {"type": "device.status", "source": "agvctl-01", "ts": NOW, "data": data}


def test_agv_states_reach_the_fleet_when_their_batch_is_committed(sqlite_url: str) -> None:
    states: list[tuple[str, dict[str, Any]]] = []
    connections: list[tuple[str, str]] = []
    with api_client(settings_for(sqlite_url)) as client:
        sessions = client.app.state.container.sessions  # type: ignore[attr-defined]
        admin = sign_in(client, "admin", "admin")

        def send(seq: int, *events: dict[str, Any]) -> None:
            batch = {"edge_id": "edge-01", "site": "wh1", "epoch": 1, "seq": seq}
            body = {**batch, "sent_at": NOW, "events": list(events)}
            r = client.post("/api/v1/ingest/batches", json=body, headers=admin)
            assert r.status_code == 200, r.text

        controller = EdgeController(
            "agvctl-01",
            ["acme01"],
            NoCommands(),
            sessions,
            lambda serial, state: states.append((serial, state)),
            lambda serial, how: connections.append((serial, how)),
        )
        controller.start()
        try:
            send(1, agv_state("acme01", "c3_1"), agv_state("other01", "c5_1"))
            # handed over in the request that committed it: nothing to wait for
            assert [(s, st["lastNodeId"]) for s, st in states] == [("acme01", "c3_1")]
            assert states[0][1]["batteryState"]["batteryCharge"] == 88.0
            send(1, agv_state("acme01", "c4_1"))  # a duplicate batch is not applied again
            assert len(states) == 1
            send(2, agv_state("acme01", "c4_1"), controller_status(False))
            assert states[-1][1]["lastNodeId"] == "c4_1"
            assert connections == [("acme01", "CONNECTIONBROKEN")]
        finally:
            controller.stop()
        send(3, agv_state("acme01", "c5_1"))  # no longer listening
        assert states[-1][1]["lastNodeId"] == "c4_1"

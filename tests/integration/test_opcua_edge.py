"""The edge against real asyncua servers and a real Mosquitto: samples, commands, reconnects.

A stand-in controller (simulators/opcua_controller.py) serves tags and methods on a free port;
the edge agent subscribes and uplinks; a fake central acks batches and sends commands.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge.adapters.opcua import OpcUaAdapter
from edge.agent import EdgeAgent
from edge.config import parse_edge_config
from simulators.opcua_controller import (
    APPLICATION_URI,
    OBJECT_ID,
    ControllerConfig,
    OpcUaControllerStandIn,
    tag_node_id,
)
from tests.integration.opcua_support import FakeCentral, make_certificate, wait_for
from whs.broker import CENTRAL, EDGE, BrokerAccount, LocalBroker, find_free_port

pytestmark = pytest.mark.integration

TAGS = 30


@dataclass
class Rig:
    broker: LocalBroker
    server: OpcUaControllerStandIn
    edge: EdgeAgent
    central: FakeCentral


def edge_config(broker: LocalBroker, folder: Path, endpoint: str, **device: Any) -> Any:
    account = broker.account("edge-01")
    return parse_edge_config(
        {
            "edge_id": "edge-01",
            "site": "wh1",
            "data_dir": str(folder),
            "heartbeat_s": 0.5,
            "broker": {
                "host": broker.host,
                "port": broker.port,
                "username": account.username,
                "password": account.password,
            },
            "uplink": {"max_batch_delay_s": 0.05, "journal": "memory"},
            "devices": [
                {
                    "id": "ctl-01",
                    "kind": "opcua",
                    "endpoint": endpoint,
                    "browse_root": OBJECT_ID,
                    "publishing_interval_ms": 100,
                    "max_nodes_per_subscription": 8,
                    "reconnect_min_s": 0.2,
                    "reconnect_max_s": 1.0,
                    **device,
                }
            ],
        }
    )


@contextmanager
def rig(folder: Path, tags: int = TAGS, rate_hz: float = 5.0) -> Iterator[Rig]:
    """Broker, stand-in controller, edge agent and fake central, all started."""
    accounts = [BrokerAccount("central", CENTRAL), BrokerAccount("edge-01", EDGE)]
    with LocalBroker(folder / "broker", accounts) as broker:
        server = OpcUaControllerStandIn(
            ControllerConfig(tags=tags, rate_hz=rate_hz, port=find_free_port())
        )
        server.start()
        central_account = broker.account("central")
        with FakeCentral(
            broker.host,
            broker.port,
            central_account.username,
            central_account.password,
            "wh1",
            "edge-01",
        ) as central:
            edge = EdgeAgent(edge_config(broker, folder / "edge", server.endpoint))
            edge.start()
            try:
                assert edge.wait_connected(10)
                assert edge.control.wait_devices(10)
                yield Rig(broker, server, edge, central)
            finally:
                edge.stop()
                server.stop()


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    with rig(tmp_path_factory.mktemp("opcua")) as r:
        yield r


def command(target: str, action: str, params: dict[str, Any], deadline_s: float = 5.0) -> dict:
    now = datetime.now(UTC)
    return {
        "id": uuid.uuid4().hex,
        "edge_id": "edge-01",
        "target": target,
        "action": action,
        "params": params,
        "deadline": (now + timedelta(seconds=deadline_s)).isoformat().replace("+00:00", "Z"),
        "issued_at": now.isoformat().replace("+00:00", "Z"),
    }


def values_by_tag(samples: list[dict[str, Any]]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for event in samples:
        out.setdefault(event["data"]["node_id"], []).append(event["data"]["value"])
    return out


def test_every_tag_changes_reach_central_as_samples(shared: Rig) -> None:
    every = {tag_node_id(i) for i in range(TAGS)}
    assert wait_for(
        lambda: (
            {k for k, v in values_by_tag(shared.central.samples()).items() if len(v) >= 3} >= every
        )
    ), "not every tag reported three changes"
    series = values_by_tag(shared.central.samples())
    assert set(series) == every
    assert all(v == sorted(v) for v in series.values()), "values arrive in the order they changed"
    sample = shared.central.samples()[-1]
    assert sample["source"] == "ctl-01" and sample["data"]["quality"] == "good"
    assert sample["data"]["tag"].startswith("Tag")
    # 30 tags in subscriptions of at most 8 items
    assert shared.edge.control.adapters["ctl-01"].stats()["subscriptions"] == 4
    online = [e for e in shared.central.of_type("device.status") if e["source"] == "ctl-01"]
    assert online and online[0]["data"]["online"] is True


def test_method_command_result_comes_back_and_takes_effect(shared: Rig) -> None:
    cmd = command("ctl-01", "SetSetpoint", {"setpoint": 1000})
    shared.central.send_command(cmd)
    results = wait_for(lambda: shared.central.results_for(cmd["id"]))
    assert results and results[0]["status"] == "ok", results
    assert results[0]["result"] == {"outputs": [0.0]}  # the previous setpoint
    assert wait_for(
        lambda: any(e["data"]["value"] >= 1000 for e in shared.central.samples()[-TAGS:])
    ), "the new setpoint shows in the tag values"


def test_repeated_command_id_returns_the_stored_result_without_running_again(
    shared: Rig,
) -> None:
    cmd = command("ctl-01", "Reset", {})
    shared.central.send_command(cmd)
    first = wait_for(lambda: shared.central.results_for(cmd["id"]))
    assert first and first[0]["status"] == "ok"
    calls = shared.server.calls.count("Reset")
    shared.central.send_command(cmd)
    both = wait_for(
        lambda: (
            len(shared.central.results_for(cmd["id"])) >= 2
            and shared.central.results_for(cmd["id"])
        )
    )
    assert both[0] == both[1], "a repeat gets the same result, finished_at included"
    assert shared.server.calls.count("Reset") == calls


def test_expired_and_overrunning_commands_time_out(shared: Rig) -> None:
    expired = command("ctl-01", "Reset", {}, deadline_s=-1)
    slow = command("ctl-01", "Wait", {"seconds": 5}, deadline_s=0.8)
    before = shared.server.calls.count("Reset")
    shared.central.send_command(expired)
    shared.central.send_command(slow)
    got = wait_for(
        lambda: (
            shared.central.results_for(expired["id"]) and shared.central.results_for(slow["id"])
        ),
        timeout_s=5,
    )
    assert got
    assert shared.central.results_for(expired["id"])[0]["status"] == "timeout"
    assert shared.central.results_for(slow["id"])[0]["status"] == "timeout"
    assert shared.server.calls.count("Reset") == before, "an expired command never runs"


def test_unknown_method_and_bad_command_are_answered(shared: Rig) -> None:
    unknown = command("ctl-01", "Explode", {})
    nobody = command("gate-77", "Open", {})
    shared.central.send_command(unknown)
    shared.central.send_command(nobody)
    bad = command("ctl-01", "Reset", {})
    bad["deadline"] = "tomorrow"
    shared.central.send_command(bad)
    assert wait_for(
        lambda: all(shared.central.results_for(c["id"]) for c in (unknown, nobody, bad))
    )
    err = shared.central.results_for(unknown["id"])[0]
    assert err["status"] == "error" and "Explode" in err["detail"]
    assert shared.central.results_for(nobody["id"])[0]["status"] == "rejected"
    assert shared.central.results_for(bad["id"])[0]["status"] == "rejected"
    letters = wait_for(
        lambda: [
            e
            for e in shared.central.of_type("edge.dead_letter")
            if "deadline" in e["data"]["reason"]
        ]
    )
    assert letters, "the command with a bad deadline left no dead letter"


def test_heartbeat_reports_devices_and_journal(shared: Rig) -> None:
    beats = wait_for(lambda: [s for s in shared.central.statuses if s.get("reason") == "heartbeat"])
    assert beats
    detail = beats[-1]["detail"]
    assert detail["devices"]["ctl-01"]["online"] is True
    assert "pending" in detail and "rates" in detail


def test_reconnect_after_server_restart_restores_subscriptions(tmp_path: Path) -> None:
    with rig(tmp_path, tags=12) as r:
        assert wait_for(lambda: len(r.central.samples()) >= 12)
        r.server.stop()
        assert wait_for(
            lambda: any(e["data"]["online"] is False for e in r.central.of_type("device.status"))
        ), "the controller is reported offline"
        r.server.start()
        seen = len(r.central.samples())
        assert r.edge.control.wait_devices(10)
        every = {tag_node_id(i) for i in range(12)}
        assert wait_for(
            lambda: {e["data"]["node_id"] for e in r.central.samples()[seen:]} >= every
        ), "every tag reports again after the restart"
        assert r.edge.control.adapters["ctl-01"].stats()["connects"] == 2


def test_secured_connection_basic256sha256(tmp_path: Path) -> None:
    server_cert, server_key = make_certificate(tmp_path, "server", APPLICATION_URI)
    edge_cert, edge_key = make_certificate(tmp_path, "edge", "urn:whs:edge:edge-01")
    server = OpcUaControllerStandIn(
        ControllerConfig(
            tags=3,
            rate_hz=5,
            port=find_free_port(),
            certificate=server_cert,
            private_key=server_key,
            secure_only=True,
        )
    )
    server.start()
    try:
        secured = parse_edge_config(
            {
                "edge_id": "e",
                "site": "wh1",
                "broker": {},
                "devices": [
                    {
                        "id": "arm-01",
                        "kind": "opcua",
                        "endpoint": server.endpoint,
                        "nodes": [tag_node_id(0), tag_node_id(2)],
                        "publishing_interval_ms": 100,
                        "security": {
                            "certificate": str(edge_cert),
                            "private_key": str(edge_key),
                            "server_certificate": str(server_cert),
                        },
                    }
                ],
            }
        ).devices[0]
        got: list[Any] = []
        adapter = OpcUaAdapter(secured, lambda events, _dead: got.extend(events))  # type: ignore[arg-type]
        adapter.start()
        try:
            assert adapter.wait_connected(10), adapter.connections[0].last_error
            assert wait_for(
                lambda: (
                    {e.data["tag"] for e in got} == {"Controller.Tag00000", "Controller.Tag00002"}
                )
            )
        finally:
            adapter.stop()
        plain = OpcUaAdapter(
            parse_edge_config(
                {
                    "edge_id": "e",
                    "site": "wh1",
                    "broker": {},
                    "devices": [
                        {
                            "id": "arm-01",
                            "kind": "opcua",
                            "endpoint": server.endpoint,
                            "nodes": [tag_node_id(0)],
                        }
                    ],
                }
            ).devices[0],  # type: ignore[arg-type]
            lambda _e, _d: None,
        )
        plain.start()
        try:
            assert not plain.wait_connected(2), "an unsecured client is refused"
            assert plain.connections[0].last_error
        finally:
            plain.stop()
    finally:
        server.stop()

"""A second AGV vendor over OPC UA: the edge reports the same agv.state events as for VDA 5050.

Real asyncua controller stand-in (simulators/opcua_agv.py), real Mosquitto, the edge agent with
`kind: opcua_agv`, and a fake central that acks batches and sends commands.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from firmware_interfaces.validation import validate_event

from edge.agent import EdgeAgent
from simulators.opcua_agv import MANUFACTURER, OBJECT_ID, OpcUaAgvConfig, OpcUaAgvStandIn
from tests.integration.opcua_support import FakeCentral, wait_for
from tests.integration.test_opcua_edge import command, edge_config
from whs.broker import CENTRAL, EDGE, BrokerAccount, LocalBroker, find_free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OpcUaAgvStandIn, FakeCentral]]:
    folder: Path = tmp_path_factory.mktemp("opcua-agv")
    accounts = [BrokerAccount("central", CENTRAL), BrokerAccount("edge-01", EDGE)]
    with LocalBroker(folder / "broker", accounts) as broker:
        server = OpcUaAgvStandIn(
            OpcUaAgvConfig(
                vehicles={"acme01": "c1_1", "acme02": "c5_1"},
                port=find_free_port(),
                step_s=1.0,
                time_factor=10,
            )
        )
        server.start()
        account = broker.account("central")
        with FakeCentral(
            broker.host, broker.port, account.username, account.password, "wh1", "edge-01"
        ) as central:
            config = edge_config(
                broker,
                folder / "edge",
                server.endpoint,
                id="agvctl-01",
                kind="opcua_agv",
                browse_root=OBJECT_ID,
            )
            edge = EdgeAgent(config)
            edge.start()
            try:
                assert edge.wait_connected(10) and edge.control.wait_devices(10)
                yield server, central
            finally:
                edge.stop()
                server.stop()


def states(central: FakeCentral, serial: str) -> list[dict[str, Any]]:
    return [e["data"] for e in central.of_type("agv.state") if e["source"] == serial]


def test_every_vehicle_is_reported_as_agv_state(
    rig: tuple[OpcUaAgvStandIn, FakeCentral],
) -> None:
    _server, central = rig
    assert wait_for(lambda: states(central, "acme01") and states(central, "acme02"))
    first = states(central, "acme02")[0]
    assert first["last_node_id"] == "c5_1" and first["manufacturer"] == MANUFACTURER
    assert first["driving"] is False and first["battery_pct"] == 100.0
    assert first["position"] == {"x": 5.0, "y": 1.0, "theta": 0.0}
    for event in central.of_type("agv.state"):
        validate_event(event)  # the same contract as the VDA 5050 adapter's events
    assert not [e for e in central.samples() if ".Vehicles." in e["data"]["node_id"]]


def test_a_goto_command_drives_the_vehicle_and_states_follow(
    rig: tuple[OpcUaAgvStandIn, FakeCentral],
) -> None:
    server, central = rig
    body = command(
        "agvctl-01", "GoTo", {"serial": "acme01", "order_id": "o-1", "nodes": "c2_1,c3_1,c3_2"}
    )
    central.send_command(body)
    assert wait_for(lambda: central.results_for(body["id"]))
    assert central.results_for(body["id"])[0]["status"] == "ok"
    assert wait_for(
        lambda: (
            (s := states(central, "acme01"))
            and s[-1]["last_node_id"] == "c3_2"
            and not s[-1]["driving"]
        ),
        10,
    ), states(central, "acme01")
    seen = [s["last_node_id"] for s in states(central, "acme01")]
    assert [n for i, n in enumerate(seen) if i == 0 or n != seen[i - 1]] == [
        "c1_1",
        "c2_1",
        "c3_1",
        "c3_2",
    ]
    assert server.values["acme01"]["LastNodeId"] == "c3_2"
    last = states(central, "acme01")[-1]
    assert last["order_id"] == "o-1" and last["battery_pct"] < 100.0
    assert any(s["driving"] for s in states(central, "acme01"))
    unknown = command("agvctl-01", "GoTo", {"serial": "nobody", "order_id": "o-2", "nodes": "c1_1"})
    central.send_command(unknown)
    assert wait_for(lambda: central.results_for(unknown["id"]))
    refused = central.results_for(unknown["id"])[0]
    assert refused["status"] == "error" and "BadInvalidArgument" in refused["detail"]


def test_an_error_shows_up_as_a_fatal_agv_error(rig: tuple[OpcUaAgvStandIn, FakeCentral]) -> None:
    _server, central = rig
    body = command("agvctl-01", "InjectError", {"serial": "acme02", "error": "laserScannerDirty"})
    central.send_command(body)
    assert wait_for(
        lambda: (s := states(central, "acme02")) and s[-1]["errors"],
        10,
    )
    assert states(central, "acme02")[-1]["errors"] == [
        {"type": "laserScannerDirty", "level": "FATAL"}
    ]

"""Test support for fleet and device stacks: broker accounts, central on the broker, VDA 5050
stand-ins and master, the fleet manager's loop, and an edge agent serving one OPC UA device."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from central.app import Service, create_app
from central.fleet.layout import Layout
from central.fleet.manager import FleetManager
from central.settings import Settings
from edge.adapters.vda5050 import Vda5050Master
from edge.agent import EdgeAgent
from edge.config import BrokerConfig
from simulators.vda5050.config import parse_agv_config
from simulators.vda5050.runner import AgvStandIns
from tests.helpers import seeded_sessions, settings_for, sign_in
from tests.integration.test_opcua_edge import edge_config
from whs.broker import AGV, CENTRAL, EDGE, BrokerAccount, LocalBroker

AGV_PASSWORD = "agv-pass"


def edge_accounts() -> list[BrokerAccount]:
    """Broker accounts for central and the edge `edge-01`."""
    return [BrokerAccount("central", CENTRAL), BrokerAccount("edge-01", EDGE)]


def agv_accounts(serials: Sequence[str], password: str = AGV_PASSWORD) -> list[BrokerAccount]:
    """Broker accounts for central and one VDA 5050 vehicle per serial."""
    return [BrokerAccount("central", CENTRAL)] + [
        BrokerAccount(s, AGV, password=password) for s in serials
    ]


def central_settings(database_url: str, broker: LocalBroker) -> Settings:
    """Central's settings on `database_url`, linked to the broker as its `central` account."""
    return settings_for(
        database_url,
        mqtt_host=broker.host,
        mqtt_port=broker.port,
        mqtt_username="central",
        mqtt_password=broker.account("central").password,
    )


@contextmanager
def central_app(
    database_url: str, broker: LocalBroker, services: Sequence[Service] = ()
) -> Iterator[TestClient]:
    """Central with its ingest worker, MQTT link and `services` on a seeded database."""
    with seeded_sessions(database_url):
        pass
    app = create_app(central_settings(database_url, broker), run_ingest=True, services=services)
    with TestClient(app) as api:
        yield api


@contextmanager
def edge_serving(
    api: TestClient,
    broker: LocalBroker,
    folder: Path,
    endpoint: str,
    device_id: str,
    registered_kind: str,
    **device: Any,
) -> Iterator[EdgeAgent]:
    """`device_id` registered with central (as admin) and a running edge agent serving it."""
    admin = sign_in(api, "admin", "admin")
    created = api.post(
        "/api/v1/devices",
        json={"device_id": device_id, "kind": registered_kind, "site": "wh1"},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    edge = EdgeAgent(edge_config(broker, folder, endpoint, id=device_id, **device))
    edge.start()
    try:
        yield edge
    finally:
        edge.stop()


def vda_standins(
    broker: LocalBroker,
    layout: Layout,
    homes: Mapping[str, str],
    time_factor: float,
    password: str = AGV_PASSWORD,
    vehicle: Mapping[str, Any] | None = None,
    **options: Any,
) -> AgvStandIns:
    """VDA 5050 stand-ins (serial -> start node) on the broker; `vehicle` adds to each one."""
    return AgvStandIns(
        parse_agv_config(
            {
                "broker": {
                    "host": broker.host,
                    "port": broker.port,
                    "username": "{serial}",
                    "password": password,
                },
                "time_factor": time_factor,
                **options,
                "vehicles": [
                    {
                        "serial": s,
                        "start_node": h,
                        "x": layout.position(layout.cell_of(h))[0],
                        "y": layout.position(layout.cell_of(h))[1],
                        **(vehicle or {}),
                    }
                    for s, h in homes.items()
                ],
            }
        )
    )


class ManagerBox:
    """Forwards vehicle states and connections to a fleet manager made after its links."""

    def __init__(self) -> None:
        self.manager: FleetManager | None = None

    def on_state(self, serial: str, state: dict[str, Any]) -> None:
        """Hand a vehicle state to the manager."""
        assert self.manager is not None
        self.manager.on_state(serial, state)

    def on_connection(self, serial: str, connection_state: str) -> None:
        """Hand a vehicle connection change to the manager."""
        assert self.manager is not None
        self.manager.on_connection(serial, connection_state)


def vda_master(
    broker: LocalBroker, client_id: str, box: ManagerBox, record: bool = False
) -> Vda5050Master:
    """Central's VDA 5050 master on the broker, feeding the boxed manager."""
    return Vda5050Master(
        BrokerConfig(
            host=broker.host,
            port=broker.port,
            username="central",
            password=broker.account("central").password,
        ),
        client_id,
        manufacturer="whs-sim",
        on_state=box.on_state,
        on_connection=box.on_connection,
        record=record,
    )


@contextmanager
def manager_running(manager: FleetManager, period_s: float = 0.005) -> Iterator[None]:
    """The manager's control loop in a thread until the block ends."""
    stop = threading.Event()
    loop = threading.Thread(target=manager.run, args=(stop, period_s), daemon=True)
    loop.start()
    try:
        yield
    finally:
        stop.set()
        loop.join(5)

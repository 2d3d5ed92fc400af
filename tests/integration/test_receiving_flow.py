"""The receiving flow end to end: stand-ins -> Mosquitto -> edge -> central ingest -> ledger.

Real Mosquitto (private, on a free port, with per-device accounts and ACLs), real PostgreSQL
(a private schema), the real edge agent and device stand-ins, central with its ingest worker.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from firmware_interfaces.epc import Sgtin, encode_sgtin96

from central.app import create_app
from central.seed import DEMO_SKUS
from edge.agent import EdgeAgent
from edge.config import parse_edge_config
from simulators.devices.config import parse_standins_config
from simulators.devices.runner import DeviceStandIns
from tests.conftest import private_postgres_schema
from tests.helpers import seeded_sessions, settings_for, sign_in
from whs.broker import CENTRAL, DEVICE, EDGE, SIM, BrokerAccount, LocalBroker

pytestmark = pytest.mark.integration

TEA, MUG = DEMO_SKUS[0], DEMO_SKUS[1]
TARE = Decimal("25")
serials = itertools.count(1)


@dataclass
class Stack:
    api: TestClient
    admin: dict[str, str]
    standins: DeviceStandIns
    edge: EdgeAgent


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("flow")
    accounts = [
        BrokerAccount("central", CENTRAL),
        BrokerAccount("edge-01", EDGE),
        BrokerAccount("sim", SIM),
        BrokerAccount("gate-01", DEVICE),
        BrokerAccount("scale-01", DEVICE),
    ]
    with private_postgres_schema() as db_url, LocalBroker(tmp / "broker", accounts) as broker:
        with seeded_sessions(db_url):
            pass
        pw = {a.username: a.password for a in accounts}
        settings = settings_for(
            db_url,
            mqtt_host=broker.host,
            mqtt_port=broker.port,
            mqtt_username="central",
            mqtt_password=pw["central"],
        )
        edge = EdgeAgent(
            parse_edge_config(
                {
                    "edge_id": "edge-01",
                    "site": "wh1",
                    "data_dir": str(tmp / "edge"),
                    "broker": {
                        "host": broker.host,
                        "port": broker.port,
                        "username": "edge-01",
                        "password": pw["edge-01"],
                    },
                    "uplink": {"max_batch_delay_s": 0.05, "ack_timeout_s": 3.0},
                    "devices": [
                        {
                            "id": "gate-01",
                            "kind": "rfid_gate",
                            "dedup_window_s": 5.0,
                            "pass_gap_s": 0.6,
                        },
                        {
                            "id": "scale-01",
                            "kind": "scale",
                            "window": 5,
                            "max_spread_kg": 0.2,
                            "min_load_kg": 2.0,
                        },
                    ],
                }
            )
        )
        standins = DeviceStandIns(
            parse_standins_config(
                {
                    "site": "wh1",
                    "broker": {"host": broker.host, "port": broker.port},
                    "seed": 11,
                    "control": {"username": "sim", "password": pw["sim"]},
                    "docks": [
                        {
                            "dock": "DOCK-01",
                            "gate": {
                                "id": "gate-01",
                                "password": pw["gate-01"],
                                "read_cycle_s": 0.1,
                                "pass_duration_s": 1.0,
                                "miss_rate": 0.2,
                                "duplicate_rate": 0.4,
                            },
                            "scale": {
                                "id": "scale-01",
                                "password": pw["scale-01"],
                                "sample_period_s": 0.1,
                                "settle_s": 0.6,
                                "dwell_s": 2.0,
                                "noise_kg": 0.02,
                            },
                        }
                    ],
                }
            )
        )
        with TestClient(create_app(settings, run_ingest=True)) as api:
            edge.start()
            standins.start()
            assert standins.wait_connected(10)
            try:
                yield Stack(api, sign_in(api, "admin", "admin"), standins, edge)
            finally:
                standins.stop()
                edge.stop()


def announce(stack: Stack, number: str, lines: dict[Any, int]) -> list[str]:
    """Post the ASN with its expected EPCs, check the truck in at DOCK-01; return the EPCs."""
    epcs = [
        encode_sgtin96(Sgtin(sku.gtin, next(serials)))
        for sku, qty in lines.items()
        for _ in range(qty)
    ]
    body = {
        "number": number,
        "site": "wh1",
        "supplier": "Ningbo Trading",
        "pallet_tare_kg": str(TARE),
        "lines": [{"sku": sku.code, "qty": qty} for sku, qty in lines.items()],
        "expected_epcs": epcs,
    }
    assert stack.api.post("/api/v1/inbound/asns", json=body, headers=stack.admin).status_code == 201
    arrive = stack.api.post(
        f"/api/v1/inbound/asns/{number}/arrive", json={"dock": "DOCK-01"}, headers=stack.admin
    )
    assert arrive.status_code == 200, arrive.text
    return epcs


def gross(lines: dict[Any, int]) -> float:
    return float(TARE + sum((sku.unit_weight_kg * qty for sku, qty in lines.items()), Decimal(0)))


def settle(stack: Stack, number: str, timeout_s: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        asn = stack.api.get(f"/api/v1/inbound/asns/{number}", headers=stack.admin).json()
        if asn["status"] not in ("expected", "arrived"):
            return dict(asn)
        time.sleep(0.2)
    raise AssertionError(
        f"ASN {number} still {asn['status']} after {timeout_s} s; edge stats {stack.edge.stats()}"
    )


def receipt_moves(stack: Stack, number: str) -> list[tuple[int, str, str, str]]:
    moves = stack.api.get(
        "/api/v1/stock/moves", params={"ref_id": number}, headers=stack.admin
    ).json()
    return [(m["qty"], m["sku"], m["from_location"], m["to_location"]) for m in moves]


def test_pallet_through_gate_and_scale_is_booked(stack: Stack) -> None:
    lines = {TEA: 6, MUG: 4}
    epcs = announce(stack, "ASN-OK", lines)
    stack.standins.pass_pallet("DOCK-01", epcs, gross(lines))
    asn = settle(stack, "ASN-OK")
    assert asn["status"] == "received", asn["discrepancies"]
    assert receipt_moves(stack, "ASN-OK") == [
        (6, TEA.code, "V-SUPPLIER", "DOCK-01"),
        (4, MUG.code, "V-SUPPLIER", "DOCK-01"),
    ]
    stock = stack.api.get(
        "/api/v1/stock", params={"location": "DOCK-01", "sku": TEA.code}, headers=stack.admin
    ).json()
    assert sum(row["qty"] for row in stock) >= 6


def test_missing_case_is_held_not_booked(stack: Stack) -> None:
    lines = {TEA: 5}
    epcs = announce(stack, "ASN-SHORT", lines)
    stack.standins.pass_pallet("DOCK-01", epcs[1:], gross(lines) - float(TEA.unit_weight_kg))
    asn = settle(stack, "ASN-SHORT")
    assert asn["status"] == "discrepancy"
    missing = next(d for d in asn["discrepancies"] if d["kind"] == "missing_tags")
    assert missing["detail"]["missing_epcs"] == [epcs[0]]
    assert receipt_moves(stack, "ASN-SHORT") == []


def test_foreign_tag_is_held(stack: Stack) -> None:
    lines = {MUG: 3}
    epcs = announce(stack, "ASN-FOREIGN", lines)
    foreign = encode_sgtin96(Sgtin("04012345678901", 77))
    stack.standins.pass_pallet("DOCK-01", [*epcs, foreign], gross(lines))
    asn = settle(stack, "ASN-FOREIGN")
    assert [d["kind"] for d in asn["discrepancies"]] == ["unknown_tags"]
    assert asn["discrepancies"][0]["detail"]["unknown_epcs"] == [foreign]
    assert receipt_moves(stack, "ASN-FOREIGN") == []


def test_overweight_pallet_is_held_then_accepted_by_supervisor(stack: Stack) -> None:
    lines = {TEA: 2, MUG: 2}
    epcs = announce(stack, "ASN-HEAVY", lines)
    stack.standins.pass_pallet("DOCK-01", epcs, gross(lines) + 6.0)
    asn = settle(stack, "ASN-HEAVY")
    assert [d["kind"] for d in asn["discrepancies"]] == ["weight_out_of_tolerance"]
    measured = Decimal(asn["discrepancies"][0]["detail"]["measured_kg"])
    assert abs(measured - Decimal(str(gross(lines) + 6.0))) < Decimal(
        "0.2"
    )  # the stable weight is right
    supervisor = sign_in(stack.api, "supervisor")
    resolved = stack.api.post(
        f"/api/v1/inbound/discrepancies/{asn['discrepancies'][0]['id']}/resolve",
        json={"resolution": "accept_counted", "note": "pallet was wet"},
        headers=supervisor,
    )
    assert resolved.status_code == 200
    assert receipt_moves(stack, "ASN-HEAVY") == [
        (2, TEA.code, "V-SUPPLIER", "DOCK-01"),
        (2, MUG.code, "V-SUPPLIER", "DOCK-01"),
    ]


def test_devices_report_online_through_the_edge(stack: Stack) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        devices = {
            d["device_id"]: d for d in stack.api.get("/api/v1/devices", headers=stack.admin).json()
        }
        if devices["gate-01"]["online"] and devices["scale-01"]["online"]:
            break
        time.sleep(0.3)
    assert devices["gate-01"]["online"] is True
    assert devices["scale-01"]["online"] is True

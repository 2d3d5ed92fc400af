"""Receiving through the ingest path (edge batches over HTTP), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from firmware_interfaces.epc import Sgtin, encode_sgtin96

from central.seed import DEMO_SKUS
from tests.helpers import api_client, settings_for, sign_in

pytestmark = pytest.mark.integration

TEA, MUG = DEMO_SKUS[0], DEMO_SKUS[1]
TEA_EPCS = [encode_sgtin96(Sgtin(TEA.gtin, n)) for n in range(1, 5)]
MUG_EPCS = [encode_sgtin96(Sgtin(MUG.gtin, n)) for n in range(1, 3)]
GROSS = Decimal("25") + 4 * TEA.unit_weight_kg + 2 * MUG.unit_weight_kg  # 28.30 kg


def ts(offset_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset_s)).isoformat().replace("+00:00", "Z")


def gate_pass(epcs: list[str], gate: str = "gate-01", direction: str = "in") -> dict[str, Any]:
    tags = [
        {
            "epc": e,
            "direction": direction,
            "first_seen": ts(),
            "last_seen": ts(1),
            "peak_rssi": -50.0,
            "antennas": [1, 2],
        }
        for e in epcs
    ]
    data = {
        "gate_id": gate,
        "direction": direction,
        "started_at": ts(),
        "ended_at": ts(2),
        "tags": tags,
    }
    return {"type": "rfid.gate_pass", "source": gate, "ts": ts(2), "data": data}


def weight(kg: Decimal, scale: str = "scale-01") -> dict[str, Any]:
    data = {
        "scale_id": scale,
        "kg": float(kg),
        "spread_kg": 0.05,
        "samples": 8,
        "settled_at": ts(3),
    }
    return {"type": "scale.stable_weight", "source": scale, "ts": ts(3), "data": data}


class Edge:
    """A test edge that numbers its batches like the real one."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client, self.headers, self.seq = client, headers, 0

    def send(self, *events: dict[str, Any], seq: int | None = None) -> Any:
        if seq is None:
            self.seq += 1
            seq = self.seq
        batch = {
            "edge_id": "edge-01",
            "site": "wh1",
            "epoch": 1,
            "seq": seq,
            "sent_at": ts(),
            "events": list(events),
        }
        return self.client.post("/api/v1/ingest/batches", json=batch, headers=self.headers)


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with api_client(settings_for(database_url)) as c:
        yield c


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return sign_in(client, "admin", "admin")


@pytest.fixture
def edge(client: TestClient, admin: dict[str, str]) -> Edge:
    client.post(
        "/api/v1/users",
        json={"username": "edge-01", "password": "edge-secret", "role": "device"},
        headers=admin,
    )
    return Edge(client, sign_in(client, "edge-01", "edge-secret"))


def announce(
    client: TestClient, admin: dict[str, str], number: str = "ASN-7", dock: str = "DOCK-01"
) -> None:
    asn = {
        "number": number,
        "site": "wh1",
        "supplier": "Shenzhen Goods",
        "pallet_tare_kg": "25",
        "lines": [{"sku": TEA.code, "qty": 4, "lot": "L-2611"}, {"sku": MUG.code, "qty": 2}],
        "expected_epcs": TEA_EPCS + MUG_EPCS,
    }
    assert client.post("/api/v1/inbound/asns", json=asn, headers=admin).status_code == 201
    assert (
        client.post(
            f"/api/v1/inbound/asns/{number}/arrive", json={"dock": dock}, headers=admin
        ).status_code
        == 200
    )


def asn(client: TestClient, admin: dict[str, str], number: str = "ASN-7") -> dict[str, Any]:
    return dict(client.get(f"/api/v1/inbound/asns/{number}", headers=admin).json())


def moves(client: TestClient, admin: dict[str, str]) -> list[tuple[int, str, str, str, str]]:
    rows = client.get("/api/v1/stock/moves", headers=admin).json()
    return [(m["qty"], m["sku"], m["lot"], m["from_location"], m["to_location"]) for m in rows]


def stock_equals_ledger(client: TestClient, admin: dict[str, str]) -> bool:
    stock = client.get("/api/v1/stock", params={"include_virtual": True}, headers=admin).json()
    totals: dict[tuple[str, str, str], int] = {}
    for m in client.get("/api/v1/stock/moves", params={"limit": 1000}, headers=admin).json():
        totals[(m["from_location"], m["sku"], m["lot"])] = (
            totals.get((m["from_location"], m["sku"], m["lot"]), 0) - m["qty"]
        )
        totals[(m["to_location"], m["sku"], m["lot"])] = (
            totals.get((m["to_location"], m["sku"], m["lot"]), 0) + m["qty"]
        )
    return {(s["location"], s["sku"], s["lot"]): s["qty"] for s in stock} == {
        k: v for k, v in totals.items() if v
    }


def test_matching_pass_and_weight_book_the_receipt_once(
    client: TestClient, admin: dict[str, str], edge: Edge
) -> None:
    announce(client, admin)
    first = edge.send(gate_pass(TEA_EPCS + MUG_EPCS + TEA_EPCS[:2]))  # duplicates count once
    assert first.json()["seq"] == 1 and first.json()["applied"] == 1
    assert asn(client, admin)["status"] == "arrived"  # waits for the scale
    edge.send(weight(GROSS + Decimal("0.2")))
    assert asn(client, admin)["status"] == "received"
    expected = [
        (4, TEA.code, "L-2611", "V-SUPPLIER", "DOCK-01"),
        (2, MUG.code, "", "V-SUPPLIER", "DOCK-01"),
    ]
    assert moves(client, admin) == expected
    # the edge replays both batches after a crash: acked again, nothing booked twice
    replay = edge.send(gate_pass(TEA_EPCS + MUG_EPCS), seq=1)
    assert replay.json()["duplicate"] is True and replay.json()["seq"] == 2
    edge.send(weight(GROSS), seq=2)
    assert moves(client, admin) == expected
    assert stock_equals_ledger(client, admin)


def test_missing_tag_holds_receipt_until_supervisor_accepts_count(
    client: TestClient, admin: dict[str, str], edge: Edge
) -> None:
    announce(client, admin)
    edge.send(gate_pass(TEA_EPCS[1:] + MUG_EPCS), weight(GROSS - TEA.unit_weight_kg))
    held = asn(client, admin)
    assert held["status"] == "discrepancy"
    missing = next(d for d in held["discrepancies"] if d["kind"] == "missing_tags")
    assert missing["detail"]["missing_epcs"] == [TEA_EPCS[0]]
    assert missing["detail"]["shortages"] == {TEA.code: {"expected": 4, "read": 3}}
    assert moves(client, admin) == []  # nothing booked while held
    supervisor = sign_in(client, "supervisor")
    done = client.post(
        f"/api/v1/inbound/discrepancies/{missing['id']}/resolve",
        json={"resolution": "accept_counted", "note": "short shipped"},
        headers=supervisor,
    )
    assert done.status_code == 200 and done.json()["resolved_by"] == "supervisor"
    assert asn(client, admin)["status"] == "received"
    assert moves(client, admin) == [
        (3, TEA.code, "L-2611", "V-SUPPLIER", "DOCK-01"),
        (2, MUG.code, "", "V-SUPPLIER", "DOCK-01"),
    ]
    assert client.get("/api/v1/inbound/discrepancies", headers=admin).json() == []
    assert stock_equals_ledger(client, admin)


def test_unknown_tag_rejected_delivery_books_nothing(
    client: TestClient, admin: dict[str, str], edge: Edge
) -> None:
    announce(client, admin)
    foreign = encode_sgtin96(Sgtin("04012345678901", 5))
    edge.send(gate_pass([*TEA_EPCS, *MUG_EPCS, foreign]), weight(GROSS))
    held = asn(client, admin)
    assert [d["kind"] for d in held["discrepancies"]] == ["unknown_tags"]
    assert held["discrepancies"][0]["detail"]["unknown_epcs"] == [foreign]
    supervisor = sign_in(client, "supervisor")
    client.post(
        f"/api/v1/inbound/discrepancies/{held['discrepancies'][0]['id']}/resolve",
        json={"resolution": "reject"},
        headers=supervisor,
    )
    assert asn(client, admin)["status"] == "rejected"
    assert moves(client, admin) == []
    # the dock is free again for the next truck
    announce(client, admin, "ASN-8")


def test_weight_out_of_tolerance_is_held(
    client: TestClient, admin: dict[str, str], edge: Edge
) -> None:
    announce(client, admin)
    edge.send(weight(GROSS + Decimal("3.0")))
    edge.send(gate_pass(TEA_EPCS + MUG_EPCS))
    held = asn(client, admin)
    assert held["status"] == "discrepancy"
    detail = held["discrepancies"][0]["detail"]
    assert held["discrepancies"][0]["kind"] == "weight_out_of_tolerance"
    assert Decimal(detail["measured_kg"]) - Decimal(detail["expected_kg"]) == Decimal("3.000")
    assert moves(client, admin) == []


def test_pass_with_no_arrived_asn_is_raised_not_booked(
    client: TestClient, admin: dict[str, str], edge: Edge
) -> None:
    edge.send(gate_pass(TEA_EPCS, gate="gate-02"))
    open_items = client.get("/api/v1/inbound/discrepancies", headers=admin).json()
    assert [(d["kind"], d["asn"], d["detail"]["device_id"]) for d in open_items] == [
        ("no_open_asn", None, "gate-02")
    ]
    assert moves(client, admin) == []


def test_bad_input_is_dead_lettered_and_the_rest_goes_on(
    client: TestClient, admin: dict[str, str], edge: Edge
) -> None:
    announce(client, admin)
    bad_batch = client.post(
        "/api/v1/ingest/batches", json={"edge_id": "edge-01", "seq": "one"}, headers=edge.headers
    )
    assert bad_batch.status_code == 422
    broken = {
        "type": "scale.stable_weight",
        "source": "scale-01",
        "ts": ts(),
        "data": {"kg": "heavy"},
    }
    unknown_gate = gate_pass(TEA_EPCS, gate="gate-99")
    reply = edge.send(broken, unknown_gate, gate_pass(TEA_EPCS + MUG_EPCS), weight(GROSS))
    assert (reply.json()["seq"], reply.json()["applied"], reply.json()["dead_lettered"]) == (
        1,
        2,
        2,
    )
    assert asn(client, admin)["status"] == "received"
    letters = client.get("/api/v1/dead-letters", headers=admin).json()
    reasons = [letter["reason"] for letter in letters]
    assert len(letters) == 3
    assert "uplink_batch" in reasons[0]
    assert any("scale_id" in r for r in reasons) and any("gate-99" in r for r in reasons)


def test_out_of_order_batch_is_refused_until_the_gap_is_filled(
    client: TestClient, admin: dict[str, str], edge: Edge
) -> None:
    announce(client, admin)
    assert edge.send(weight(GROSS), seq=2).status_code == 409
    assert edge.send(gate_pass(TEA_EPCS + MUG_EPCS), seq=1).json()["seq"] == 1
    assert edge.send(weight(GROSS), seq=2).json()["seq"] == 2
    assert asn(client, admin)["status"] == "received"

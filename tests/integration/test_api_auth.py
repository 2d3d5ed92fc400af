"""Authentication and roles on every endpoint; bad input answered with 4xx and a message."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.helpers import api_client, settings_for, sign_in

pytestmark = pytest.mark.integration

ASN = {
    "number": "ASN-1",
    "site": "wh1",
    "supplier": "ACME",
    "lines": [{"sku": "TEA-500", "qty": 2}],
}


@pytest.fixture
def client(sqlite_url: str) -> Iterator[TestClient]:
    with api_client(settings_for(sqlite_url)) as c:
        yield c


def test_health_needs_no_token_but_everything_else_does(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    for path in (
        "/api/v1/stock",
        "/api/v1/stock/moves",
        "/api/v1/inbound/asns",
        "/api/v1/devices",
        "/api/v1/dead-letters",
    ):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"


def test_wrong_password_and_forged_token_are_refused(client: TestClient) -> None:
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "admin", "password": "nope"}
        ).status_code
        == 401
    )
    assert (
        client.get("/api/v1/stock", headers={"Authorization": "Bearer not.a.token"}).status_code
        == 401
    )


def test_viewer_reads_but_cannot_book_a_receipt(client: TestClient) -> None:
    admin, viewer, operator = (
        sign_in(client, "admin", "admin"),
        sign_in(client, "viewer"),
        sign_in(client, "operator"),
    )
    assert client.post("/api/v1/inbound/asns", json=ASN, headers=admin).status_code == 201
    assert (
        client.post(
            "/api/v1/inbound/asns/ASN-1/arrive", json={"dock": "DOCK-01"}, headers=operator
        ).status_code
        == 200
    )
    receipt = {"lines": [{"sku": "TEA-500", "qty": 2}]}
    denied = client.post("/api/v1/inbound/asns/ASN-1/receipts", json=receipt, headers=viewer)
    assert denied.status_code == 403
    assert "viewer" in denied.json()["detail"]
    assert client.get("/api/v1/stock/moves", headers=viewer).json() == []
    booked = client.post("/api/v1/inbound/asns/ASN-1/receipts", json=receipt, headers=operator)
    assert booked.status_code == 200 and booked.json()["status"] == "received"
    moves = client.get("/api/v1/stock/moves", headers=viewer).json()
    assert [(m["qty"], m["from_location"], m["to_location"], m["actor"]) for m in moves] == [
        (2, "V-SUPPLIER", "DOCK-01", "operator")
    ]
    assert client.get("/api/v1/stock", headers=viewer).json()[0]["qty"] == 2


def test_only_admin_creates_users_and_supervisor_resolves(client: TestClient) -> None:
    operator = sign_in(client, "operator")
    body = {"username": "newbie", "password": "12345678", "role": "viewer"}
    assert client.post("/api/v1/users", json=body, headers=operator).status_code == 403
    assert (
        client.post(
            "/api/v1/users", json=body, headers=sign_in(client, "admin", "admin")
        ).status_code
        == 201
    )
    assert client.get("/api/v1/me", headers=sign_in(client, "newbie", "12345678")).json() == {
        "name": "newbie",
        "role": "viewer",
    }
    resolve = client.post(
        "/api/v1/inbound/discrepancies/1/resolve", json={"resolution": "reject"}, headers=operator
    )
    assert resolve.status_code == 403


def test_device_role_may_ingest_but_not_read_stock(client: TestClient) -> None:
    admin = sign_in(client, "admin", "admin")
    client.post(
        "/api/v1/users",
        json={"username": "edge-01", "password": "edge-secret", "role": "device"},
        headers=admin,
    )
    device = sign_in(client, "edge-01", "edge-secret")
    assert client.get("/api/v1/stock", headers=device).status_code == 403
    assert (
        client.post("/api/v1/ingest/batches", json={"edge_id": "x"}, headers=device).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "words"),
    [
        ("post", "/api/v1/inbound/asns", {**ASN, "lines": []}, 422, "lines"),
        (
            "post",
            "/api/v1/inbound/asns",
            {**ASN, "lines": [{"sku": "NOPE", "qty": 1}]},
            404,
            "NOPE",
        ),
        ("post", "/api/v1/inbound/asns", {**ASN, "expected_epcs": ["xyz"]}, 422, "96-bit"),
        ("post", "/api/v1/inbound/asns", {**ASN, "site": "nowhere"}, 404, "nowhere"),
        ("post", "/api/v1/inbound/asns/ASN-404/arrive", {"dock": "DOCK-01"}, 404, "ASN-404"),
        (
            "post",
            "/api/v1/stock/moves",
            {
                "site": "wh1",
                "sku": "TEA-500",
                "qty": 1,
                "from_location": "A01-B01",
                "to_location": "A01-B02",
            },
            409,
            "does not hold",
        ),
        (
            "post",
            "/api/v1/stock/moves",
            {
                "site": "wh1",
                "sku": "TEA-500",
                "qty": -1,
                "from_location": "A01-B01",
                "to_location": "A01-B02",
            },
            422,
            "qty",
        ),
        (
            "post",
            "/api/v1/skus",
            {"code": "X", "name": "x", "unit_weight_kg": "1", "gtin": "12345678901234"},
            422,
            "check digit",
        ),
        ("get", "/api/v1/stock/moves?limit=0", None, 422, "limit"),
    ],
)
def test_bad_input_is_4xx_with_a_message(
    client: TestClient, method: str, path: str, body: object, status: int, words: str
) -> None:
    headers = sign_in(client, "admin", "admin")
    response = client.request(method.upper(), path, json=body, headers=headers)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]


def test_arriving_twice_at_a_busy_dock_is_a_conflict(client: TestClient) -> None:
    admin = sign_in(client, "admin", "admin")
    client.post("/api/v1/inbound/asns", json=ASN, headers=admin)
    client.post("/api/v1/inbound/asns", json={**ASN, "number": "ASN-2"}, headers=admin)
    assert (
        client.post(
            "/api/v1/inbound/asns/ASN-1/arrive", json={"dock": "DOCK-01"}, headers=admin
        ).status_code
        == 200
    )
    busy = client.post("/api/v1/inbound/asns/ASN-2/arrive", json={"dock": "DOCK-01"}, headers=admin)
    assert busy.status_code == 409 and "ASN-1" in busy.json()["detail"]
    assert (
        client.post(
            "/api/v1/inbound/asns/ASN-2/arrive", json={"dock": "A01-B01"}, headers=admin
        ).status_code
        == 422
    )

"""Orders to shipped parcels through the API, on SQLite and PostgreSQL; stock equals the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from firmware_interfaces.epc import Sgtin, encode_sgtin96
from sqlalchemy import select, update

from central.db.tables import CountTask, Lot
from central.seed import DEMO_SKUS
from tests.helpers import api_client, settings_for, sign_in
from tests.integration.test_receiving_ingest import stock_equals_ledger
from tests.orders_helpers import order, shelve

pytestmark = pytest.mark.integration
TEA, MUG = DEMO_SKUS[0], DEMO_SKUS[1]


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with api_client(settings_for(database_url)) as c:
        yield c


@pytest.fixture
def sup(client: TestClient) -> dict[str, str]:
    return sign_in(client, "supervisor")


def test_order_is_picked_packed_and_shipped_through_the_ledger(
    client: TestClient, sup: dict[str, str]
) -> None:
    shelve(client, sup, TEA.code, 10, "A02-B05", lot="L1")
    shelve(client, sup, MUG.code, 10, "A04-B09")
    created = client.post(
        "/api/v1/orders", json=order("W-1", [(TEA.code, 3), (MUG.code, 2)]), headers=sup
    )
    assert created.status_code == 201 and created.json()["order"]["status"] == "ready"
    again = client.post(
        "/api/v1/orders", json=order("W-1", [(TEA.code, 3), (MUG.code, 2)]), headers=sup
    )
    assert again.status_code == 200 and again.json()["order"]["id"] == created.json()["order"]["id"]
    assert client.post("/api/v1/outbound/allocate", json={}, headers=sup).json() == {
        "allocated": 1,
        "backordered": 0,
    }
    wave = client.post("/api/v1/outbound/waves", json={}, headers=sup)
    assert wave.status_code == 201, wave.text
    batch = wave.json()["batches"][0]
    assert batch["path_method"] == "exact" and batch["path_length"] > 0
    operator = sign_in(client, "operator")
    mine = client.get("/api/v1/picking/next", headers=operator).json()
    assert mine["id"] == batch["id"] and mine["assignee"] == "operator"
    for line in mine["lines"]:
        wrong = client.post(
            f"/api/v1/picking/lines/{line['id']}/confirm",
            json={"location": "A01-B01", "item": line["sku"], "qty": line["qty"]},
            headers=operator,
        )
        assert wrong.status_code == 422 and f"go to {line['location']}" in wrong.json()["detail"]
        scan = (
            line["gtin"] if line["sku"] == TEA.code else encode_sgtin96(Sgtin(MUG.gtin, 5))
        )  # GTIN or EPC
        ok = client.post(
            f"/api/v1/picking/lines/{line['id']}/confirm",
            json={"location": line["location"], "item": scan, "qty": line["qty"]},
            headers=operator,
        )
        assert ok.status_code == 200 and ok.json()["status"] == "picked", ok.text
    order_id = created.json()["order"]["id"]
    assert client.get(f"/api/v1/orders/{order_id}", headers=sup).json()["status"] == "picked"
    tote = mine["lines"][0]["tote"]
    contents = client.get(f"/api/v1/packing/totes/{tote}", headers=operator).json()
    expected = Decimal(contents["expected_kg"])
    assert expected == Decimal("0.150") + 3 * TEA.unit_weight_kg + 2 * MUG.unit_weight_kg
    heavy = client.post(
        f"/api/v1/packing/totes/{tote}/close",
        json={"measured_kg": str(expected + 1)},
        headers=operator,
    )
    assert heavy.status_code == 409 and "missing or extra" in heavy.json()["detail"]
    parcel = client.post(
        f"/api/v1/packing/totes/{tote}/close",
        json={"measured_kg": str(expected + Decimal("0.02"))},
        headers=operator,
    )
    assert parcel.status_code == 201, parcel.text
    shipped = client.post(f"/api/v1/parcels/{parcel.json()['id']}/ship", headers=operator)
    assert shipped.json()["status"] == "shipped"
    assert client.get(f"/api/v1/orders/{order_id}", headers=sup).json()["status"] == "shipped"
    reasons = [
        m["reason"]
        for m in client.get("/api/v1/stock/moves", params={"limit": 1000}, headers=sup).json()
    ]
    assert reasons.count("pick") == 2 and reasons.count("pack") == 2 and reasons.count("ship") == 2
    shelf = client.get("/api/v1/stock", params={"sku": TEA.code}, headers=sup).json()
    assert [(s["location"], s["qty"]) for s in shelf] == [("A02-B05", 7)]
    assert stock_equals_ledger(client, sup)


def test_short_stock_splits_into_a_backorder_and_fefo_picks_earliest_expiry(
    client: TestClient, sup: dict[str, str]
) -> None:
    shelve(client, sup, TEA.code, 2, "A01-B02", lot="LATE")
    shelve(client, sup, TEA.code, 2, "A03-B02", lot="EARLY")
    container = client.app.state.container  # type: ignore[attr-defined]
    with container.sessions.begin() as s:  # expiry dates, as receiving would have recorded them
        s.execute(update(Lot).where(Lot.code == "EARLY").values(expiry=date(2027, 1, 1)))
        s.execute(update(Lot).where(Lot.code == "LATE").values(expiry=date(2027, 6, 1)))
    client.post("/api/v1/orders", json=order("W-2", [(TEA.code, 3)]), headers=sup)
    client.post("/api/v1/outbound/allocate", json={}, headers=sup)
    orders = client.get("/api/v1/orders", headers=sup).json()
    by_id = {o["channel_order_id"]: o for o in orders}
    assert by_id["W-2"]["status"] == "allocated" and by_id["W-2"]["lines"][0]["qty"] == 3
    wave = client.post("/api/v1/outbound/waves", json={}, headers=sup).json()
    lots = sorted((ln["lot"], ln["qty"]) for ln in wave["batches"][0]["lines"])
    assert lots == [("EARLY", 2), ("LATE", 1)]
    client.post("/api/v1/orders", json=order("W-3", [(TEA.code, 3)]), headers=sup)
    client.post("/api/v1/outbound/allocate", json={}, headers=sup)
    orders = {o["channel_order_id"]: o for o in client.get("/api/v1/orders", headers=sup).json()}
    assert orders["W-3"]["status"] == "allocated" and orders["W-3"]["lines"][0]["qty"] == 1
    assert (
        orders["W-3-BO1"]["status"] == "backordered" and orders["W-3-BO1"]["lines"][0]["qty"] == 2
    )


def test_short_pick_creates_backorder_and_recount(client: TestClient, sup: dict[str, str]) -> None:
    shelve(client, sup, MUG.code, 5, "A02-B02")
    client.post("/api/v1/orders", json=order("W-4", [(MUG.code, 4)]), headers=sup)
    client.post("/api/v1/outbound/allocate", json={}, headers=sup)
    client.post("/api/v1/outbound/waves", json={}, headers=sup)
    operator = sign_in(client, "operator")
    line = client.get("/api/v1/picking/next", headers=operator).json()["lines"][0]
    short = client.post(
        f"/api/v1/picking/lines/{line['id']}/short",
        json={"found": 1, "reason": "damaged"},
        headers=operator,
    )
    assert short.status_code == 200 and short.json()["status"] == "short"
    orders = {o["channel_order_id"]: o for o in client.get("/api/v1/orders", headers=sup).json()}
    assert orders["W-4"]["status"] == "picked" and orders["W-4"]["lines"][0]["qty"] == 1
    assert (
        orders["W-4-BO1"]["status"] == "backordered" and orders["W-4-BO1"]["lines"][0]["qty"] == 3
    )
    shelf = client.get("/api/v1/stock", params={"location": "A02-B02"}, headers=sup).json()
    assert shelf[0]["qty"] == 4  # one picked; the damaged three stay until the recount adjusts them
    container = client.app.state.container  # type: ignore[attr-defined]
    with container.sessions.begin() as s:
        tasks = s.scalars(select(CountTask)).all()
        assert [(t.reason, t.status) for t in tasks] == [("short pick: damaged", "open")]


def test_confirm_of_stock_moved_away_meanwhile_is_refused_and_changes_nothing(
    client: TestClient, sup: dict[str, str]
) -> None:
    shelve(client, sup, MUG.code, 5, "A02-B02")
    client.post("/api/v1/orders", json=order("W-9", [(MUG.code, 4)]), headers=sup)
    client.post("/api/v1/outbound/allocate", json={}, headers=sup)
    client.post("/api/v1/outbound/waves", json={}, headers=sup)
    scrapped = {
        "site": "wh1",
        "sku": MUG.code,
        "qty": 3,
        "from_location": "A02-B02",
        "to_location": "V-SCRAP",
        "reason": "adjustment",
        "note": "broken",
    }
    assert client.post("/api/v1/stock/moves", json=scrapped, headers=sup).status_code == 201
    operator = sign_in(client, "operator")
    line = client.get("/api/v1/picking/next", headers=operator).json()["lines"][0]
    body = {"location": line["location"], "item": line["sku"], "qty": 4}
    refused = client.post(
        f"/api/v1/picking/lines/{line['id']}/confirm", json=body, headers=operator
    )
    assert refused.status_code == 409 and "holds only 2" in refused.json()["detail"]
    after = client.get("/api/v1/picking/next", headers=operator).json()["lines"][0]
    assert (after["status"], after["qty_picked"]) == ("open", 0)
    shelf = client.get("/api/v1/stock", params={"location": "A02-B02"}, headers=sup).json()
    assert shelf[0]["qty"] == 2
    assert stock_equals_ledger(client, sup)


def test_exception_queue_and_supervisor_actions(client: TestClient, sup: dict[str, str]) -> None:
    shelve(client, sup, TEA.code, 5, "A01-B03")
    bad_address = order(
        "W-5",
        [(TEA.code, 1)],
        ship_to={"name": "X", "line1": "", "city": "Paris", "postcode": "7500", "country": "FR"},
    )
    pending = order("W-6", [(TEA.code, 1)], payment_status="pending")
    unknown = order("W-7", [("NOPE", 1)])
    for body in (bad_address, pending, unknown):
        assert (
            client.post("/api/v1/orders", json=body, headers=sup).json()["order"]["status"]
            == "exception"
        )
    held = {
        o["channel_order_id"]: o
        for o in client.get("/api/v1/orders", params={"status": "exception"}, headers=sup).json()
    }
    assert held["W-5"]["problems"] == [
        "address: line1 is missing",
        "address: postcode '7500' is not valid for FR",
    ]
    assert held["W-6"]["problems"] == ["payment pending"]
    assert held["W-7"]["problems"] == ["unknown SKU(s): NOPE"]
    fixed = client.put(
        f"/api/v1/orders/{held['W-5']['id']}/address",
        json={
            "name": "X",
            "line1": "2 rue de Rivoli",
            "city": "Paris",
            "postcode": "75001",
            "country": "FR",
        },
        headers=sup,
    )
    assert fixed.json()["status"] == "ready"
    assert (
        client.post(
            f"/api/v1/orders/{held['W-6']['id']}/approve",
            json={"note": "paid by wire"},
            headers=sup,
        ).json()["status"]
        == "ready"
    )
    assert (
        client.post(f"/api/v1/orders/{held['W-7']['id']}/approve", json={}, headers=sup).status_code
        == 409
    )
    assert (
        client.post(
            f"/api/v1/orders/{held['W-7']['id']}/cancel", json={"reason": "fake"}, headers=sup
        ).json()["status"]
        == "cancelled"
    )
    operator = sign_in(client, "operator")
    assert (
        client.post(
            f"/api/v1/orders/{held['W-7']['id']}/cancel", json={"reason": "x"}, headers=operator
        ).status_code
        == 403
    )
    stats = client.get("/api/v1/orders/stats", headers=sup).json()
    assert stats["orders"] == 3 and stats["automatic"] == 0 and stats["automatic_rate"] == 0.0


def test_marketplace_payloads_and_csv_import(client: TestClient, sup: dict[str, str]) -> None:
    shelve(client, sup, TEA.code, 50, "A01-B04")
    amazon = {
        "AmazonOrderId": "113-555",
        "PurchaseDate": "2026-11-20T08:00:00Z",
        "OrderStatus": "Unshipped",
        "OrderTotal": {"CurrencyCode": "EUR", "Amount": "37.50"},
        "ShippingAddress": {
            "Name": "Max Muster",
            "AddressLine1": "Hauptstr. 1",
            "City": "Berlin",
            "PostalCode": "10115",
            "CountryCode": "DE",
        },
        "BuyerInfo": {"BuyerEmail": "max@example.de"},
        "OrderItems": [
            {
                "SellerSKU": TEA.code,
                "QuantityOrdered": 3,
                "ItemPrice": {"CurrencyCode": "EUR", "Amount": "37.50"},
            }
        ],
    }
    first = client.post("/api/v1/channels/amazon/orders", json=amazon, headers=sup)
    assert first.status_code == 201 and first.json()["order"]["status"] == "ready"
    assert first.json()["order"]["lines"][0]["unit_price"] == "12.50"
    assert (
        client.post("/api/v1/channels/amazon/orders", json=amazon, headers=sup).status_code == 200
    )
    shopify = {
        "id": 4501,
        "created_at": "2026-11-20T09:00:00+08:00",
        "currency": "JPY",
        "financial_status": "paid",
        "email": "yuki@example.jp",
        "shipping_address": {
            "first_name": "Yuki",
            "last_name": "Sato",
            "address1": "1-1 Chiyoda",
            "city": "Tokyo",
            "province_code": "13",
            "zip": "100-0001",
            "country_code": "JP",
        },
        "line_items": [{"sku": TEA.code, "quantity": 2, "price": "1500.4"}],
    }
    shop = client.post("/api/v1/channels/shopify/orders", json=shopify, headers=sup).json()["order"]
    assert shop["currency"] == "JPY" and shop["total_amount"] == "3000"  # JPY has no minor unit
    broken = client.post(
        "/api/v1/channels/shopify/orders", json={**shopify, "id": 9, "line_items": []}, headers=sup
    )
    assert broken.status_code == 422 and "line_items" in broken.json()["detail"]
    assert client.post("/api/v1/channels/ebay/orders", json={}, headers=sup).status_code == 404
    header = (
        "channel_order_id,ordered_at,customer_name,customer_email,name,line1,"
        "city,postcode,country,currency,payment_status,sku,qty,unit_price"
    )
    li_wei = (
        "C-1,2026-11-20T10:00:00Z,Li Wei,li@example.cn,Li Wei,1 Nanjing Rd,Shanghai,200001,CN,CNY"
    )
    bob = "C-2,2026-11-20T10:00:00Z,Bob,bob@example.com,Bob,5 Elm St,Austin,78701,US,USD"
    rows = [
        f"{li_wei},paid,{TEA.code},2,88.00",
        f"{li_wei},paid,{TEA.code},1,88.00",
        f"{bob},paid,{TEA.code},1,9.99",
    ]
    imported = client.post("/api/v1/orders/import", content="\n".join([header, *rows]), headers=sup)
    assert imported.status_code == 200, imported.text
    result = imported.json()
    assert (result["created"], result["exceptions"], result["errors"]) == (
        2,
        2,
        [],
    )  # CN needs province and phone; US needs state
    bad = client.post("/api/v1/orders/import", content="a,b\n1,2", headers=sup)
    assert bad.status_code == 422 and "lacks column" in bad.json()["detail"]

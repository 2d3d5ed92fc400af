"""Pack station and putaway on a phone-sized browser against a real server (SQLite)."""
# ruff: noqa: RUF001  (the screens show a multiplication sign between SKU and quantity)

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from firmware_interfaces.epc import Sgtin, encode_sgtin96

from central.seed import DEMO_SKUS
from tests.e2e.web_support import Api, central_server, fits_width, press, scan, shot, sign_in

pytestmark = [pytest.mark.e2e]
TEA, MUG = DEMO_SKUS[0], DEMO_SKUS[1]
PACKAGING = Decimal("0.150")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with central_server(f"sqlite:///{tmp_path / 'whs.db'}") as url:
        yield url


@pytest.fixture
def api(server: str) -> Iterator[Api]:
    client = Api(server)
    yield client
    client.close()


def _picked_tote(api: Api, channel_order_id: str, sku: str, qty: int) -> str:
    """An order picked completely through the API; returns its tote."""
    api.order_released(channel_order_id, [(sku, qty)])
    batch = api.call("GET", "/api/v1/picking/next", "operator")
    for line in batch["lines"]:
        body = {"location": line["location"], "item": line["sku"], "qty": line["qty"]}
        api.call("POST", f"/api/v1/picking/lines/{line['id']}/confirm", "operator", json=body)
    return str(batch["lines"][0]["tote"])


def test_pack_station_weighs_closes_and_ships(phone: Any, server: str, api: Api) -> None:
    api.shelve(TEA.code, 10, "A02-B05")
    api.shelve(MUG.code, 10, "A03-B07")
    tote = _picked_tote(api, "P-1", TEA.code, 2)
    expected = PACKAGING + 2 * TEA.unit_weight_kg  # 1.390 kg
    sign_in(phone, server, "operator")
    assert "1" in phone.inner_text("#task-pack")
    press(phone, "#task-pack a")
    assert tote in phone.inner_text("#ready")
    scan(phone, tote)
    assert TEA.code in phone.inner_text("#contents")
    assert f"{expected}" in phone.inner_text("#expected")
    assert phone.is_visible("#waiting")  # nothing on the scale yet: the page keeps refreshing
    shot(phone, "pack-en-01-waiting")

    api.pack_scale_weighs(expected + Decimal("0.5"), seq=1)  # the edge reports a stable weight
    press(phone, f"a[href='/h/pack?tote={tote}']")  # Refresh
    weight = phone.inner_text("#weight")
    assert "+0.500" in weight and "bad" in (phone.get_attribute("#weight", "class") or "")
    assert phone.query_selector("form[action='/h/pack/close']") is None  # cannot close
    assert fits_width(phone)
    shot(phone, "pack-en-02-too-heavy")

    api.pack_scale_weighs(expected + Decimal("0.010"), seq=2)  # the missing item was removed
    phone.wait_for_selector("#weight.good", timeout=10_000)  # the waiting page reloads itself
    assert "Weight OK" in phone.inner_text("#weight")
    shot(phone, "pack-en-03-weight-ok")
    press(phone, "form[action='/h/pack/close'] button")
    assert "closed" in phone.inner_text("#flash")
    shot(phone, "pack-en-04-parcel")
    press(phone, "form[action$='/ship'] button")
    assert "shipped" in phone.inner_text("#flash")

    # A second parcel, weighed on another scale and typed in by hand.
    tote2 = _picked_tote(api, "P-2", MUG.code, 1)
    phone.goto(f"{server}/h/pack")
    scan(phone, tote2)
    # The pack scale still shows the first parcel's weight: it does not match this one.
    assert "bad" in (phone.get_attribute("#weight", "class") or "")
    phone.fill("#kg", str(PACKAGING + MUG.unit_weight_kg))
    press(phone, "form[method=get] button")
    assert "entered" in phone.inner_text("#weight")
    assert "good" in (phone.get_attribute("#weight", "class") or "")
    press(phone, "form[action='/h/pack/close'] button")
    press(phone, "form[action$='/ship'] button")
    orders = {o["channel_order_id"]: o for o in api.call("GET", "/api/v1/orders")}
    assert orders["P-1"]["status"] == "shipped" and orders["P-2"]["status"] == "shipped"
    ships = api.call("GET", "/api/v1/stock/moves", params={"reason": "ship"})
    assert sorted((m["sku"], m["qty"], m["to_location"]) for m in ships) == [
        (MUG.code, 1, "V-CUSTOMER"),
        (TEA.code, 2, "V-CUSTOMER"),
    ]


def _received_at_dock(api: Api) -> None:
    """An ASN counted by hand at DOCK-01: 4 tea (lot L-2611) and 2 mugs wait at the dock."""
    asn = {
        "number": "ASN-9",
        "site": "wh1",
        "supplier": "Shenzhen Goods",
        "lines": [{"sku": TEA.code, "qty": 4, "lot": "L-2611"}, {"sku": MUG.code, "qty": 2}],
    }
    api.call("POST", "/api/v1/inbound/asns", "operator", json=asn)
    api.call("POST", "/api/v1/inbound/asns/ASN-9/arrive", "operator", json={"dock": "DOCK-01"})
    counted = {"lines": [{"sku": TEA.code, "qty": 4}, {"sku": MUG.code, "qty": 2}]}
    api.call("POST", "/api/v1/inbound/asns/ASN-9/receipts", "operator", json=counted)


def test_putaway_moves_received_stock_from_the_dock_into_storage(
    phone: Any, server: str, api: Api
) -> None:
    _received_at_dock(api)
    sign_in(phone, server, "operator")
    assert "2" in phone.inner_text("#task-putaway")
    press(phone, "#task-putaway a")
    waiting = phone.inner_text("#waiting")
    assert "DOCK-01" in waiting and f"{TEA.code} × 4" in waiting and f"{MUG.code} × 2" in waiting
    shot(phone, "putaway-en-01-waiting")
    scan(phone, encode_sgtin96(Sgtin(TEA.gtin, 3)))  # the case's RFID tag
    assert "L-2611" in phone.inner_text("#source")
    scan(phone, "DOCK-02")
    assert "DOCK-02 is not a storage location" in phone.inner_text("#flash")
    scan(phone, "a03-b02")  # typed by hand, lower case
    phone.fill("#qty", "5")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert "DOCK-01 holds only 4 of TEA-500" in phone.inner_text("#flash")
    shot(phone, "putaway-en-02-too-many")
    phone.fill("#qty", "4")
    press(phone, "form[action='/h/putaway/confirm'] button")
    assert "Put away 4 × TEA-500: DOCK-01 → A03-B02" in phone.inner_text("#flash")
    assert TEA.code not in phone.inner_text("#waiting")
    assert fits_width(phone)
    shot(phone, "putaway-en-03-done")
    shelf = {(s["location"], s["sku"], s["lot"]): s["qty"] for s in api.stock(site="wh1")}
    assert shelf[("A03-B02", TEA.code, "L-2611")] == 4
    assert ("DOCK-01", TEA.code, "L-2611") not in shelf
    moves = api.call("GET", "/api/v1/stock/moves", params={"reason": "putaway"})
    assert [(m["from_location"], m["to_location"], m["qty"], m["actor"]) for m in moves] == [
        ("DOCK-01", "A03-B02", 4, "operator")
    ]


def test_putaway_api_is_for_operators_and_never_takes_more_than_the_dock_holds(
    server: str, api: Api
) -> None:
    _received_at_dock(api)
    body = {"item": MUG.gtin, "location": "A04-B01", "qty": 2}
    for user, status in (("viewer", 403), ("operator", 201)):
        response = api.client.post("/api/v1/inbound/putaway", json=body, headers=api.headers(user))
        assert response.status_code == status, response.text
    assert response.json()["from_location"] == "DOCK-01"
    again = api.client.post("/api/v1/inbound/putaway", json=body, headers=api.headers("operator"))
    assert again.status_code == 404 and "no MUG-CER waiting" in again.json()["detail"]
    too_many = api.client.post(
        "/api/v1/inbound/putaway",
        json={**body, "item": TEA.code, "qty": 9},
        headers=api.headers("operator"),
    )
    assert too_many.status_code == 409 and "holds only 4" in too_many.json()["detail"]
    into_dock = api.client.post(
        "/api/v1/inbound/putaway",
        json={**body, "item": TEA.code, "qty": 1, "location": "DOCK-02"},
        headers=api.headers("operator"),
    )
    assert into_dock.status_code == 422 and "storage" in into_dock.json()["detail"]
    waiting = api.call("GET", "/api/v1/inbound/putaway", "viewer")
    assert [(w["dock"], w["sku"], w["qty"]) for w in waiting] == [("DOCK-01", TEA.code, 4)]

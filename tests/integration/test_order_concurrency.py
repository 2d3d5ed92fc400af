"""Concurrent allocations and pick confirmations over real HTTP: no oversell, no negative stock."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from central.app import create_app
from central.db.engine import make_engine
from central.db.tables import OutboxEvent
from central.seed import DEMO_SKUS
from tests.helpers import seeded_sessions, settings_for
from tests.integration.test_receiving_ingest import stock_equals_ledger
from tests.orders_helpers import order, shelve
from whs.broker import find_free_port

pytestmark = pytest.mark.integration
TEA = DEMO_SKUS[0]
ORDERS = 50
ON_HAND = 30


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    with seeded_sessions(database_url):
        pass
    port = find_free_port()
    config = uvicorn.Config(
        create_app(settings_for(database_url), run_ingest=False), port=port, log_level="warning"
    )
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


def test_fifty_concurrent_allocations_and_picks(server: str, database_url: str) -> None:
    client = httpx.Client(base_url=server, timeout=60)
    token = client.post(
        "/api/v1/auth/token", data={"username": "supervisor", "password": "test-pass"}
    ).json()
    sup = {"Authorization": f"Bearer {token['access_token']}"}
    shelve(client, sup, TEA.code, 18, "A01-B01")  # type: ignore[arg-type]
    shelve(client, sup, TEA.code, ON_HAND - 18, "A03-B07")  # type: ignore[arg-type]
    ids = [
        client.post("/api/v1/orders", json=order(f"C-{i}", [(TEA.code, 1)]), headers=sup).json()[
            "order"
        ]["id"]
        for i in range(ORDERS)
    ]

    def allocate(order_id: int) -> int:
        with httpx.Client(base_url=server, timeout=60) as c:
            return c.post(f"/api/v1/orders/{order_id}/allocate", headers=sup).status_code

    with ThreadPoolExecutor(max_workers=ORDERS) as pool:
        codes = list(pool.map(allocate, ids))
    assert Counter(codes) == {200: ORDERS}  # every request answered
    statuses = Counter(
        o["status"] for o in client.get("/api/v1/orders", params={"limit": 500}, headers=sup).json()
    )
    assert statuses == {"allocated": ON_HAND, "backordered": ORDERS - ON_HAND}  # never beyond stock

    wave = client.post(
        "/api/v1/outbound/waves",
        json={"cart_items": 100, "cart_totes": 100, "max_orders": 100},
        headers=sup,
    )
    assert wave.status_code == 201, wave.text
    lines = [line for batch in wave.json()["batches"] for line in batch["lines"]]
    assert len(lines) == ON_HAND

    def confirm(line: dict[str, object]) -> int:
        with httpx.Client(base_url=server, timeout=60) as c:
            body = {"location": line["location"], "item": line["sku"], "qty": line["qty"]}
            return c.post(
                f"/api/v1/picking/lines/{line['id']}/confirm", json=body, headers=sup
            ).status_code

    twice = [line for line in lines for _ in range(2)]  # two handhelds confirm every line at once
    with ThreadPoolExecutor(max_workers=ORDERS) as pool:
        codes = list(pool.map(confirm, twice))
    assert Counter(codes) == {200: ON_HAND, 409: ON_HAND}  # one wins, the other is told clearly
    shelves = client.get("/api/v1/stock", params={"sku": TEA.code}, headers=sup).json()
    assert all(row["qty"] >= 0 for row in shelves)
    assert sum(row["qty"] for row in shelves if row["location"].startswith("A")) == 0
    assert sum(row["qty"] for row in shelves if row["location"].startswith("T")) == ON_HAND
    assert stock_equals_ledger(client, sup)  # type: ignore[arg-type]
    # The batch's lines were confirmed by many handhelds at once: the batch still closes, every
    # order is picked, and each order's channel is told so exactly once.
    after = client.get(f"/api/v1/outbound/waves/{wave.json()['id']}", headers=sup).json()
    assert {b["status"] for b in after["batches"]} == {"done"}
    picked = {
        o["id"]
        for o in client.get("/api/v1/orders", params={"limit": 500}, headers=sup).json()
        if o["status"] == "picked"
    }
    assert len(picked) == ON_HAND
    engine = make_engine(database_url)
    with engine.connect() as connection:
        told = Counter(
            int(key)
            for key, payload in connection.execute(select(OutboxEvent.key, OutboxEvent.payload))
            if payload["to"] == "picked"
        )
    engine.dispose()
    assert told == Counter(dict.fromkeys(picked, 1))

"""Helpers for order tests: stock on shelves and orders in our own JSON shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

US_ADDRESS = {
    "name": "Ann Lee",
    "line1": "1 Main St",
    "city": "Springfield",
    "province": "IL",
    "postcode": "62701",
    "country": "US",
    "phone": "+1 217 555 0100",
}


def shelve(
    client: TestClient, headers: dict[str, str], sku: str, qty: int, location: str, lot: str = ""
) -> None:
    """Put stock on a shelf through the ledger (an inventory adjustment)."""
    body = {
        "site": "wh1",
        "sku": sku,
        "lot": lot,
        "qty": qty,
        "from_location": "V-ADJUSTMENT",
        "to_location": location,
        "reason": "adjustment",
        "note": "test stock",
    }
    response = client.post("/api/v1/stock/moves", json=body, headers=headers)
    assert response.status_code == 201, response.text


def order(channel_order_id: str, lines: list[tuple[str, int]], **overrides: Any) -> dict[str, Any]:
    """A valid, paid order to a US address."""
    body = {
        "channel": "web",
        "channel_order_id": channel_order_id,
        "customer_name": "Ann Lee",
        "customer_email": f"{channel_order_id.lower()}@example.com",
        "ship_to": US_ADDRESS,
        "currency": "USD",
        "payment_status": "paid",
        "ordered_at": datetime.now(UTC).isoformat(),
        "lines": [{"sku": sku, "qty": qty, "unit_price": "12.50"} for sku, qty in lines],
    }
    body.update(overrides)
    return body

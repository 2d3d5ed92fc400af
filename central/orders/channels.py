"""Map marketplace-shaped order payloads (Amazon-like, Shopify-like, CSV) onto OrderIn."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from central.common.errors import InvalidInput
from central.common.money import Money
from central.orders.domain import Address, LineIn, OrderIn, PaymentStatus


def _get(payload: Mapping[str, Any], path: str, default: Any = None, required: bool = True) -> Any:
    value: Any = payload
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value or value[key] is None:
            if required:
                raise InvalidInput(f"{path} is missing")
            return default
        value = value[key]
    return value


def _time(text: Any, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput(f"{where}: {text!r} is not an ISO 8601 time") from exc
    if value.tzinfo is None:
        raise InvalidInput(f"{where}: {text!r} has no UTC offset")
    return value.astimezone(UTC)


def _qty(value: Any, where: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | str)
        or not str(value).isdigit()
        or int(value) <= 0
    ):
        raise InvalidInput(f"{where}: quantity {value!r} is not a positive whole number")
    return int(value)


def from_amazon(payload: Mapping[str, Any]) -> OrderIn:
    """An order shaped like Amazon's Selling Partner Orders API (order with its items)."""
    currency = _get(payload, "OrderTotal.CurrencyCode")
    address = _get(payload, "ShippingAddress")
    status = str(_get(payload, "OrderStatus", "Pending", required=False))
    items = _get(payload, "OrderItems")
    if not isinstance(items, list) or not items:
        raise InvalidInput("OrderItems must be a non-empty list")
    lines = []
    for i, item in enumerate(items):
        qty = _qty(_get(item, "QuantityOrdered"), f"OrderItems[{i}]")
        total = Money.of(_get(item, "ItemPrice.Amount"), _get(item, "ItemPrice.CurrencyCode"))
        # Amazon's ItemPrice is the line total: the unit price is that divided by the quantity
        lines.append(
            LineIn(str(_get(item, "SellerSKU")), qty, Money.of(total.amount / qty, total.currency))
        )
    return OrderIn(
        channel="amazon",
        channel_order_id=str(_get(payload, "AmazonOrderId")),
        customer_name=str(
            _get(payload, "BuyerInfo.BuyerName", address.get("Name", ""), required=False)
        ),
        customer_email=str(_get(payload, "BuyerInfo.BuyerEmail", "", required=False)),
        ship_to=Address(
            name=str(address.get("Name", "")),
            line1=str(address.get("AddressLine1", "")),
            line2=str(address.get("AddressLine2", "") or ""),
            city=str(address.get("City", "")),
            province=str(address.get("StateOrRegion", "") or ""),
            postcode=str(address.get("PostalCode", "") or ""),
            country=str(address.get("CountryCode", "")),
            phone=str(address.get("Phone", "") or ""),
        ),
        currency=str(currency),
        lines=tuple(lines),
        payment_status=PaymentStatus.PENDING if status == "Pending" else PaymentStatus.PAID,
        ordered_at=_time(_get(payload, "PurchaseDate"), "PurchaseDate"),
        billing_country=str(_get(payload, "BuyerInfo.BuyerCountry", "", required=False)),
        carrier=str(_get(payload, "ShipServiceLevel", "standard", required=False)).lower(),
    )


SHOPIFY_PAYMENT = {
    "paid": PaymentStatus.PAID,
    "pending": PaymentStatus.PENDING,
    "authorized": PaymentStatus.PENDING,
}


def from_shopify(payload: Mapping[str, Any]) -> OrderIn:
    """An order shaped like Shopify's Admin API order resource."""
    currency = str(_get(payload, "currency"))
    address = _get(payload, "shipping_address")
    items = _get(payload, "line_items")
    if not isinstance(items, list) or not items:
        raise InvalidInput("line_items must be a non-empty list")
    lines = [
        LineIn(
            str(_get(item, "sku")),
            _qty(_get(item, "quantity"), f"line_items[{i}]"),
            Money.of(str(_get(item, "price")), currency),
        )
        for i, item in enumerate(items)
    ]
    shipping = payload.get("shipping_lines") or [{}]
    name = " ".join(
        filter(None, [address.get("first_name"), address.get("last_name")])
    ) or address.get("name", "")
    return OrderIn(
        channel="shopify",
        channel_order_id=str(_get(payload, "id")),
        customer_name=str(name),
        customer_email=str(payload.get("email") or ""),
        ship_to=Address(
            name=str(name),
            line1=str(address.get("address1", "") or ""),
            line2=str(address.get("address2", "") or ""),
            city=str(address.get("city", "") or ""),
            province=str(address.get("province_code", "") or ""),
            postcode=str(address.get("zip", "") or ""),
            country=str(address.get("country_code", "") or ""),
            phone=str(address.get("phone", "") or ""),
        ),
        currency=currency,
        lines=tuple(lines),
        payment_status=SHOPIFY_PAYMENT.get(
            str(payload.get("financial_status")), PaymentStatus.REFUSED
        ),
        ordered_at=_time(_get(payload, "created_at"), "created_at"),
        billing_country=str(_get(payload, "billing_address.country_code", "", required=False)),
        carrier=str(shipping[0].get("code") or "standard").lower(),
    )


CSV_COLUMNS = (
    "channel_order_id",
    "ordered_at",
    "customer_name",
    "customer_email",
    "name",
    "line1",
    "line2",
    "city",
    "province",
    "postcode",
    "country",
    "phone",
    "currency",
    "payment_status",
    "carrier",
    "sku",
    "qty",
    "unit_price",
)


def from_csv(text: str, channel: str = "csv") -> list[OrderIn]:
    """Orders from CSV, one row per line; rows with the same channel_order_id form one order."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [
        c
        for c in CSV_COLUMNS
        if c not in (reader.fieldnames or []) and c not in ("line2", "phone", "province", "carrier")
    ]
    if missing:
        raise InvalidInput(f"CSV lacks column(s): {', '.join(missing)}")
    grouped: dict[str, list[dict[str, str]]] = {}
    for row_no, row in enumerate(reader, start=2):
        key = (row.get("channel_order_id") or "").strip()
        if not key:
            raise InvalidInput(f"row {row_no}: channel_order_id is empty")
        row["_row"] = str(row_no)
        grouped.setdefault(key, []).append(row)
    orders = []
    for key, rows in grouped.items():
        head = rows[0]
        try:
            payment = PaymentStatus(head["payment_status"].strip().lower())
        except ValueError as exc:
            raise InvalidInput(
                f"row {head['_row']}: payment_status {head['payment_status']!r}"
                " is not paid, pending or refused"
            ) from exc
        orders.append(
            OrderIn(
                channel=channel,
                channel_order_id=key,
                customer_name=head["customer_name"],
                customer_email=head["customer_email"],
                ship_to=Address(
                    name=head["name"],
                    line1=head["line1"],
                    line2=head.get("line2") or "",
                    city=head["city"],
                    province=head.get("province") or "",
                    postcode=head["postcode"],
                    country=head["country"],
                    phone=head.get("phone") or "",
                ),
                currency=head["currency"],
                lines=tuple(
                    LineIn(
                        r["sku"],
                        _qty(r["qty"], f"row {r['_row']}"),
                        Money.of(r["unit_price"], head["currency"]),
                    )
                    for r in rows
                ),
                payment_status=payment,
                ordered_at=_time(head["ordered_at"], f"row {head['_row']}"),
                carrier=(head.get("carrier") or "standard").lower(),
            )
        )
    return orders


ADAPTERS: dict[str, Callable[[Mapping[str, Any]], OrderIn]] = {
    "amazon": from_amazon,
    "shopify": from_shopify,
}

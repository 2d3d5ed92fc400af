"""Order rules: money, addresses per country, risk score, marketplace payload mapping."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from central.common.errors import InvalidInput
from central.common.money import Money
from central.orders.channels import from_amazon, from_csv, from_shopify
from central.orders.domain import (
    Address,
    LineIn,
    OrderIn,
    PaymentStatus,
    RiskRules,
    address_problems,
    assess_risk,
    order_problems,
)


def test_money_rounds_to_the_currency_minor_unit_and_refuses_floats() -> None:
    assert Money.of("12.345", "USD").amount == Decimal("12.34")  # banker's rounding
    assert Money.of("1500.6", "JPY").amount == Decimal("1501")
    assert Money.of("1.2345", "KWD").amount == Decimal("1.234")
    with pytest.raises(InvalidInput, match="float"):
        Money.of(1.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="ISO 4217"):
        Money.of("1", "XXX")
    with pytest.raises(InvalidInput, match="cannot add"):
        Money.of("1", "USD") + Money.of("1", "EUR")


@pytest.mark.parametrize(
    ("address", "problems"),
    [
        (Address("A", "1 Main St", "Austin", "US", "78701", "TX"), []),
        (
            Address("A", "1 Main St", "Austin", "US", "7870", "TX"),
            ["postcode '7870' is not valid for US"],
        ),
        (Address("A", "1 Main St", "Austin", "US", "78701"), ["province/state is required for US"]),
        (Address("李", "南京路1号", "上海", "CN", "200001", "上海"), ["phone is required for CN"]),
        (Address("Max", "Hauptstr. 1", "Berlin", "DE", "10115"), []),
        (Address("Ann", "10 Downing St", "London", "GB", "SW1A 2AA"), []),
        (Address("", "", "Paris", "FR", "75001"), ["name is missing", "line1 is missing"]),
        (Address("X", "Y", "Z", "Germany"), ["country 'Germany' is not an ISO 3166 code"]),
    ],
)
def test_address_completeness_per_country(address: Address, problems: list[str]) -> None:
    assert address_problems(address) == problems


def _order(**kw: object) -> OrderIn:
    base: dict[str, object] = dict(
        channel="web",
        channel_order_id="1",
        customer_name="A",
        customer_email="a@x.com",
        ship_to=Address("A", "1 Main St", "Austin", "US", "78701", "TX"),
        currency="USD",
        lines=(LineIn("TEA", 2, Money.of("10", "USD")),),
        payment_status=PaymentStatus.PAID,
        ordered_at=datetime(2026, 11, 25, tzinfo=UTC),
    )
    base.update(kw)
    return OrderIn(**base)  # type: ignore[arg-type]


def test_risk_rises_with_value_mismatch_and_velocity() -> None:
    rules = RiskRules()
    assert assess_risk(_order(), Decimal("20"), 0, rules).score == 0
    risky = assess_risk(_order(billing_country="NG"), Decimal("2500"), 5, rules)
    assert risky.score >= rules.hold_at
    assert len(risky.reasons) == 3 and any("differs" in r for r in risky.reasons)
    problems = order_problems(_order(), {"TEA"}, {"TEA": 5}, risky, rules)
    assert problems[-1].startswith("risk score")


def test_problems_for_unknown_sku_no_stock_and_payment() -> None:
    rules, calm = RiskRules(), assess_risk(_order(), Decimal("20"), 0, RiskRules())
    assert order_problems(_order(), {"MUG"}, {}, calm, rules) == ["unknown SKU(s): TEA"]
    assert order_problems(_order(), {"TEA"}, {"TEA": 0}, calm, rules) == ["no stock for any line"]
    assert order_problems(
        _order(payment_status=PaymentStatus.REFUSED), {"TEA"}, {"TEA": 3}, calm, rules
    ) == ["payment refused"]
    assert _order().total == Money.of("20", "USD")


def test_amazon_item_price_is_a_line_total() -> None:
    order = from_amazon(
        {
            "AmazonOrderId": "A1",
            "PurchaseDate": "2026-11-20T08:00:00Z",
            "OrderTotal": {"CurrencyCode": "GBP"},
            "ShippingAddress": {
                "Name": "Ann",
                "AddressLine1": "1 High St",
                "City": "Leeds",
                "PostalCode": "LS1 4AP",
                "CountryCode": "GB",
            },
            "OrderItems": [
                {
                    "SellerSKU": "TEA",
                    "QuantityOrdered": 4,
                    "ItemPrice": {"CurrencyCode": "GBP", "Amount": "10.00"},
                }
            ],
        }
    )
    assert order.lines[0].unit_price == Money.of("2.50", "GBP")
    assert order.payment_status is PaymentStatus.PENDING  # no OrderStatus: not known to be paid
    assert order.ship_to.postcode == "LS1 4AP"


def test_shopify_authorized_payment_is_pending_and_times_become_utc() -> None:
    order = from_shopify(
        {
            "id": 7,
            "created_at": "2026-11-20T09:00:00+08:00",
            "currency": "CNY",
            "financial_status": "authorized",
            "shipping_address": {
                "name": "Li",
                "address1": "1 Rd",
                "city": "SH",
                "zip": "200001",
                "country_code": "CN",
            },
            "line_items": [{"sku": "TEA", "quantity": "2", "price": "88"}],
        }
    )
    assert order.payment_status is PaymentStatus.PENDING
    assert order.ordered_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "is missing"),
        (
            {
                "id": 1,
                "currency": "USD",
                "shipping_address": {},
                "line_items": [{"sku": "A", "quantity": 0, "price": "1"}],
                "created_at": "2026-11-20T09:00:00Z",
            },
            "not a positive whole number",
        ),
        (
            {
                "id": 1,
                "currency": "USD",
                "shipping_address": {},
                "line_items": [{"sku": "A", "quantity": 1, "price": "x"}],
                "created_at": "2026-11-20T09:00:00Z",
            },
            "not an amount",
        ),
        (
            {
                "id": 1,
                "currency": "USD",
                "shipping_address": {},
                "line_items": [{"sku": "A", "quantity": 1, "price": "1"}],
                "created_at": "2026-11-20 09:00",
            },
            "no UTC offset",
        ),
    ],
)
def test_bad_marketplace_payloads_say_why(payload: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        from_shopify(payload)


def test_csv_groups_rows_by_order_and_reports_row_numbers() -> None:
    head = (
        "channel_order_id,ordered_at,customer_name,customer_email,name,line1,"
        "city,postcode,country,currency,payment_status,sku,qty,unit_price"
    )
    row = "X1,2026-11-20T10:00:00Z,Bob,b@x.com,Bob,1 St,Austin,78701,US,USD,paid"
    orders = from_csv("\n".join([head, f"{row},TEA,1,1.00", f"{row},MUG,2,3.00"]))
    assert len(orders) == 1 and [(ln.sku, ln.qty) for ln in orders[0].lines] == [
        ("TEA", 1),
        ("MUG", 2),
    ]
    with pytest.raises(InvalidInput, match="row 3"):
        from_csv("\n".join([head, f"{row},TEA,1,1.00", f"{row},MUG,-2,3.00"]))

"""Order rules without I/O: the order model, address checks, risk score, channel payloads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property

from central.common.errors import InvalidInput
from central.common.money import Money


class OrderStatus(StrEnum):
    """Order lifecycle; every change is published as an outbox event."""

    EXCEPTION = "exception"  # failed validation: waits for a supervisor
    READY = "ready"  # valid, waiting for stock allocation
    ALLOCATED = "allocated"  # every line reserved
    BACKORDERED = "backordered"  # some lines wait for stock
    RELEASED = "released"  # in a wave, pick tasks exist
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    MERGED = "merged"  # its lines moved into another order of the same customer and address


OPEN_FOR_CHANGES = {
    OrderStatus.EXCEPTION,
    OrderStatus.READY,
    OrderStatus.ALLOCATED,
    OrderStatus.BACKORDERED,
}


class PaymentStatus(StrEnum):
    """What the sales channel says about the money."""

    PAID = "paid"
    PENDING = "pending"
    REFUSED = "refused"


@dataclass(frozen=True)
class Address:
    """A delivery address."""

    name: str
    line1: str
    city: str
    country: str
    postcode: str = ""
    province: str = ""
    line2: str = ""
    phone: str = ""

    def key(self) -> str:
        """Normalised form used to find orders going to the same door."""
        parts = (self.name, self.line1, self.line2, self.city, self.postcode, self.country)
        return "|".join(re.sub(r"\s+", " ", p.strip().lower()) for p in parts)


@dataclass(frozen=True)
class LineIn:
    """One ordered SKU."""

    sku: str
    qty: int
    unit_price: Money


@dataclass(frozen=True)
class OrderIn:
    """An order as any channel sends it, mapped onto our model."""

    channel: str
    channel_order_id: str
    customer_name: str
    customer_email: str
    ship_to: Address
    currency: str
    lines: tuple[LineIn, ...]
    payment_status: PaymentStatus
    ordered_at: datetime
    billing_country: str = ""
    carrier: str = "standard"

    @cached_property
    def total(self) -> Money:
        """Sum of the lines (one currency per order)."""
        total = Money.of(0, self.currency)
        for line in self.lines:
            total = total + line.unit_price.times(line.qty)
        return total


# Postcode patterns and required fields per destination country (ISO 3166-1 alpha-2).
POSTCODES = {
    "US": r"^\d{5}(-\d{4})?$",
    "CA": r"^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$",
    "GB": r"^[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}$",
    "DE": r"^\d{5}$",
    "FR": r"^\d{5}$",
    "ES": r"^\d{5}$",
    "IT": r"^\d{5}$",
    "NL": r"^\d{4} ?[A-Za-z]{2}$",
    "JP": r"^\d{3}-?\d{4}$",
    "CN": r"^\d{6}$",
    "AU": r"^\d{4}$",
    "BR": r"^\d{5}-?\d{3}$",
}
PROVINCE_REQUIRED = {"US", "CA", "CN", "AU", "BR", "JP"}
PHONE_REQUIRED = {"CN", "BR"}  # carriers and customs there ask for it


def address_problems(address: Address) -> list[str]:
    """What keeps a parcel from being delivered to `address` (empty when complete)."""
    problems = [
        f"{name} is missing"
        for name in ("name", "line1", "city")
        if not getattr(address, name).strip()
    ]
    country = address.country.upper()
    if not re.fullmatch(r"[A-Z]{2}", country):
        return [*problems, f"country {address.country!r} is not an ISO 3166 code"]
    pattern = POSTCODES.get(country)
    if pattern and not re.fullmatch(pattern, address.postcode.strip()):
        problems.append(f"postcode {address.postcode!r} is not valid for {country}")
    if country in PROVINCE_REQUIRED and not address.province.strip():
        problems.append(f"province/state is required for {country}")
    if country in PHONE_REQUIRED and not address.phone.strip():
        problems.append(f"phone is required for {country}")
    return problems


@dataclass(frozen=True)
class RiskRules:
    """Thresholds of the risk score; an order at or above `hold_at` goes to the exception queue."""

    high_value_usd: Decimal = Decimal("1000")
    velocity_window_h: int = 24
    velocity_orders: int = 3
    hold_at: int = 50


@dataclass
class RiskAssessment:
    """A score from 0 and the reasons that raised it."""

    score: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, points: int, reason: str) -> None:
        """Raise the score for a reason."""
        self.score += points
        self.reasons.append(reason)


def assess_risk(
    order: OrderIn, value_usd: Decimal | None, recent_orders: int, rules: RiskRules
) -> RiskAssessment:
    """Score an order from its value, a billing/shipping country mismatch and order velocity."""
    risk = RiskAssessment()
    if value_usd is None:
        risk.add(10, f"no reference rate for {order.currency}: value not assessed")
    elif value_usd >= rules.high_value_usd:
        risk.add(
            30 + int(20 * min(value_usd / rules.high_value_usd - 1, Decimal(1))),
            f"high value ({value_usd:.2f} USD)",
        )
    if order.billing_country and order.billing_country.upper() != order.ship_to.country.upper():
        risk.add(
            30,
            f"billing country {order.billing_country} differs from"
            f" shipping country {order.ship_to.country}",
        )
    if recent_orders >= rules.velocity_orders:
        risk.add(25, f"{recent_orders} orders from this customer in {rules.velocity_window_h} h")
    return risk


def order_problems(
    order: OrderIn,
    known_skus: set[str],
    available: dict[str, int],
    risk: RiskAssessment,
    rules: RiskRules,
) -> list[str]:
    """Every reason to hold the order for a supervisor (empty: process it automatically)."""
    problems = [f"address: {p}" for p in address_problems(order.ship_to)]
    unknown = sorted({line.sku for line in order.lines} - known_skus)
    if unknown:
        problems.append(f"unknown SKU(s): {', '.join(unknown)}")
    elif all(available.get(line.sku, 0) <= 0 for line in order.lines):
        problems.append("no stock for any line")
    if order.payment_status is PaymentStatus.REFUSED:
        problems.append("payment refused")
    elif order.payment_status is PaymentStatus.PENDING:
        problems.append("payment pending")
    if risk.score >= rules.hold_at:
        problems.append(f"risk score {risk.score}: {'; '.join(risk.reasons)}")
    return problems


# Column widths of a stored order (central/db/tables.py); the largest amount Numeric(18, 4) holds.
FIELD_LIMITS = {
    "channel": 32,
    "channel_order_id": 64,
    "customer_name": 128,
    "customer_email": 256,
    "carrier": 32,
}
SKU_CODE_LIMIT = 64
MAX_AMOUNT = Decimal(10) ** 14


def check_storable(order: OrderIn) -> None:
    """InvalidInput when an order cannot be stored as it is (too long a field, too large a sum)."""
    for name, limit in FIELD_LIMITS.items():
        if len(getattr(order, name)) > limit:
            raise InvalidInput(f"{name} is longer than {limit} characters")
    for line in order.lines:
        if len(line.sku) > SKU_CODE_LIMIT:
            raise InvalidInput(f"SKU {line.sku[:20]!r}... is longer than {SKU_CODE_LIMIT}")
        if line.unit_price.amount >= MAX_AMOUNT:
            raise InvalidInput(f"unit price of {line.sku} is too large")
    if abs(order.total.amount) >= MAX_AMOUNT:
        raise InvalidInput(f"order total {order.total} is too large")

"""Request and response models of the orders API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from central.orders.domain import PaymentStatus


class AddressIn(BaseModel):
    name: str = Field(max_length=128)
    line1: str = Field(max_length=256)
    line2: str = Field(default="", max_length=256)
    city: str = Field(max_length=128)
    province: str = Field(default="", max_length=64)
    postcode: str = Field(default="", max_length=16)
    country: str = Field(min_length=2, max_length=2)
    phone: str = Field(default="", max_length=32)


class OrderLineIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=100_000)
    unit_price: Decimal = Field(ge=0, max_digits=18, decimal_places=4)


class OrderCreate(BaseModel):
    channel: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")
    channel_order_id: str = Field(min_length=1, max_length=64)
    site: str = "wh1"
    customer_name: str = Field(max_length=128)
    customer_email: str = Field(default="", max_length=256)
    ship_to: AddressIn
    billing_country: str = Field(default="", max_length=2)
    currency: str = Field(min_length=3, max_length=3)
    payment_status: PaymentStatus = PaymentStatus.PAID
    carrier: str = Field(default="standard", max_length=32)
    ordered_at: datetime
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)


class OrderLinePublic(BaseModel):
    sku: str
    qty: int
    unit_price: Decimal
    qty_allocated: int
    qty_picked: int
    qty_short: int


class OrderPublic(BaseModel):
    id: int
    channel: str
    channel_order_id: str
    status: str
    customer_name: str
    customer_email: str
    ship_to: dict[str, Any]
    currency: str
    total_amount: Decimal
    payment_status: str
    carrier: str
    risk_score: int
    problems: list[str]
    merged_into: int | None
    ordered_at: datetime
    lines: list[OrderLinePublic]


class IntakePublic(BaseModel):
    created: bool
    order: OrderPublic


class ImportRowError(BaseModel):
    index: int
    detail: str


class BulkPublic(BaseModel):
    created: int
    repeated: int
    exceptions: int
    errors: list[ImportRowError]
    orders: list[int]


class NoteIn(BaseModel):
    note: str | None = Field(default=None, max_length=1000)


class CancelIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class StatsPublic(BaseModel):
    orders: int
    automatic: int
    automatic_rate: float
    by_status: dict[str, int]

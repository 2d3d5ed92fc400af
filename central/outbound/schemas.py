"""Request and response models of the outbound API (waves, picking, packing)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field


class AllocateIn(BaseModel):
    site: str = "wh1"


class AllocatePublic(BaseModel):
    allocated: int
    backordered: int


class WaveCreate(BaseModel):
    site: str = "wh1"
    carrier: str | None = None
    cutoff: datetime | None = None
    max_orders: int = Field(default=200, ge=1, le=2000)
    cart_items: int = Field(default=40, ge=1)
    cart_totes: int = Field(default=8, ge=1)
    method: str = Field(
        default="exact",
        pattern="^(exact|auto|ortools|s-shape|largest-gap|combined|midpoint|return)$",
    )


class PickLinePublic(BaseModel):
    id: int
    seq: int
    location: str
    sku: str
    sku_name: str
    gtin: str | None
    lot: str
    qty: int
    qty_picked: int
    tote: str
    status: str


class BatchPublic(BaseModel):
    id: int
    wave: str
    status: str
    assignee: str | None
    path_length: float
    path_method: str
    lines: list[PickLinePublic]


class WavePublic(BaseModel):
    id: int
    code: str
    carrier: str | None
    orders: int
    batches: list[BatchPublic]


class ConfirmIn(BaseModel):
    location: str = Field(min_length=1, max_length=64)
    item: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0)


class ShortIn(BaseModel):
    found: int = Field(ge=0)
    reason: str = Field(min_length=1, max_length=64)


class ToteItemPublic(BaseModel):
    sku: str
    name: str
    lot: str
    qty: int


class TotePublic(BaseModel):
    tote: str
    order_id: int
    order_status: str
    items: list[ToteItemPublic]
    expected_kg: Decimal
    scale_kg: Decimal | None


class CloseIn(BaseModel):
    site: str = "wh1"
    measured_kg: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=3)


class ParcelPublic(BaseModel):
    id: int
    order_id: int
    tote: str
    expected_kg: Decimal
    measured_kg: Decimal | None
    status: str

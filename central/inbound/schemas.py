"""Request and response models of the inbound API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from central.inbound.domain import Resolution


class AsnLineCreate(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=1_000_000)
    lot: str = Field(default="", max_length=64)
    expiry: date | None = None


class AsnCreate(BaseModel):
    number: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
    site: str
    supplier: str = Field(min_length=1, max_length=128)
    pallet_tare_kg: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=3)
    expected_at: datetime | None = None
    lines: list[AsnLineCreate] = Field(min_length=1, max_length=1000)
    expected_epcs: list[str] = Field(default_factory=list, max_length=100_000)


class AsnLinePublic(BaseModel):
    sku: str
    lot: str
    qty_expected: int
    qty_received: int


class DiscrepancyPublic(BaseModel):
    id: int
    asn: str | None
    kind: str
    detail: dict[str, Any]
    status: str
    raised_at: datetime
    resolution: str | None
    resolved_by: str | None
    note: str | None


class AsnPublic(BaseModel):
    number: str
    supplier: str
    status: str
    dock: str | None
    pallet_tare_kg: Decimal
    arrived_at: datetime | None
    closed_at: datetime | None
    lines: list[AsnLinePublic]
    discrepancies: list[DiscrepancyPublic]


class ArriveRequest(BaseModel):
    dock: str = Field(min_length=1, max_length=64)


class CountedLine(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    qty: int = Field(gt=0, le=1_000_000)


class ReceiptRequest(BaseModel):
    lines: list[CountedLine] = Field(min_length=1)


class ResolveRequest(BaseModel):
    resolution: Resolution
    note: str | None = Field(default=None, max_length=1000)

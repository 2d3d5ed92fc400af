"""Request and response models of the inventory API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from central.inventory.domain import LocationKind, MoveReason

Code = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


class SiteCreate(BaseModel):
    code: str = Code
    name: str = Field(min_length=1, max_length=128)
    timezone: str = "UTC"


class SitePublic(BaseModel):
    code: str
    name: str
    timezone: str


class LocationCreate(BaseModel):
    code: str = Code
    kind: LocationKind
    zone: str | None = None
    aisle: str | None = None
    bay: str | None = None
    level: str | None = None
    slot: str | None = None
    x: float | None = None
    y: float | None = None
    capacity: int | None = Field(default=None, ge=0)


class LocationPublic(BaseModel):
    code: str
    kind: str
    x: float | None
    y: float | None


class SkuCreate(BaseModel):
    code: str = Code
    name: str = Field(min_length=1, max_length=256)
    gtin: str | None = Field(default=None, pattern=r"^\d{8}$|^\d{12,14}$")
    unit_weight_kg: Decimal = Field(ge=0, max_digits=12, decimal_places=3)
    length_mm: int | None = Field(default=None, ge=0)
    width_mm: int | None = Field(default=None, ge=0)
    height_mm: int | None = Field(default=None, ge=0)
    hs_code: str | None = Field(default=None, max_length=16)
    origin_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class SkuPublic(BaseModel):
    code: str
    name: str
    gtin: str | None
    unit_weight_kg: Decimal


class StockPublic(BaseModel):
    location: str
    sku: str
    lot: str
    expiry: date | None
    qty: int


class MoveCreate(BaseModel):
    site: str
    sku: str
    lot: str = ""
    qty: int = Field(gt=0)
    from_location: str
    to_location: str
    reason: MoveReason = MoveReason.TRANSFER
    note: str | None = Field(default=None, max_length=1000)


class MovePublic(BaseModel):
    id: int
    ts: datetime
    sku: str
    lot: str
    qty: int
    from_location: str
    to_location: str
    reason: str
    ref_type: str | None
    ref_id: str | None
    actor: str

"""SQL tables of the central service (SQLAlchemy 2 declarative models)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer, "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times are timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Kg = Numeric(12, 3)


class Base(DeclarativeBase):
    """Base of every table; constraint names are deterministic for migrations."""

    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=func.now())


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")


class Zone(Base):
    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), default="storage")


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"))
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    aisle: Mapped[str | None] = mapped_column(String(16))
    bay: Mapped[str | None] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(16))
    slot: Mapped[str | None] = mapped_column(String(16))
    x: Mapped[float | None] = mapped_column()
    y: Mapped[float | None] = mapped_column()
    capacity: Mapped[int | None] = mapped_column(Integer)


class Sku(Base):
    __tablename__ = "skus"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    unit_weight_kg: Mapped[Decimal] = mapped_column(Kg)
    length_mm: Mapped[int | None] = mapped_column(Integer)
    width_mm: Mapped[int | None] = mapped_column(Integer)
    height_mm: Mapped[int | None] = mapped_column(Integer)
    hs_code: Mapped[str | None] = mapped_column(String(16))
    origin_country: Mapped[str | None] = mapped_column(String(2))


class Lot(Base):
    __tablename__ = "lots"
    __table_args__ = (UniqueConstraint("sku_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    code: Mapped[str] = mapped_column(String(64))
    expiry: Mapped[date | None] = mapped_column(Date)


class Stock(Base):
    """Quantity on hand per location, SKU and lot: always the sum of the ledger."""

    __tablename__ = "stock"
    __table_args__ = (UniqueConstraint("location_id", "sku_id", "lot_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    qty: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class StockMove(Base):
    """One ledger line: `qty` units of a SKU/lot moved from one location to another."""

    __tablename__ = "stock_moves"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("from_location_id <> to_location_id", name="distinct_locations"),
        Index("ix_stock_moves_ref", "ref_type", "ref_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    qty: Mapped[int] = mapped_column(Integer)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    reason: Mapped[str] = mapped_column(String(32))
    ref_type: Mapped[str | None] = mapped_column(String(32))
    ref_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


class Device(Base):
    """A floor device known to central, its dock and its last reported status."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    kind: Mapped[str] = mapped_column(String(32))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    online: Mapped[bool | None] = mapped_column(Boolean)
    last_seen: Mapped[datetime | None] = mapped_column(UtcDateTime())
    edge_id: Mapped[str | None] = mapped_column(String(64), index=True)


class Asn(Base):
    """Advance shipping notice: what a supplier says is on its way."""

    __tablename__ = "asns"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    supplier: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    dock_location_id: Mapped[int | None] = mapped_column(ForeignKey("locations.id"))
    pallet_tare_kg: Mapped[Decimal] = mapped_column(Kg)
    expected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class AsnLine(Base):
    __tablename__ = "asn_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    asn_id: Mapped[int] = mapped_column(ForeignKey("asns.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    lot_code: Mapped[str] = mapped_column(String(64), default="")
    expiry: Mapped[date | None] = mapped_column(Date)
    qty_expected: Mapped[int] = mapped_column(Integer)
    qty_received: Mapped[int] = mapped_column(Integer, default=0)


class AsnExpectedTag(Base):
    __tablename__ = "asn_expected_tags"
    __table_args__ = (UniqueConstraint("asn_id", "epc"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    asn_id: Mapped[int] = mapped_column(ForeignKey("asns.id", ondelete="CASCADE"))
    epc: Mapped[str] = mapped_column(String(64))


class GatePass(Base):
    """All tags that passed an RFID gate in one pass, as the edge reported it."""

    __tablename__ = "gate_passes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    gate_id: Mapped[str] = mapped_column(String(64))
    asn_id: Mapped[int | None] = mapped_column(ForeignKey("asns.id"), index=True)
    direction: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime())
    epcs: Mapped[list[str]] = mapped_column(JSON)
    edge_id: Mapped[str | None] = mapped_column(String(64))


class Weighing(Base):
    """A stable weight a scale reported."""

    __tablename__ = "weighings"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    scale_id: Mapped[str] = mapped_column(String(64))
    asn_id: Mapped[int | None] = mapped_column(ForeignKey("asns.id"), index=True)
    kg: Mapped[Decimal] = mapped_column(Kg)
    settled_at: Mapped[datetime] = mapped_column(UtcDateTime())
    edge_id: Mapped[str | None] = mapped_column(String(64))


class Discrepancy(Base):
    """Something a receipt check found wrong; a supervisor decides what happens."""

    __tablename__ = "discrepancies"
    id: Mapped[int] = mapped_column(primary_key=True)
    asn_id: Mapped[int | None] = mapped_column(ForeignKey("asns.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolution: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class EdgeCursor(Base):
    """Highest contiguous uplink batch committed per edge and epoch (exactly-once ingest)."""

    __tablename__ = "edge_cursors"
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DeadLetter(Base):
    """A message that could not be used, with the reason; nothing is dropped silently."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    origin: Mapped[str] = mapped_column(String(16))
    edge_id: Mapped[str | None] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DeviceEvent(Base):
    """Every uplinked event, kept once: the raw event log, written with the edge's cursor."""

    __tablename__ = "device_events"
    # Look-ups of a device's newest events by type and source; not kept for the high-volume
    # types nobody looks up that way (migration 0009).
    __table_args__ = (
        Index(
            "ix_device_events_source_ts_lookup",
            "source",
            "ts",
            postgresql_where=text("type NOT IN ('rfid.tag_read', 'telemetry.sample')"),
            sqlite_where=text("type NOT IN ('rfid.tag_read', 'telemetry.sample')"),
        ),
    )
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime | None] = mapped_column(UtcDateTime())
    data: Mapped[Any] = mapped_column(JSON)
    ingested_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Order(Base):
    """A customer order from a sales channel; idempotent by (channel, channel_order_id)."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("channel", "channel_order_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    channel_order_id: Mapped[str] = mapped_column(String(64))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    customer_name: Mapped[str] = mapped_column(String(128))
    customer_email: Mapped[str] = mapped_column(String(256), index=True)
    ship_to: Mapped[dict[str, Any]] = mapped_column(JSON)
    address_key: Mapped[str] = mapped_column(String(512))
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    payment_status: Mapped[str] = mapped_column(String(16))
    carrier: Mapped[str] = mapped_column(String(32))
    risk_score: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[str]] = mapped_column(JSON)
    processed_automatically: Mapped[bool] = mapped_column(Boolean)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("waves.id"), index=True)
    ordered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("qty >= 0", name="qty_not_negative"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    sku_code: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    qty_allocated: Mapped[int] = mapped_column(Integer, default=0)
    qty_picked: Mapped[int] = mapped_column(Integer, default=0)
    qty_short: Mapped[int] = mapped_column(Integer, default=0)


class Reservation(Base):
    """Stock set aside for an order line at one location and lot."""

    __tablename__ = "reservations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_line_id: Mapped[int] = mapped_column(
        ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    stock_id: Mapped[int] = mapped_column(ForeignKey("stock.id"), index=True)
    qty: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))


class Wave(Base):
    __tablename__ = "waves"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(32), unique=True)
    carrier: Mapped[str | None] = mapped_column(String(32))
    zone: Mapped[str | None] = mapped_column(String(32))
    cutoff: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class PickBatch(Base):
    """One picker tour: orders of a wave grouped under the cart's capacity, with its path."""

    __tablename__ = "pick_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("waves.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64), index=True)
    path_length: Mapped[float] = mapped_column()
    path_method: Mapped[str] = mapped_column(String(16))


class PickLine(Base):
    """Go to a location, take qty of a SKU lot, put it into the order's tote."""

    __tablename__ = "pick_lines"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("pick_batches.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    reservation_id: Mapped[int] = mapped_column(ForeignKey("reservations.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    qty: Mapped[int] = mapped_column(Integer)
    qty_picked: Mapped[int] = mapped_column(Integer, default=0)
    tote: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    short_reason: Mapped[str | None] = mapped_column(String(64))
    done_by: Mapped[str | None] = mapped_column(String(64))
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    picker: Mapped[str | None] = mapped_column(String(64))  # "arm:<station>": not for handhelds


class CountTask(Base):
    """Count a location (raised by a short pick, a discrepancy or the cycle count plan)."""

    __tablename__ = "count_tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id"))
    sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    reason: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Parcel(Base):
    """A packed parcel: its tote, the weights, and when it was closed and shipped."""

    __tablename__ = "parcels"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    tote: Mapped[str] = mapped_column(String(32))
    expected_kg: Mapped[Decimal] = mapped_column(Kg)
    measured_kg: Mapped[Decimal | None] = mapped_column(Kg)
    status: Mapped[str] = mapped_column(String(16))
    packed_by: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class OutboxEvent(Base):
    """A domain event committed with the change that caused it, delivered afterwards."""

    __tablename__ = "outbox_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    topic: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(512))
    secret: Mapped[str] = mapped_column(String(128))
    topics: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookDelivery(Base):
    """One event to one subscriber: retried with backoff until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("event_id", "subscription_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Command(Base):
    """A command to a device through its edge; its id is the idempotency key."""

    __tablename__ = "commands"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    edge_id: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    deadline: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16), index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class EdgeHealth(Base):
    """The last status (and heartbeat details) of each edge agent."""

    __tablename__ = "edges"
    edge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str] = mapped_column(String(32))
    online: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(16))
    status_ts: Mapped[datetime] = mapped_column(UtcDateTime())
    health: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TelemetrySample(Base):
    """Device measurement history when no InfluxDB is configured."""

    __tablename__ = "telemetry_samples"
    __table_args__ = (Index("ix_telemetry_samples_series", "device_id", "tag", "ts"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(String(128))
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    quality: Mapped[str] = mapped_column(String(16))
    edge_id: Mapped[str | None] = mapped_column(String(64))


class DispatchCursor(Base):
    """How far a background dispatcher has fanned out the outbox (by event id)."""

    __tablename__ = "dispatch_cursors"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(BigInteger)


class FleetTask(Base):
    """A transport task of the AGV fleet (tote pick -> pack, pallet dock -> reserve)."""

    __tablename__ = "fleet_tasks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    dest: Mapped[str] = mapped_column(String(32))
    load_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    vehicle: Mapped[str | None] = mapped_column(String(64))
    vehicles: Mapped[list[str]] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StationTask(Base):
    """A pick task of a robot-arm station; `source` names what created it (unique if set)."""

    __tablename__ = "station_tasks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    station: Mapped[str] = mapped_column(String(64), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    qty: Mapped[int] = mapped_column(Integer)
    tote: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(64), unique=True)
    transport_task: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

"""A small demo warehouse: one site, docks with a gate and a scale, storage, SKUs, users."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from firmware_interfaces.epc import gtin_check_digit
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.auth import service as auth
from central.auth.domain import Role
from central.db.tables import Site
from central.inventory import service as inventory
from central.inventory.domain import LocationKind
from central.telemetry import service as telemetry

COMPANY_PREFIX = "6901234"  # 7 digits, a GS1 China-range prefix for the demo


@dataclass(frozen=True)
class DemoSku:
    """A demo SKU: code, name, item reference (for its GTIN) and unit weight."""

    code: str
    name: str
    item_ref: str
    unit_weight_kg: Decimal

    @property
    def gtin(self) -> str:
        """GTIN-14 built from the demo company prefix and the item reference."""
        first13 = "0" + COMPANY_PREFIX + self.item_ref
        return first13 + gtin_check_digit(first13)


DEMO_SKUS = (
    DemoSku("TEA-500", "Oolong tea 500 g / 乌龙茶 500克", "00011", Decimal("0.620")),
    DemoSku("MUG-CER", "Ceramic mug / 陶瓷杯", "00012", Decimal("0.410")),
    DemoSku("SILK-SC", "Silk scarf / 丝巾", "00013", Decimal("0.090")),
    DemoSku("BTL-750", "Vacuum bottle 750 ml / 保温瓶", "00014", Decimal("0.380")),
    DemoSku("PHN-CASE", "Phone case / 手机壳", "00015", Decimal("0.060")),
)
DEMO_DOCKS = (("DOCK-01", "gate-01", "scale-01"), ("DOCK-02", "gate-02", "scale-02"))
DEMO_USERS = (("supervisor", Role.SUPERVISOR), ("operator", Role.OPERATOR), ("viewer", Role.VIEWER))


def seed_demo(session: Session, site_code: str = "wh1", user_password: str | None = None) -> Site:
    """Create the demo warehouse unless the site exists already; returns the site."""
    existing = session.scalar(select(Site).where(Site.code == site_code))
    if existing:
        return existing
    site = inventory.create_site(session, site_code, "Bonded warehouse 1 / 保税仓 1")
    receiving = inventory.create_zone(session, site, "RECV", "Receiving", "receiving")
    storage = inventory.create_zone(session, site, "STOR", "Shelving", "storage")
    packing = inventory.create_zone(session, site, "PACK", "Packing", "packing")
    inventory.create_location(
        session, site, "PACK-01", LocationKind.PACKING, packing, x=0.0, y=-2.0
    )
    telemetry.register_device(session, site, "scale-pack-01", "scale", "PACK-01")
    for index, (dock, gate, scale) in enumerate(DEMO_DOCKS):
        inventory.create_location(
            session, site, dock, LocationKind.DOCK, receiving, x=float(index * 6), y=-4.0
        )
        telemetry.register_device(session, site, gate, "rfid_gate", dock)
        telemetry.register_device(session, site, scale, "scale", dock)
    for aisle in range(1, 5):
        for bay in range(1, 11):
            code = f"A{aisle:02d}-B{bay:02d}"
            inventory.create_location(
                session,
                site,
                code,
                LocationKind.STORAGE,
                storage,
                x=float(aisle * 3),
                y=float(bay),
                aisle=f"A{aisle:02d}",
                bay=f"B{bay:02d}",
            )
    for sku in DEMO_SKUS:
        inventory.create_sku(
            session, sku.code, sku.name, sku.unit_weight_kg, sku.gtin, origin_country="CN"
        )
    if user_password:
        for username, role in DEMO_USERS:
            auth.create_user(session, username, user_password, role)
    return site

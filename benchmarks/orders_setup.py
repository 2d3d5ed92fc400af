"""A realistic warehouse and order stream for the order benchmarks (not a bench_ module)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from central.app import prepare_database
from central.common.money import Money
from central.db.engine import make_engine, make_session_factory
from central.db.tables import Location, Lot, Site, Sku, Stock
from central.deps import Container
from central.orders.domain import Address, LineIn, OrderIn, PaymentStatus
from central.seed import seed_demo
from central.settings import Settings

AISLES, BAYS, SKUS = 10, 30, 300
SITE = "wh1"
ADDRESSES = [
    Address("Ann Lee", "1 Main St", "Springfield", "US", "62701", "IL", phone="+1 217 555 0100"),
    Address("Max Muster", "Hauptstr. 1", "Berlin", "DE", "10115"),
    Address("Jean Dupont", "2 rue de Rivoli", "Paris", "FR", "75001"),
    Address("Sam Smith", "10 Downing St", "London", "GB", "SW1A 2AA"),
    Address("Yuki Sato", "1-1 Chiyoda", "Tokyo", "JP", "100-0001", "13"),
]


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh database URL: a SQLite file, or a private PostgreSQL schema (dropped after)."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    from tests.conftest import private_postgres_schema

    with private_postgres_schema() as url:
        yield url


def build(url: str, stock_factor: float = 1.1, seed: int = 1) -> Container:
    """Migrate, seed the demo site, then add 10 aisles x 30 bays, 300 SKUs with lots and stock."""
    engine = make_engine(url)
    settings = Settings(database_url=url)  # type: ignore[call-arg]
    container = Container(settings, make_session_factory(engine))
    prepare_database(container)
    rng = np.random.default_rng(seed)
    with container.sessions.begin() as session:
        site = seed_demo(session, SITE, "bench-pass")
        demo = session.scalars(select(Location).where(Location.code.like("A0%"))).all()
        for location in demo:  # keep the benchmark layout regular: only our 10 x 30 grid
            location.kind = "staging"
        _grid(session, site)
        _stock(session, site, rng, stock_factor)
    return container


def _grid(session: Session, site: Site) -> None:
    session.execute(
        insert(Location),
        [
            {
                "site_id": site.id,
                "code": f"S{a:02d}-{b:02d}",
                "kind": "storage",
                "aisle": f"S{a:02d}",
                "bay": f"{b:02d}",
                "x": float(a * 3),
                "y": float(b),
            }
            for a in range(AISLES)
            for b in range(1, BAYS + 1)
        ],
    )


def demand_weights(n: int = SKUS) -> np.ndarray:
    """Skewed SKU popularity (Zipf-like: a few SKUs take most of the lines)."""
    weights = 1.0 / np.arange(1, n + 1) ** 0.9
    return weights / weights.sum()


def _stock(session: Session, site: Site, rng: np.random.Generator, factor: float) -> None:
    session.execute(
        insert(Sku),
        [
            {"code": f"B{i:04d}", "name": f"Bench item {i}", "unit_weight_kg": Decimal("0.250")}
            for i in range(SKUS)
        ],
    )
    codes = [f"B{i:04d}" for i in range(SKUS)]
    skus = dict(session.execute(select(Sku.code, Sku.id).where(Sku.code.in_(codes))).tuples().all())
    session.execute(
        insert(Lot),
        [
            {"sku_id": sid, "code": f"L{k}", "expiry": date(2027, 1 + 5 * k, 1) if k else None}
            for sid in skus.values()
            for k in range(2)
        ],
    )
    lots = session.execute(select(Lot.sku_id, Lot.id).order_by(Lot.id)).tuples().all()
    lots_of: dict[int, list[int]] = {}
    for sid, lid in lots:
        lots_of.setdefault(sid, []).append(lid)
    locations = session.execute(
        select(Location.id).where(Location.site_id == site.id, Location.code.like("S%"))
    ).scalars()
    location_ids = list(locations)
    expected = demand_weights() * 10_000 * 2.5 * 2.0  # orders x lines per order x units per line
    rows = []
    for i, (_code, sid) in enumerate(sorted(skus.items())):
        total = int(expected[i] * factor * (0.5 if i % 37 == 5 else 1.0)) + 2
        spots = rng.choice(location_ids, size=2, replace=False)
        for k, (spot, lot) in enumerate(zip(spots, lots_of[sid], strict=True)):
            rows.append(
                {
                    "location_id": int(spot),
                    "sku_id": sid,
                    "lot_id": lot,
                    "qty": total // 2 + (total % 2) * k,
                    "reserved": 0,
                }
            )
    session.execute(insert(Stock), rows)


def orders(n: int, prefix: str = "O", seed: int = 2) -> list[OrderIn]:
    """`n` orders of 1-4 lines on skewed SKUs; ~3% to the exception queue, some repeat buyers."""
    rng = np.random.default_rng(seed)
    weights = demand_weights()
    start = datetime(2026, 11, 20, tzinfo=UTC)
    result = []
    for i in range(n):
        k = int(rng.integers(1, 5))
        codes = rng.choice(SKUS, size=k, replace=False, p=weights)
        address = ADDRESSES[i % len(ADDRESSES)]
        if i % 50 == 7:  # a broken postcode: exception queue
            address = Address(address.name, address.line1, address.city, address.country, "0")
        customer = int(rng.integers(0, n))
        result.append(
            OrderIn(
                channel="bench",
                channel_order_id=f"{prefix}-{i:06d}",
                customer_name=address.name,
                customer_email=f"c{customer}@example.com",
                ship_to=address,
                currency="USD",
                lines=tuple(
                    LineIn(f"B{c:04d}", int(rng.integers(1, 4)), Money.of("9.90", "USD"))
                    for c in codes
                ),
                payment_status=PaymentStatus.PENDING if i % 97 == 3 else PaymentStatus.PAID,
                ordered_at=start + timedelta(seconds=7 * i),
            )
        )
    return result


CSV_HEADER = (
    "channel_order_id,ordered_at,customer_name,customer_email,name,line1,city,province,"
    "postcode,country,phone,currency,payment_status,sku,qty,unit_price"
)


def to_csv(items: list[OrderIn]) -> str:
    """The orders as the CSV import takes them (one row per line)."""
    rows = [CSV_HEADER]
    for o in items:
        a = o.ship_to
        head = (
            f"{o.channel_order_id},{o.ordered_at.isoformat()},{o.customer_name},"
            f"{o.customer_email},{a.name},{a.line1},{a.city},{a.province},{a.postcode},"
            f"{a.country},{a.phone},{o.currency},{o.payment_status.value}"
        )
        rows += [f"{head},{ln.sku},{ln.qty},{ln.unit_price.amount}" for ln in o.lines]
    return "\n".join(rows)


def site_id(sessions: sessionmaker[Session]) -> int:
    """The benchmark site's id."""
    with sessions() as session:
        return int(session.scalar(select(Site.id).where(Site.code == SITE)) or 0)

"""10,000 orders end to end (CSV import -> validate -> allocate -> waves -> pick lists with paths).

On SQLite (file) and PostgreSQL (private schema), with per-stage timings; the old per-order path
(one transaction per order, allocation order by order, seed batching on the exact router) runs
on a 1,000-order sample in the same run as the baseline. Writes benchmarks/results/orders.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from benchmarks import orders_setup as setup
from central.db.tables import Order, PickBatch, PickLine
from central.deps import Container
from central.inventory import service as inventory
from central.orders import api as orders_api
from central.orders import channels
from central.orders import service as orders
from central.outbound import allocation, waves

RESULTS = Path(__file__).resolve().parent / "results" / "orders.json"
N = int(os.environ.get("WHS_BENCH_ORDERS", "10000"))
BASELINE_N = int(os.environ.get("WHS_BENCH_BASELINE_ORDERS", "1000"))
WAVE_SIZE = 500


def _timed(stages: dict[str, float], name: str, step: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = step()
    stages[name] = round(time.perf_counter() - started, 3)
    print(f"   {name}: {stages[name]} s", flush=True)
    return value


def _release_all(container: Container, site_id: int, max_orders: int) -> int:
    """Release waves, each in its own transaction, until no allocated order is left."""
    policy = waves.WavePolicy(max_orders=max_orders)
    count = 0
    while True:
        with container.sessions.begin() as session:
            left = session.scalar(
                select(func.count(Order.id)).where(
                    Order.site_id == site_id, Order.status == "allocated"
                )
            )
            if not left:
                return count
            waves.release_wave(session, site_id, policy, "bench")
            count += 1


def _pick_lists(container: Container) -> dict[str, int]:
    """Read every pick list in walking order, the way handhelds get them."""
    with container.sessions() as session:
        rows = session.execute(
            select(PickLine.batch_id, PickLine.seq, PickLine.location_id).order_by(
                PickLine.batch_id, PickLine.seq
            )
        ).all()
        batches = session.scalar(select(func.count(PickBatch.id))) or 0
    return {"batches": batches, "pick_lines": len(rows)}


def pipeline(kind: str, n: int) -> dict[str, Any]:
    """The new path: bulk intake in chunks, bulk allocation, waves of up to 500 orders."""
    stages: dict[str, float] = {}
    with setup.database(kind) as url:
        container = setup.build(url)
        site_id = setup.site_id(container.sessions)
        text = setup.to_csv(setup.orders(n))
        started = time.perf_counter()
        items = _timed(stages, "import_parse_csv", lambda: channels.from_csv(text, "bench"))
        intake = _timed(
            stages,
            "validate_and_store",
            lambda: orders_api._bulk(container, setup.SITE, list(items)),
        )

        def allocate() -> int:
            with container.sessions.begin() as session:
                return waves.prepare_orders(session, site_id, waves.WavePolicy().merge_window)

        allocated = _timed(stages, "allocate", allocate)
        count = _timed(
            stages, "waves_and_paths", lambda: _release_all(container, site_id, WAVE_SIZE)
        )
        lists = _timed(stages, "read_pick_lists", lambda: _pick_lists(container))
        total = round(time.perf_counter() - started, 3)
        with container.sessions() as session:
            by_status = dict(
                session.execute(select(Order.status, func.count(Order.id)).group_by(Order.status))
                .tuples()
                .all()
            )
        container.sessions.kw["bind"].dispose()
    return {
        "orders": n,
        "created": intake.created,
        "exceptions": intake.exceptions,
        "errors": len(intake.errors),
        "allocated": allocated,
        "waves": count,
        **lists,
        "by_status": by_status,
        "stages_s": stages,
        "total_s": total,
    }


def baseline(kind: str, n: int) -> dict[str, Any]:
    """The old path on `n` orders: per-order intake and allocation, exact-router seed batching."""
    stages: dict[str, float] = {}
    with setup.database(kind) as url:
        container = setup.build(url)
        site_id = setup.site_id(container.sessions)
        items = setup.orders(n)

        def intake() -> None:
            for item in items:
                with container.sessions.begin() as session:
                    site = inventory.get_site(session, setup.SITE)
                    orders.receive_order(session, site, item, orders_api.RULES)

        _timed(stages, "validate_and_store", intake)

        def allocate() -> None:
            with container.sessions.begin() as session:
                window = waves.WavePolicy().merge_window
                for group in orders.merge_candidates(session, site_id, window):
                    orders.merge(session, group)
                pending = session.scalars(
                    select(Order)
                    .where(Order.site_id == site_id, Order.status.in_(["ready", "backordered"]))
                    .order_by(Order.ordered_at, Order.id)
                    .with_for_update()
                ).all()
                for order in pending:
                    allocation.allocate_order(session, order)

        _timed(stages, "allocate", allocate)
        saved = waves.EXACT_BATCHING_MAX
        waves.EXACT_BATCHING_MAX = 10**9  # the old batching: the exact router inside seeding
        try:
            length = _timed(stages, "one_wave_200_orders", lambda: _one_wave(container, site_id))
        finally:
            waves.EXACT_BATCHING_MAX = saved
        container.sessions.kw["bind"].dispose()
    return {"orders": n, "stages_s": stages, "wave_path_length": length}


def _one_wave(container: Container, site_id: int) -> float:
    """Release one wave of 200 orders; the sum of its batches' exact path lengths."""
    with container.sessions.begin() as session:
        wave = waves.release_wave(session, site_id, waves.WavePolicy(max_orders=200), "bench")
        lengths = session.scalars(
            select(PickBatch.path_length).where(PickBatch.wave_id == wave.id)
        ).all()
        return round(sum(lengths), 1)


def new_wave_200(kind: str, n: int) -> dict[str, Any]:
    """The new path's first wave of 200 orders, for a like-for-like comparison."""
    stages: dict[str, float] = {}
    with setup.database(kind) as url:
        container = setup.build(url)
        site_id = setup.site_id(container.sessions)
        orders_api._bulk(container, setup.SITE, list(setup.orders(n)))
        with container.sessions.begin() as session:
            waves.prepare_orders(session, site_id, waves.WavePolicy().merge_window)

        length = _timed(stages, "one_wave_200_orders", lambda: _one_wave(container, site_id))
        container.sessions.kw["bind"].dispose()
    return {"orders": n, "stages_s": stages, "wave_path_length": length}


def main(kinds: tuple[str, ...] = ("sqlite", "postgresql")) -> dict[str, Any]:
    """Run everything and write the JSON."""
    result: dict[str, Any] = {"load_note": "2 shared cores; other work ran at the same time"}
    for kind in kinds:
        print(f"-- {kind}: new path, {N} orders", flush=True)
        result[f"{kind}_pipeline"] = pipeline(kind, N)
        print(f"-- {kind}: old path, {BASELINE_N} orders", flush=True)
        result[f"{kind}_baseline"] = baseline(kind, BASELINE_N)
        print(f"-- {kind}: new path, one wave of 200 from {BASELINE_N} orders", flush=True)
        result[f"{kind}_new_wave_200"] = new_wave_200(kind, BASELINE_N)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(json.dumps(result, indent=2, default=str))
    return result


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("sqlite", "postgresql"))

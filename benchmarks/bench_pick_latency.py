"""50 concurrent handhelds confirming picks against a real uvicorn server, beside a no-DB route.

Each handheld works through the lines of its own batches (as pickers do) over HTTP. Paced: a
random pause (mean 2 s) between scans, with a no-DB probe (`GET /bench/ping`) on the same server
at the same time. Saturated: no pause (the server's capacity), and 50 clients on the no-DB route
alone. On SQLite and PostgreSQL; writes benchmarks/results/pick_latency.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from benchmarks import orders_setup as setup
from central.db.tables import Location, PickLine, Sku
from central.orders import api as orders_api
from central.outbound import waves
from whs.broker import find_free_port

RESULTS = Path(__file__).resolve().parent / "results" / "pick_latency.json"
CLIENTS = 50
ORDERS = int(os.environ.get("WHS_BENCH_PICK_ORDERS", "1000"))
PINGS_PER_CLIENT = 40
PACED_LINES = 12  # per handheld, then the rest as fast as the server takes them
WARMUP_LINES = 2  # per handheld, the last ones, confirmed at once before anything is measured
THINK_S = float(os.environ.get("WHS_BENCH_THINK_S", "2.0"))  # mean pause between two scans
# One TLS context for every client: httpx builds (and loads CA certificates into) a new one per
# client otherwise, ~30 ms of the benchmark's event loop each, which stalled every request in
# flight while 50 handhelds started and showed up as a 1.3-2 s "latency" of the server.
TLS = ssl.create_default_context()
# uvicorn worker processes per database: SQLite has one writer at a time, so several processes
# only add busy-wait sleeps. PostgreSQL takes concurrent writers, but on the shared 2-core box
# a second worker gave a longer paced tail (p99 48-53 ms against 20-44 ms with one).
WORKERS = {
    "sqlite": int(os.environ.get("WHS_BENCH_SQLITE_WORKERS", "1")),
    "postgresql": int(os.environ.get("WHS_BENCH_PG_WORKERS", "1")),
}


def _prepare(url: str) -> list[list[dict[str, Any]]]:
    """Orders allocated and released; the pick lines dealt out to handhelds batch by batch."""
    container = setup.build(url)
    site_id = setup.site_id(container.sessions)
    orders_api._bulk(container, setup.SITE, list(setup.orders(ORDERS)))
    with container.sessions.begin() as session:
        waves.prepare_orders(session, site_id, waves.WavePolicy().merge_window)
        waves.release_waves(session, site_id, waves.WavePolicy(max_orders=500), "bench")
    with container.sessions() as session:
        rows = session.execute(
            select(PickLine.id, PickLine.batch_id, Location.code, Sku.code, PickLine.qty)
            .join(Location, PickLine.location_id == Location.id)
            .join(Sku, PickLine.sku_id == Sku.id)
            .order_by(PickLine.batch_id, PickLine.seq)
        ).tuples()
        by_batch: dict[int, list[dict[str, Any]]] = {}
        for line_id, batch_id, location, sku, qty in rows:
            by_batch.setdefault(batch_id, []).append(
                {"id": line_id, "location": location, "item": sku, "qty": qty}
            )
    container.sessions.kw["bind"].dispose()
    hands: list[list[dict[str, Any]]] = [[] for _ in range(CLIENTS)]
    for k, lines in enumerate(by_batch.values()):
        hands[k % CLIENTS].extend(lines)
    return hands


def _server(url: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WHS_DATABASE_URL": url, "WHS_WEBHOOKS_ENABLED": "false"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "benchmarks.pick_app:create"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bench/ping", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the benchmark server did not start")


def _stats(latencies: list[float], elapsed: float, codes: dict[int, int]) -> dict[str, Any]:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)

    return {
        "requests": len(ordered),
        "elapsed_s": round(elapsed, 2),
        "per_s": round(len(ordered) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
        "status_codes": codes,
    }


async def _ping(base: str) -> dict[str, Any]:
    latencies: list[float] = []
    codes: dict[int, int] = {}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60, verify=TLS) as c:
            for _ in range(PINGS_PER_CLIENT):
                started = time.perf_counter()
                response = await c.get("/bench/ping")
                latencies.append(time.perf_counter() - started)
                codes[response.status_code] = codes.get(response.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return _stats(latencies, time.perf_counter() - started, codes)


async def _confirm(
    base: str, token: str, hands: list[list[dict[str, Any]]], think_s: float = 0.0
) -> dict[str, Any]:
    """Every handheld confirms its lines in turn; `think_s`: mean pause between two scans."""
    latencies: list[float] = []
    codes: dict[int, int] = {}
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(5)

    async def handheld(lines: list[dict[str, Any]]) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers, verify=TLS) as c:
            for line in lines:
                if think_s:
                    await asyncio.sleep(rng.expovariate(1 / think_s))
                body = {"location": line["location"], "item": line["item"], "qty": line["qty"]}
                started = time.perf_counter()
                response = await c.post(f"/api/v1/picking/lines/{line['id']}/confirm", json=body)
                latencies.append(time.perf_counter() - started)
                codes[response.status_code] = codes.get(response.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(handheld(lines) for lines in hands))
    return _stats(latencies, time.perf_counter() - started, codes)


async def _paced(
    base: str, token: str, hands: list[list[dict[str, Any]]], think_s: float
) -> dict[str, Any]:
    """Handhelds with a pause between scans, and beside them a no-DB probe 20 times a second."""
    done = asyncio.Event()
    latencies: list[float] = []
    codes: dict[int, int] = {}

    async def probe() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60, verify=TLS) as c:
            while not done.is_set():
                started = time.perf_counter()
                response = await c.get("/bench/ping")
                latencies.append(time.perf_counter() - started)
                codes[response.status_code] = codes.get(response.status_code, 0) + 1
                await asyncio.sleep(0.05)

    task = asyncio.create_task(probe())
    started = time.perf_counter()
    confirms = await _confirm(base, token, hands, think_s)
    done.set()
    await task
    return {
        "think_s": think_s,
        "offered_per_s": round(len(hands) / think_s, 1),
        "confirm": confirms,
        "no_db_beside": _stats(latencies, time.perf_counter() - started, codes),
    }


def run(kind: str) -> dict[str, Any]:
    """Prepare a database, start the server, warm it up, then measure paced and saturated.

    The warm-up (every handheld confirms its last lines at once, plus pings) opens the
    connection pool and fills SQLAlchemy's statement cache in every worker; a fresh server's
    first second is reported as `warmup`, not mixed into the steady-state figures.
    """
    with setup.database(kind) as url:
        hands = _prepare(url)
        port = find_free_port()
        server = _server(url, port, WORKERS[kind])
        base = f"http://127.0.0.1:{port}"
        try:
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "operator", "password": "bench-pass"},
            ).json()["access_token"]
            warmup = asyncio.run(_confirm(base, token, [h[-WARMUP_LINES:] for h in hands]))
            asyncio.run(_ping(base))
            hands = [h[:-WARMUP_LINES] for h in hands]
            paced = asyncio.run(_paced(base, token, [h[:PACED_LINES] for h in hands], THINK_S))
            if os.environ.get("WHS_BENCH_PACED_ONLY"):
                return {"handhelds": CLIENTS, "workers": WORKERS[kind], "paced": paced}
            saturated_ping = asyncio.run(_ping(base))
            saturated = asyncio.run(_confirm(base, token, [h[PACED_LINES:] for h in hands]))
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {
        "handhelds": CLIENTS,
        "workers": WORKERS[kind],
        "warmup": warmup,
        "paced": paced,
        "saturated_confirm": saturated,
        "saturated_no_db": saturated_ping,
    }


def main(kinds: tuple[str, ...] = ("sqlite", "postgresql")) -> dict[str, Any]:
    """Both databases; writes the JSON."""
    result: dict[str, Any] = {"load_note": "2 shared cores; other work ran at the same time"}
    for kind in kinds:
        print(f"-- {kind}", flush=True)
        result[kind] = run(kind)
        print(json.dumps(result[kind]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("sqlite", "postgresql"))

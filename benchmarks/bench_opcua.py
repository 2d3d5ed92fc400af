"""OPC UA ingest at the edge: data changes/s the adapters sustain without growing lag.

5,000 tags at 2 Hz spread over several stand-in servers (each in a process of its own); one
edge process runs one OpcUaAdapter per server (one connection, subscriptions of at most
`max_nodes_per_subscription`), converting every data change into a telemetry.sample event.
Lag = edge receive time - the server's source timestamp. "Sustained" means the delivered rate
matches the offered rate and the lag at the end of the run is no larger than at the start.

`python -m benchmarks.bench_opcua [--tags 5000] [--servers 5] [--rate 2] [--seconds 20]`
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import statistics
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "opcua.json"


def _serve(tags: int, rate: float, port: int, ready: Any, stop: Any) -> None:
    from simulators.opcua_controller import ControllerConfig, OpcUaControllerStandIn

    server = OpcUaControllerStandIn(ControllerConfig(tags=tags, rate_hz=rate, port=port))
    server.start(timeout_s=120)
    ready.set()
    stop.wait()
    server.stop()


class _Meter:
    """Counts events and samples their lag, per time window."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0
        self.dead = 0
        self.lags: list[tuple[float, float]] = []  # (monotonic, lag_ms), sampled

    def sink(self, events: list[Any], dead: list[Any]) -> None:
        now = datetime.now(UTC)
        mono = time.monotonic()
        with self.lock:
            self.count += len(events)
            self.dead += len(dead)
            for event in events[:: max(1, len(events) // 20)]:
                self.lags.append((mono, (now - event.ts).total_seconds() * 1000.0))


def run(tags: int, servers: int, rate: float, seconds: float, per_sub: int) -> dict[str, Any]:
    """One measurement; returns the result document."""
    from edge.adapters.opcua import OpcUaAdapter
    from edge.config import OpcUaConfig
    from simulators.opcua_controller import tag_node_id
    from whs.broker import find_free_port

    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    per_server = [tags // servers + (1 if i < tags % servers else 0) for i in range(servers)]
    ports = [find_free_port() for _ in range(servers)]
    procs, readies = [], []
    for n, port in zip(per_server, ports, strict=True):
        ready = ctx.Event()
        proc = ctx.Process(target=_serve, args=(n, rate, port, ready, stop), daemon=True)
        proc.start()
        procs.append(proc)
        readies.append(ready)
    meter = _Meter()
    adapters = []
    try:
        for ready in readies:
            if not ready.wait(180):
                raise RuntimeError("a stand-in server did not start")
        for i, (n, port) in enumerate(zip(per_server, ports, strict=True)):
            config = OpcUaConfig(
                id=f"plc-{i:02d}",
                endpoint=f"opc.tcp://127.0.0.1:{port}/whs/",
                nodes=tuple(tag_node_id(k) for k in range(n)),
                publishing_interval_ms=1000.0 / rate,
                queue_size=1,
                max_nodes_per_subscription=per_sub,
                request_timeout_s=30.0,
            )
            adapter = OpcUaAdapter(config, meter.sink)
            adapter.start()
            adapters.append(adapter)
        connected = all(a.wait_connected(120) for a in adapters)
        time.sleep(3.0)  # warm-up: initial values, subscriptions settle
        with meter.lock:
            start_count, meter.lags = meter.count, []
        started = time.monotonic()
        cpu_before = os.times()
        time.sleep(seconds)
        elapsed = time.monotonic() - started
        cpu_after = os.times()
        with meter.lock:
            delivered = meter.count - start_count
            lags = list(meter.lags)
        stats = [a.stats() for a in adapters]
    finally:
        for adapter in adapters:
            adapter.stop()
        stop.set()
        for proc in procs:
            proc.join(15)
            if proc.is_alive():
                proc.terminate()
    quarter = elapsed / 4
    first = [lag for t, lag in lags if t - started < quarter]
    last = [lag for t, lag in lags if t - started > elapsed - quarter]

    def pct(values: list[float], q: float) -> float | None:
        if not values:
            return None
        values = sorted(values)
        return round(values[min(len(values) - 1, int(q * len(values)))], 1)

    offered = tags * rate
    rate_delivered = delivered / elapsed
    edge_cpu = (cpu_after.user - cpu_before.user) + (cpu_after.system - cpu_before.system)
    lag_first, lag_last = pct(first, 0.5), pct(last, 0.5)
    sustained = (
        connected
        and rate_delivered >= 0.97 * offered
        and lag_first is not None
        and lag_last is not None
        and lag_last <= max(2 * lag_first, lag_first + 250)
    )
    return {
        "tags": tags,
        "servers": servers,
        "rate_hz": rate,
        "max_nodes_per_subscription": per_sub,
        "subscriptions": sum(s["subscriptions"] for s in stats),
        "seconds": round(elapsed, 2),
        "offered_changes_per_s": offered,
        "delivered_changes_per_s": round(rate_delivered, 1),
        "dead_lettered": meter.dead,
        "lag_ms_median_first_quarter": lag_first,
        "lag_ms_median_last_quarter": lag_last,
        "lag_ms_p95_last_quarter": pct(last, 0.95),
        "lag_ms_median_all": round(statistics.median(v for _, v in lags), 1) if lags else None,
        "edge_cpu_s_per_s": round(edge_cpu / elapsed, 2),
        "edge_cpu_us_per_change": round(edge_cpu / max(delivered, 1) * 1e6, 1),
        "edge_changes_per_s_per_core_projected": round(delivered / edge_cpu) if edge_cpu else None,
        "reconnects": sum(s["connects"] for s in stats) - len(stats),
        "sustained": sustained,
    }


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write benchmarks/results/opcua.json."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tags", type=int, default=0, help="one run with this many tags")
    parser.add_argument("--servers", type=int, default=5)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--per-subscription", type=int, default=500)
    args = parser.parse_args(argv if argv is not None else [])
    if args.tags:
        plans = [(args.tags, args.servers, args.rate)]
    else:  # the target, 10 % over it, and 20 % over it (where the stand-ins saturate)
        plans = [(5000, 5, 2.0), (5000, 5, 2.2), (6000, 5, 2.0)]
    runs = [run(t, s, r, args.seconds, args.per_subscription) for t, s, r in plans]
    document = {
        "benchmark": "opcua",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "note": "stand-in servers share the machine with the edge",
        "runs": runs,
    }
    if not args.tags:  # a one-off run does not replace the recorded results
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps(runs, indent=2))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

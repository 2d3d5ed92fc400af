"""Ingest throughput: raw broker ceiling vs device -> edge journal -> uplink -> central commit.

Everything real: a private Mosquitto, the edge agent and two ingest workers as `python -m whs`
processes, PostgreSQL (a private schema) as central's database. `main()` runs the full version
and writes benchmarks/results/ingest.json; `run(quick=True)` is the short one.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from firmware_interfaces import topics
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select, text

from central.db.engine import make_engine
from central.db.migrate import upgrade
from central.db.tables import DeviceEvent
from simulators.devices.read_stream import (
    StreamPlan,
    reads_payload,
    start_publisher,
    wait_edge_online,
)
from whs.broker import CENTRAL, DEVICE, EDGE, BrokerAccount, LocalBroker

RESULTS = Path(__file__).resolve().parent / "results" / "ingest.json"
GATES = 4
PUBLISHER = (
    "own process, 4 connections, bodies built before the timed window, send time stamped into"
    " sent_at/first_seen at publish"
)
APP_NAME = "whs-bench-ingest"  # PostgreSQL application_name of the workers' connections
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process (all its threads) has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _backends(engine: Any) -> list[int]:
    """Process ids of the PostgreSQL backends serving the ingest workers."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :a"), {"a": APP_NAME}
        )
        return [int(r[0]) for r in rows]


def _cpu_split(pids: dict[str, list[int]], before: dict[int, float]) -> dict[str, float]:
    """CPU seconds per role since `before` (a backend that started later counts from 0)."""
    return {
        role: round(sum(_cpu_s(pid) - before.get(pid, 0.0) for pid in group), 2)
        for role, group in pids.items()
    }


def _edge_stats(log: Path) -> dict[str, int]:
    """The counters the edge printed when it stopped (`edge ... stopped: {...}`), if it did."""
    lines = [ln for ln in log.read_text().splitlines() if " stopped: {" in ln]
    if not lines:
        return {}
    return dict(ast.literal_eval(lines[-1].split(" stopped: ", 1)[1]))


def _client(broker: LocalBroker, user: str, client_id: str, clean: bool = True) -> mqtt.Client:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=mqtt.MQTTv311,
    )
    c.username_pw_set(user, broker.account(user).password)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    return c


def raw_ceiling(folder: Path, messages: int, qos: int = 0) -> dict[str, Any]:
    """Publisher process -> Mosquitto -> paho subscriber at `qos` (the ceiling of the issue is
    QoS 0), the whole path's read messages (one read each) from the same publisher code
    (simulators.devices.read_stream)."""
    with LocalBroker(folder, [BrokerAccount("central", CENTRAL)]) as broker:
        got = 0
        done = threading.Event()
        last = [0.0]
        per_gate = messages // GATES
        total = per_gate * GATES

        def on_message(*_: Any) -> None:
            nonlocal got
            got += 1
            last[0] = time.perf_counter()
            if got >= total:
                done.set()

        sub = _client(broker, "central", "raw-sub")
        sub.on_message = on_message
        sub.connect(broker.host, broker.port)
        sub.subscribe("whs/raw/#", qos=qos)
        sub.loop_start()
        password = broker.account("central").password
        plan = StreamPlan(
            broker.host,
            broker.port,
            "wh1",
            tuple(
                (f"gate-{i:02d}", i, "central", password, f"whs/raw/gate-{i:02d}")
                for i in range(1, GATES + 1)
            ),
            per_gate,
            1,
            qos,
        )
        proc, go, finished = start_publisher(plan)
        time.sleep(0.5)
        start = time.perf_counter()
        go.set()
        done.wait(60)
        elapsed = (last[0] or time.perf_counter()) - start
        pub = finished.get(timeout=60)
        proc.join(10)
        sub.disconnect()
        sub.loop_stop()
    return {
        "messages": total,
        "received": got,
        "payload_bytes": len(reads_payload("gate-01", 1, 1, 1, datetime.now(UTC))),
        "qos": qos,
        "publisher": PUBLISHER,
        "publisher_prepare_s": pub["prepare_s"],
        "publisher_max_rss_mb": pub["max_rss_mb"],
        "raw_msgs_per_s": round(got / elapsed),
    }


def queue_limit(folder: Path, messages: int, default_config: bool) -> dict[str, Any]:
    """QoS 1 messages published while a persistent subscriber is away: how many it gets."""
    broker = LocalBroker(folder, [BrokerAccount("central", CENTRAL)])
    if default_config:
        conf = broker.conf.read_text().replace("max_queued_messages 1000000\n", "")
        broker.conf.write_text(conf)
    with broker:
        sub = _client(broker, "central", "slow-sub", clean=False)
        sub.connect(broker.host, broker.port)
        sub.subscribe("whs/q/#", qos=1)
        sub.loop(1.0)
        sub.disconnect()
        pub = _client(broker, "central", "q-pub")
        pub.connect(broker.host, broker.port)
        pub.loop_start()
        infos = [pub.publish("whs/q/x", b"x" * 100, qos=1) for _ in range(messages)]
        for info in infos:
            info.wait_for_publish(30)
        pub.disconnect()
        pub.loop_stop()
        got = 0

        def on_message(*_: Any) -> None:
            nonlocal got
            got += 1

        sub.on_message = on_message
        sub.reconnect()
        sub.loop_start()
        idle_until = time.monotonic() + 2.0
        seen = -1
        while time.monotonic() < idle_until or got != seen:
            if got != seen:
                seen, idle_until = got, time.monotonic() + 1.0
            time.sleep(0.1)
        sub.disconnect()
        sub.loop_stop()
    return {"published": messages, "delivered": got, "lost": messages - got}


def _proc(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "whs", *args], stdout=out, stderr=subprocess.STDOUT, env=env
        )


def whole_path(folder: Path, db_url: str, messages: int, reads: int) -> dict[str, Any]:
    """Devices publish `messages` QoS 1 read messages of `reads` reads each, as fast as they can."""
    gates = [f"gate-{i:02d}" for i in range(1, GATES + 1)]
    accounts = [
        BrokerAccount("central", CENTRAL),
        BrokerAccount("edge-01", EDGE),
        *(BrokerAccount(g, DEVICE) for g in gates),
    ]
    engine = make_engine(db_url)
    upgrade(engine, "heads")
    procs: list[subprocess.Popen[bytes]] = []
    total = messages * reads
    with LocalBroker(folder / "broker", accounts) as broker:
        sep = "&" if "?" in db_url else "?"
        env = {
            **os.environ,
            "WHS_DATABASE_URL": f"{db_url}{sep}application_name={APP_NAME}",
            "WHS_MQTT_HOST": broker.host,
            "WHS_MQTT_PORT": str(broker.port),
            "WHS_MQTT_USERNAME": "central",
            "WHS_MQTT_PASSWORD": broker.account("central").password,
        }
        config = {
            "edge_id": "edge-01",
            "site": "wh1",
            "data_dir": str(folder / "edge"),
            "broker": {
                "host": broker.host,
                "port": broker.port,
                "username": "edge-01",
                "password": broker.account("edge-01").password,
            },
            "uplink": {
                "max_batch_events": 2000,
                "max_batch_delay_s": 0.05,
                "max_in_flight": 16,
                "ack_timeout_s": 10,
            },
            "devices": [{"id": g, "kind": "rfid_gate", "mode": "reads"} for g in gates],
        }
        (folder / "edge.yaml").write_text(yaml.safe_dump(config))
        try:
            for i in (1, 2):
                procs.append(
                    _proc(
                        [
                            "central",
                            "ingest",
                            "--client-id",
                            f"ingest-{i}",
                            "--log-level",
                            os.environ.get("WHS_BENCH_LOG", "warning"),
                        ],
                        folder / f"ingest-{i}.log",
                        env,
                    )
                )
            procs.append(
                _proc(
                    [
                        "edge",
                        "run",
                        "--config",
                        str(folder / "edge.yaml"),
                        "--log-level",
                        os.environ.get("WHS_BENCH_LOG", "warning").upper(),
                    ],
                    folder / "edge.log",
                    env,
                )
            )
            online = wait_edge_online(
                broker.host,
                broker.port,
                "central",
                broker.account("central").password,
                "wh1",
                "edge-01",
                60,
            )
            if not online:
                raise RuntimeError("the edge did not come online")
            time.sleep(1.0)  # ingest workers subscribe
            per_gate = messages // GATES
            plan = StreamPlan(
                broker.host,
                broker.port,
                "wh1",
                tuple(
                    (
                        g,
                        no,
                        g,
                        broker.account(g).password,
                        topics.device_topic("wh1", topics.RFID, g, topics.READS),
                    )
                    for no, g in enumerate(gates, 1)
                ),
                per_gate,
                reads,
                1,
            )
            publisher, go, finished = start_publisher(plan)
            time.sleep(0.5)
            broker_proc = getattr(broker, "_process", None)
            pids = {
                "publisher": [int(publisher.pid or 0)],
                "broker": [broker_proc.pid] if broker_proc is not None else [],
                "edge": [procs[2].pid],
                "ingest_workers": [procs[0].pid, procs[1].pid],
                "postgresql_backends": _backends(engine),
            }
            before = {pid: _cpu_s(pid) for group in pids.values() for pid in group}
            start_wall = datetime.now(UTC)
            go.set()
            pub = finished.get(timeout=300)
            publish_s = float(pub["publish_s"])
            deadline = time.monotonic() + 120
            n = 0
            while time.monotonic() < deadline:
                with engine.connect() as conn:
                    n = int(conn.scalar(select(func.count()).select_from(DeviceEvent)) or 0)
                if n >= per_gate * GATES * reads:
                    break
                time.sleep(0.5)  # count(*) over a growing table costs the database time
            pids["postgresql_backends"] = _backends(engine)
            cpu = _cpu_split(pids, before)  # an exited publisher is not reaped until join
            publisher.join(10)
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
    total = per_gate * GATES * reads
    edge = _edge_stats(folder / "edge.log")
    with engine.connect() as conn:
        rows = conn.execute(
            select(DeviceEvent.data["epc"].as_string(), DeviceEvent.ingested_at, DeviceEvent.ts)
        ).all()
    engine.dispose()
    epcs = {r[0] for r in rows}
    lat = sorted((r[1] - r[2]).total_seconds() * 1000 for r in rows if r[2] is not None)
    end = max(r[1] for r in rows) if rows else start_wall
    elapsed = (end - start_wall).total_seconds()

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else float("nan")

    return {
        "device_messages": per_gate * GATES,
        "reads_per_message": reads,
        "events": total,
        "publish_s": round(publish_s, 2),
        "publisher": PUBLISHER,
        "publisher_prepare_s": pub["prepare_s"],
        "publisher_payload_mb": round(pub["payload_bytes"] / 1e6, 1),
        "publisher_max_rss_mb": pub["max_rss_mb"],
        "elapsed_s": round(elapsed, 2),
        "events_per_s": round(len(epcs) / elapsed) if elapsed > 0 else 0,
        "messages_per_s": round(len(epcs) / reads / elapsed) if elapsed > 0 else 0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "lost": total - len(epcs),
        "duplicated": len(rows) - len(epcs),
        # journal transactions holding device messages (one fsync and one PUBACK write each)
        "edge_commits": edge.get("commits"),
        "edge_messages_per_commit": round(edge["received"] / edge["commits"], 1)
        if edge.get("commits")
        else None,
        # CPU per event by process from /proc, go to the last row committed (PostgreSQL's
        # background writers and other engineers' work on the machine not counted)
        "cpu_us_per_event": {
            role: round(seconds / total * 1e6, 2) for role, seconds in cpu.items() if total
        },
    }


def _pg_schema() -> Any:
    from tests.conftest import private_postgres_schema

    return private_postgres_schema()


def run(quick: bool = False) -> dict[str, Any]:
    """The whole benchmark; quick=True takes well under a minute."""
    sizes = (
        {"raw": 20_000, "one": 4_000, "batched": 600, "queued": 3_000}
        if quick
        else {"raw": 100_000, "one": 30_000, "batched": 8_000, "queued": 10_000}
    )
    with tempfile.TemporaryDirectory(prefix="whs-bench-") as tmp:
        folder = Path(tmp)
        raw = raw_ceiling(folder / "raw", sizes["raw"])
        raw_qos1 = raw_ceiling(folder / "raw1", sizes["raw"] // 2, qos=1)
        with _pg_schema() as url:
            one = whole_path(folder / "one", url, sizes["one"], 1)
        with _pg_schema() as url:
            batched = whole_path(folder / "batched", url, sizes["batched"], 50)
        default = queue_limit(folder / "q-default", sizes["queued"], default_config=True)
        ours = queue_limit(folder / "q-ours", sizes["queued"], default_config=False)
    ratio = one["messages_per_s"] / raw["raw_msgs_per_s"] if raw["raw_msgs_per_s"] else 0.0
    return {
        "quick": quick,
        "central_db": "postgresql",
        "raw_msgs_per_s": raw["raw_msgs_per_s"],
        "edge_events_per_s": one["events_per_s"],
        "ratio": round(ratio, 3),
        "lost": one["lost"] + batched["lost"],
        "duplicated": one["duplicated"] + batched["duplicated"],
        "p50_ms": one["p50_ms"],
        "p99_ms": one["p99_ms"],
        "batched_events_per_s": batched["events_per_s"],
        "raw": raw,
        # context, not the ceiling: the same loop with QoS 1 (devices publish QoS 1)
        "raw_qos1": raw_qos1,
        "ratio_to_qos1_raw": round(one["messages_per_s"] / raw_qos1["raw_msgs_per_s"], 3)
        if raw_qos1["raw_msgs_per_s"]
        else 0.0,
        "one_read_per_message": one,
        "fifty_reads_per_message": batched,
        "max_queued_messages": {"mosquitto_default_1000": default, "ours_1000000": ours},
    }


def main() -> None:
    """Full run; writes benchmarks/results/ingest.json."""
    result = run(quick=False)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

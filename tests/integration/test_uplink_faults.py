"""Nothing lost, nothing doubled: 20,000 RFID reads through kill -9 of the edge, a broker restart
and a 10 s central outage, with two ingest worker processes sharing the uplink.

Real Mosquitto (persistent, on a free port), real PostgreSQL (a private schema), the edge and the
ingest workers as separate processes started through the `whs` command line.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from firmware_interfaces import topics
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, func, select

from central.db.engine import make_engine
from central.db.migrate import upgrade
from central.db.tables import DeviceEvent
from simulators.devices.read_stream import ReadPublisher, parse_stream_epc, reads_payload
from tests.conftest import private_postgres_schema
from whs.broker import CENTRAL, DEVICE, EDGE, BrokerAccount, LocalBroker

pytestmark = pytest.mark.integration

GATES = 4
MESSAGES = 250  # per gate
READS = 20  # per message: 4 * 250 * 20 = 20,000 events
TOTAL = GATES * MESSAGES * READS


class Proc:
    """A `python -m whs ...` child process with its output in a log file."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str]) -> None:
        self.args, self.log, self.env = args, log, env
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - owned by the child process
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "whs", *self.args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        out.close()

    def signal(self, sig: int) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.send_signal(sig)
            self.popen.wait(timeout=20)
        self.popen = None


@pytest.fixture
def db_url() -> Iterator[str]:
    with private_postgres_schema() as url:
        engine = make_engine(url)
        upgrade(engine, "heads")
        engine.dispose()
        yield url


def edge_online(broker: LocalBroker, timeout_s: float = 30.0) -> bool:
    """Wait for the edge's retained status `online: true` (it has subscribed by then)."""
    seen = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-watch")
    client.username_pw_set("central", broker.account("central").password)

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        if json.loads(message.payload or b"{}").get("online"):
            seen.set()

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(topics.edge_topic("wh1", "edge-01", "status"))
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        return seen.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(DeviceEvent)) or 0)


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_every_read_arrives_exactly_once_in_order_through_crashes_and_outages(
    tmp_path: Path, db_url: str
) -> None:
    gates = [f"gate-{i:02d}" for i in range(1, GATES + 1)]
    accounts = [
        BrokerAccount("central", CENTRAL),
        BrokerAccount("edge-01", EDGE),
        *(BrokerAccount(g, DEVICE) for g in gates),
    ]
    broker = LocalBroker(tmp_path / "broker", accounts)
    broker.start()
    env = {
        **os.environ,
        "WHS_DATABASE_URL": db_url,
        "WHS_MQTT_HOST": broker.host,
        "WHS_MQTT_PORT": str(broker.port),
        "WHS_MQTT_USERNAME": "central",
        "WHS_MQTT_PASSWORD": broker.account("central").password,
        "WHS_INGEST_GAP_WAIT_S": "0.3",
    }
    config = {
        "edge_id": "edge-01",
        "site": "wh1",
        "data_dir": str(tmp_path / "edge"),
        "broker": {
            "host": broker.host,
            "port": broker.port,
            "username": "edge-01",
            "password": broker.account("edge-01").password,
        },
        "uplink": {
            "max_batch_events": 500,
            "max_batch_delay_s": 0.05,
            "ack_timeout_s": 2.0,
            "gap_resend_s": 0.5,
        },
        "devices": [{"id": g, "kind": "rfid_gate", "mode": "reads"} for g in gates],
    }
    (tmp_path / "edge.yaml").write_text(yaml.safe_dump(config))
    edge = Proc(
        ["edge", "run", "--config", str(tmp_path / "edge.yaml"), "--log-level", "WARNING"],
        tmp_path / "edge.log",
        env,
    )
    workers = [
        Proc(
            ["central", "ingest", "--client-id", f"central-ingest-{i}", "--log-level", "warning"],
            tmp_path / f"ingest-{i}.log",
            env,
        )
        for i in (1, 2)
    ]
    engine = make_engine(db_url)
    publishers: list[ReadPublisher] = []
    try:
        for w in workers:
            w.start()
        edge.start()
        # the edge's first session must exist before devices publish (later ones persist)
        assert edge_online(broker), "the edge did not come online"
        publishers = [
            ReadPublisher(broker.host, broker.port, g, broker.account(g).password, "wh1", g)
            for g in gates
        ]
        errors: list[BaseException] = []

        def stream() -> None:
            try:
                for seq in range(1, MESSAGES + 1):
                    for no, (gate, pub) in enumerate(zip(gates, publishers, strict=True), 1):
                        pub.publish_sure(reads_payload(gate, no, seq, READS, datetime.now(UTC)))
                    time.sleep(0.08)
            except BaseException as exc:  # surfaced by the main thread
                errors.append(exc)

        streamer = threading.Thread(target=stream, daemon=True)
        streamer.start()
        assert wait_for(lambda: count(engine) > 1000, 30), "no events reached central"

        edge.signal(signal.SIGKILL)  # the edge dies mid-stream, without any shutdown
        time.sleep(0.5)
        edge.start()
        time.sleep(3)

        broker.restart()  # the broker goes away and comes back with its persisted sessions
        time.sleep(3)

        for w in workers:
            w.signal(signal.SIGTERM)
        down_at = count(engine)
        time.sleep(10)  # central is down for 10 s while the edge keeps journaling
        assert count(engine) == down_at, "nothing is committed while ingest is down"
        for w in workers:
            w.start()

        streamer.join(timeout=120)
        assert not errors, errors
        if wait_for(lambda: count(engine) >= TOTAL, 60):
            time.sleep(1.0)  # late duplicates, if there were any, would land now

        with engine.connect() as conn:
            spans = conn.execute(
                select(
                    DeviceEvent.epoch,
                    func.min(DeviceEvent.seq),
                    func.max(DeviceEvent.seq),
                    func.count(),
                ).group_by(DeviceEvent.epoch)
            ).all()
            rows = conn.execute(
                select(DeviceEvent.source, DeviceEvent.data).order_by(
                    DeviceEvent.edge_id, DeviceEvent.epoch, DeviceEvent.seq, DeviceEvent.idx
                )
            ).all()
    finally:
        for p in publishers:
            p.close()
        edge.signal(signal.SIGTERM)
        for w in workers:
            w.signal(signal.SIGTERM)
        broker.stop()
        engine.dispose()

    keys = [parse_stream_epc(data["epc"]) for _, data in rows]
    expected = {
        (no, seq, i)
        for no in range(1, GATES + 1)
        for seq in range(1, MESSAGES + 1)
        for i in range(READS)
    }
    missing = sorted(expected - set(keys))
    assert not missing, (
        f"{len(missing)} read(s) lost, e.g. {missing[:3]} ... {missing[-3:]}; batches {spans}"
    )
    assert len(rows) == TOTAL, f"{len(rows) - TOTAL} duplicate(s)"
    per_gate: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (source, _), (_, seq, i) in zip(rows, keys, strict=True):
        per_gate[source].append((seq, i))
    for gate, order in per_gate.items():
        assert order == sorted(order), f"{gate}: reads out of order at central"
    for i in (1, 2):
        log = (tmp_path / f"ingest-{i}.log").read_text()
        handled = [int(n) for n in re.findall(r"stopped after (\d+) message", log)]
        assert sum(handled) > 0, f"ingest worker {i} took no share of the load"

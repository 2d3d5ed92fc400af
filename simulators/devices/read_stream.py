"""A stream of numbered RFID read messages for fault tests and benchmarks.

Every read carries a distinct EPC that encodes (gate number, message seq, index in message), so a
test can tell exactly which reads reached central, how often and in what order.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import resource
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from firmware_interfaces import topics
from paho.mqtt.enums import CallbackAPIVersion


def stream_epc(gate_no: int, seq: int, idx: int) -> str:
    """The EPC (24 hex digits) of read `idx` of message `seq` of gate `gate_no`."""
    return f"E2{gate_no:06X}{seq:010X}{idx:06X}"


def parse_stream_epc(epc: str) -> tuple[int, int, int]:
    """(gate number, message seq, index) back from a stream EPC."""
    return int(epc[2:8], 16), int(epc[8:18], 16), int(epc[18:24], 16)


def iso_ts(now: datetime) -> str:
    """`now` as the fixed-width UTC time devices send (27 chars, 2026-01-02T03:04:05.000006Z)."""
    return now.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def reads_payload(gate_id: str, gate_no: int, seq: int, count: int, now: datetime) -> bytes:
    """An rfid_reads message with `count` distinct reads, all first seen at `now`."""
    ts = iso_ts(now)
    reads = [
        {"epc": stream_epc(gate_no, seq, i), "antenna": 1, "peak_rssi": -55.0, "first_seen": ts}
        for i in range(count)
    ]
    body = {"reader_id": gate_id, "seq": seq, "sent_at": ts, "reads": reads}
    return json.dumps(body, separators=(",", ":")).encode()


_UNSTAMPED = datetime(1970, 1, 1, tzinfo=UTC)
_UNSTAMPED_TS = iso_ts(_UNSTAMPED).encode()


@dataclass(frozen=True)
class PreparedPayload:
    """A reads_payload body built ahead of time, cut where its time fields (`sent_at` and every
    read's `first_seen`, fixed width) go; `stamp` joins the pieces with the send time."""

    pieces: tuple[bytes, ...]

    def stamp(self, ts: bytes) -> bytes:
        """The body with `ts` (an iso_ts, encoded) in every time field."""
        return ts.join(self.pieces)


def prepare_reads_payload(gate_id: str, gate_no: int, seq: int, count: int) -> PreparedPayload:
    """reads_payload(gate_id, gate_no, seq, count, t) for a t to be stamped at send time."""
    return PreparedPayload(
        tuple(reads_payload(gate_id, gate_no, seq, count, _UNSTAMPED).split(_UNSTAMPED_TS))
    )


class ReadPublisher:
    """One device connection publishing QoS 1 read messages in order, resending until acked."""

    def __init__(
        self, host: str, port: int, username: str, password: str, site: str, gate_id: str
    ) -> None:
        self.topic = topics.device_topic(site, topics.RFID, gate_id, topics.READS)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"pub-{gate_id}",
            clean_session=False,
            protocol=mqtt.MQTTv311,
        )
        self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()

    def publish_sure(self, payload: bytes, timeout_s: float = 60.0) -> None:
        """Publish and wait for the broker's PUBACK, publishing again after a lost connection."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.client.is_connected():
                time.sleep(0.05)
                continue
            info = self.client.publish(self.topic, payload, qos=1)
            try:
                info.wait_for_publish(timeout=3.0)
            except (RuntimeError, ValueError):
                continue
            if info.is_published():
                return
        raise TimeoutError(f"{self.topic}: no PUBACK within {timeout_s} s")

    def publish(self, payload: bytes, qos: int = 1) -> mqtt.MQTTMessageInfo:
        """Publish without waiting (benchmarks)."""
        return self.client.publish(self.topic, payload, qos=qos)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def wait_edge_online(
    host: str, port: int, username: str, password: str, site: str, edge_id: str, timeout_s: float
) -> bool:
    """Wait for an edge's retained status `online: true` (it has subscribed by then)."""
    seen = threading.Event()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{edge_id}")
    client.username_pw_set(username, password)

    def on_message(_c: object, _u: object, message: mqtt.MQTTMessage) -> None:
        if json.loads(message.payload or b"{}").get("online"):
            seen.set()

    client.on_message = on_message
    client.on_connect = lambda c, *_: c.subscribe(topics.edge_topic(site, edge_id, topics.STATUS))
    client.connect(host, port)
    client.loop_start()
    try:
        return seen.wait(timeout_s)
    finally:
        client.disconnect()
        client.loop_stop()


WINDOW = 8000  # publishes a stream process lets go unacknowledged (2x what paho keeps in flight)


@dataclass(frozen=True)
class StreamPlan:
    """What a publisher process sends: `messages` per connection, round-robin, `reads` each."""

    host: str
    port: int
    site: str
    # (gate id, gate number, username, password, topic) per connection
    connections: tuple[tuple[str, int, str, str, str], ...]
    messages: int
    reads: int
    qos: int


def publish_stream(plan: StreamPlan, ready: Any, go: Any, done: Any) -> None:
    """Publisher process body: connect, build every message body, say `ready`, wait for `go`,
    publish everything as fast as paho can, then put what it measured on `done`: `publish_s`
    (QoS 1: until every PUBACK; QoS 0: until handed to the socket), `prepare_s`, `payload_bytes`
    (all bodies) and `max_rss_mb`. Bodies are built before the timed window (the devices are
    separate hardware in production, their JSON encoding is not the system's cost); at send time
    only the current time is written into each body's `sent_at` and `first_seen` fields, so
    latency is still measured from the publish. The raw ceiling and the whole path use this code."""
    clients = []
    for gate, _no, user, password, _topic in plan.connections:
        c = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"pub-{gate}",
            clean_session=plan.qos == 0,
            protocol=mqtt.MQTTv311,
        )
        c.username_pw_set(user, password)
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        c.connect(plan.host, plan.port, keepalive=30)
        c.loop_start()
        clients.append(c)
    prep_start = time.perf_counter()
    # one row per seq, one prepared body per connection: distinct EPCs in every read
    bodies = [
        [prepare_reads_payload(gate, no, seq, plan.reads) for gate, no, *_ in plan.connections]
        for seq in range(1, plan.messages + 1)
    ]
    prepare_s = time.perf_counter() - prep_start
    payload_bytes = sum(len(b.stamp(_UNSTAMPED_TS)) for row in bodies for b in row)
    gc.collect()
    gc.freeze()  # the prepared bodies are never garbage: keep the collector off them
    while not all(c.is_connected() for c in clients):
        time.sleep(0.01)
    ready.set()
    go.wait()
    start = time.perf_counter()
    # a sliding window of unacknowledged publishes (paho itself keeps 1,000 in flight): bounded
    # memory without draining the pipe every so often
    infos: deque[mqtt.MQTTMessageInfo] = deque()
    sends = [(c, conn[4]) for c, conn in zip(clients, plan.connections, strict=True)]
    now = datetime.now
    for row in bodies:
        for (c, topic), prepared in zip(sends, row, strict=True):
            ts = iso_ts(now(UTC)).encode()
            info = c.publish(topic, prepared.stamp(ts), plan.qos)
            if plan.qos:
                infos.append(info)
        while len(infos) > WINDOW:
            infos.popleft().wait_for_publish(60)
    for info in infos:
        info.wait_for_publish(60)
    publish_s = time.perf_counter() - start
    done.put(
        {
            "publish_s": publish_s,
            "prepare_s": round(prepare_s, 2),
            "payload_bytes": payload_bytes,
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
    )
    time.sleep(0.5)
    for c in clients:
        c.disconnect()
        c.loop_stop()


def start_publisher(plan: StreamPlan) -> tuple[Any, Any, Any]:
    """Start publish_stream in its own process; returns (process, go event, done queue) once it is
    connected (set `go` to start publishing)."""
    ctx = multiprocessing.get_context("spawn")
    ready, go, done = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=publish_stream, args=(plan, ready, go, done), daemon=True)
    proc.start()
    if not ready.wait(120):
        proc.kill()
        raise RuntimeError("the publisher process did not connect")
    return proc, go, done

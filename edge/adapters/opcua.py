"""OPC UA servers (PLCs, AGV and robot-arm controllers): subscriptions in, method calls out.

One `OpcUaConnection` (the coordinator) per server connection owns an asyncua `Client` inside
one event loop (`asyncio.run`) in a thread of its own: it connects (`async with`), subscribes its
share of the tags in subscriptions of at most `max_nodes_per_subscription` items, turns data
changes into `telemetry.sample` events in small batches, and on any loss reconnects with capped
exponential backoff and subscribes again. Library errors become `OpcUaError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from asyncua import Client, Node, ua
from asyncua.common.methods import call_method_full
from asyncua.common.subscription import DataChangeEvent, OverflowPolicy, Subscription
from asyncua.crypto import security_policies
from cryptography import x509

from edge.config import OPCUA, OpcUaConfig
from edge.converters.opcua import DataChange, json_value, sample_event
from edge.deadletter import DeadLetter
from edge.events import Event, utc_now

logger = logging.getLogger(__name__)

EventSink = Callable[[list[Event], list[DeadLetter]], None]
StatusSink = Callable[[str, bool, str], None]

FLUSH_S = 0.02
QUEUE_MAX = 200_000


class OpcUaError(RuntimeError):
    """The OPC UA server is unreachable, refused a request, or a method call failed."""


@dataclass(frozen=True)
class Tag:
    """A subscribed variable: its node id as text and a short tag name."""

    node_id: str
    name: str


def tag_name(node_id: str) -> str:
    """A short tag name from a node id: the identifier of `ns=2;s=Arm.Speed` is `Arm.Speed`."""
    return node_id.split(";", 1)[1].split("=", 1)[-1] if ";" in node_id else node_id


def chunks(items: Sequence[Tag], size: int) -> list[Sequence[Tag]]:
    """`items` cut into consecutive pieces of at most `size`."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def _san_uri(path: str) -> str | None:
    with open(path, "rb") as fh:
        data = fh.read()
    cert = (
        x509.load_pem_x509_certificate(data)
        if data.lstrip().startswith(b"-----")
        else x509.load_der_x509_certificate(data)
    )
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return None
    uris = san.value.get_values_for_type(x509.UniformResourceIdentifier)
    return uris[0] if uris else None


def _variant(value: Any, data_type: ua.NodeId | None) -> ua.Variant:
    """A method argument with the variant type the method declares (built-in types)."""
    if (
        data_type is not None
        and data_type.NamespaceIndex == 0
        and isinstance(data_type.Identifier, int)
    ):
        try:
            vtype = ua.VariantType(int(data_type.Identifier))
        except ValueError:
            return ua.Variant(value)
        if vtype in (ua.VariantType.Float, ua.VariantType.Double) and isinstance(value, int):
            value = float(value)
        return ua.Variant(value, vtype)
    return ua.Variant(value)


def _plain(value: Any) -> Any:
    try:
        return json_value(value)
    except ValueError:
        return str(value)


class OpcUaConnection:
    """One connection to one OPC UA server, in one event loop on a thread of its own."""

    def __init__(
        self,
        config: OpcUaConfig,
        sink: EventSink,
        *,
        share: tuple[int, int] = (0, 1),
        on_state: Callable[[bool], None] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self.name = f"opcua-{config.id}-{share[0]}"
        self._share = share
        self._sink = sink
        self._on_state = on_state or (lambda _up: None)
        self._clock = clock
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._client: Client | None = None
        self._methods: dict[str, tuple[ua.NodeId, list[ua.Argument]]] = {}
        self._methods_parent: Node | None = None
        self._pending: list[DataChangeEvent] = []
        self._tags: dict[ua.NodeId, Tag] = {}
        self._connected = threading.Event()
        self.last_error: str | None = None
        self.stats = {
            "connects": 0,
            "changes": 0,
            "dead_lettered": 0,
            "subscriptions": 0,
            "monitored": 0,
            "lag_ms": 0.0,
        }

    @property
    def connected(self) -> bool:
        """Whether the session is up and subscribed."""
        return self._connected.is_set()

    def start(self) -> None:
        """Run the connection in its own thread until stop()."""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until connected and subscribed; returns whether it is."""
        return self._connected.wait(timeout_s)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Disconnect and end the thread."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._connected.clear()

    def call(self, action: str, params: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Call method `action` on the methods object; OpcUaError or TimeoutError on failure."""
        loop = self._loop
        if loop is None or not self.connected:
            raise OpcUaError(f"{self.name}: not connected to {self.config.endpoint}")
        future = asyncio.run_coroutine_threadsafe(self._call(action, params, timeout_s), loop)
        try:
            return future.result(timeout_s + 1.0)
        except TimeoutError:
            future.cancel()
            raise

    # -- the event loop side --------------------------------------------------------------

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        delay = self.config.reconnect_min_s
        while not self._stop.is_set():
            try:
                await self._session()
                delay = self.config.reconnect_min_s
            except (OSError, TimeoutError, ConnectionError, ua.UaError, OpcUaError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.warning("%s: %s (retrying in %.1f s)", self.name, self.last_error, delay)
            except Exception as exc:  # a library bug must not end the connection for good
                self.last_error = f"{type(exc).__name__}: {exc}"
                logger.exception("%s: unexpected failure", self.name)
            self._set_connected(False)
            if self._stop.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(delay * 2, self.config.reconnect_max_s)

    def _set_connected(self, up: bool) -> None:
        if up == self._connected.is_set():
            return
        if up:
            self._connected.set()
        else:
            self._connected.clear()
        try:
            self._on_state(up)
        except Exception:
            logger.exception("%s: state callback failed", self.name)

    async def _new_client(self) -> Client:
        cfg = self.config
        client = Client(
            cfg.endpoint, timeout=cfg.request_timeout_s, watchdog_intervall=cfg.request_timeout_s
        )
        client.name = client.description = f"whs edge {cfg.id}"
        if cfg.username is not None:
            client.set_user(cfg.username)
            client.set_password(cfg.password or "")
        if cfg.security is not None:
            sec = cfg.security
            uri = _san_uri(str(sec.certificate))
            if uri:
                client.application_uri = uri
            await client.set_security(
                security_policies.SecurityPolicyBasic256Sha256,
                certificate=str(sec.certificate),
                private_key=str(sec.private_key),
                server_certificate=None
                if sec.server_certificate is None
                else str(sec.server_certificate),
                mode=getattr(ua.MessageSecurityMode, sec.mode),
            )
        return client

    async def _session(self) -> None:
        assert self._stop is not None
        lost = asyncio.Event()

        async def on_lost(exc: Exception) -> None:
            self.last_error = f"connection lost: {exc!r}"
            lost.set()

        client = await self._new_client()
        client.connection_lost_callback = on_lost
        async with client:
            tags = await self._resolve_tags(client)
            await self._resolve_methods(client)
            tasks = await self._subscribe(client, tags)
            tasks.append(asyncio.create_task(self._flusher()))
            self._client = client
            self.stats["connects"] += 1
            self.last_error = None
            self._set_connected(True)
            logger.info(
                "%s: connected to %s, %d tags in %d subscription(s)",
                self.name,
                self.config.endpoint,
                len(tags),
                self.stats["subscriptions"],
            )
            waiters = [asyncio.create_task(self._stop.wait()), asyncio.create_task(lost.wait())]
            try:
                await asyncio.wait([*waiters, *tasks], return_when=asyncio.FIRST_COMPLETED)
            finally:
                self._set_connected(False)
                self._client = None
                for task in [*waiters, *tasks]:
                    task.cancel()
                await asyncio.gather(*waiters, *tasks, return_exceptions=True)
                self._flush()
        if lost.is_set() and not self._stop.is_set():
            raise OpcUaError(self.last_error or "connection lost")

    async def _resolve_tags(self, client: Client) -> list[Tag]:
        cfg = self.config
        if cfg.nodes:
            tags = [Tag(n, tag_name(n)) for n in cfg.nodes]
        else:
            assert cfg.browse_root is not None
            tags = await self._browse(client.get_node(cfg.browse_root))
        index, count = self._share
        return tags[index::count]

    async def _browse(self, root: Node, depth: int = 0) -> list[Tag]:
        """Every variable below `root` (objects followed up to 8 levels), in browse order."""
        found: list[Tag] = []
        mask = cast(ua.NodeClass, ua.NodeClass.Variable | ua.NodeClass.Object)
        for ref in await root.get_children_descriptions(nodeclassmask=mask):
            node_id = ref.NodeId.to_string()
            if ref.NodeClass == ua.NodeClass.Variable:
                found.append(Tag(node_id, ref.BrowseName.Name or node_id))
            elif depth < 8:
                found.extend(await self._browse(root.new_node(root.session, ref.NodeId), depth + 1))
        return found

    async def _resolve_methods(self, client: Client) -> None:
        object_id = self.config.methods_object or self.config.browse_root
        self._methods = {}
        self._methods_parent = None
        if object_id is None:
            return
        parent = client.get_node(object_id)
        refs = await parent.get_children_descriptions(nodeclassmask=ua.NodeClass.Method)
        for ref in refs:
            method = client.get_node(ref.NodeId)
            arguments: list[ua.Argument] = []
            with contextlib.suppress(ua.UaError):
                prop = await method.get_child("0:InputArguments")
                arguments = list(await prop.read_value() or [])
            self._methods[ref.BrowseName.Name] = (ref.NodeId, arguments)
        self._methods_parent = parent

    async def _subscribe(self, client: Client, tags: list[Tag]) -> list[asyncio.Task[None]]:
        cfg = self.config
        sampling = (
            cfg.publishing_interval_ms
            if cfg.sampling_interval_ms is None
            else cfg.sampling_interval_ms
        )
        self._tags = {}
        tasks: list[asyncio.Task[None]] = []
        self.stats["subscriptions"] = self.stats["monitored"] = 0
        now = self._clock()
        for part in chunks(tags, cfg.max_nodes_per_subscription):
            sub = await client.create_subscription(
                cfg.publishing_interval_ms,
                None,
                queue_maxsize=QUEUE_MAX,
                overflow=OverflowPolicy.WARN,
            )
            nodes = [client.get_node(t.node_id) for t in part]
            results = await sub.subscribe_data_change(
                nodes, queuesize=cfg.queue_size, sampling_interval=ua.Double(sampling)
            )
            refused: list[DeadLetter] = []
            for tag, node, result in zip(part, nodes, results, strict=True):
                if isinstance(result, ua.StatusCode):
                    refused.append(
                        self._dead(tag.node_id, f"subscribe refused: {result.name}", now)
                    )
                else:
                    self._tags[node.nodeid] = tag
                    self.stats["monitored"] += 1
            if refused:
                self.stats["dead_lettered"] += len(refused)
                self._sink([], refused)
            self.stats["subscriptions"] += 1
            tasks.append(asyncio.create_task(self._consume(sub)))
        return tasks

    def _dead(self, node_id: str, reason: str, when: datetime, payload: bytes = b"") -> DeadLetter:
        topic = f"opcua/{self.config.id}/{node_id}"
        return DeadLetter(topic, reason, payload, when)

    async def _consume(self, sub: Subscription) -> None:
        pending = self._pending
        while True:
            event = await sub.next_event()
            if isinstance(event, DataChangeEvent):
                pending.append(event)

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        batch = self._pending[:]
        self._pending.clear()
        now = self._clock()
        events: list[Event] = []
        dead: list[DeadLetter] = []
        device = self.config.id
        for change in batch:
            tag = self._tags.get(change.node.nodeid) or Tag(
                change.node.nodeid.to_string(), change.node.nodeid.to_string()
            )
            dv = change.data.monitored_item.Value
            status = dv.StatusCode.value if dv is not None and dv.StatusCode is not None else 0
            try:
                events.append(
                    sample_event(
                        device,
                        DataChange(
                            tag.node_id,
                            tag.name,
                            change.value,
                            status,
                            dv.SourceTimestamp if dv is not None else None,
                            dv.ServerTimestamp if dv is not None else None,
                        ),
                        now,
                    )
                )
            except ValueError as exc:
                dead.append(self._dead(tag.node_id, str(exc), now, repr(change.value).encode()))
        if events:
            self.stats["lag_ms"] = (now - events[-1].ts).total_seconds() * 1000.0
        self.stats["changes"] += len(events)
        self.stats["dead_lettered"] += len(dead)
        self._sink(events, dead)

    async def _call(self, action: str, params: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        parent = self._methods_parent
        if parent is None:
            raise OpcUaError(f"device {self.config.id!r} has no methods object configured")
        if action not in self._methods:
            known = ", ".join(sorted(self._methods)) or "none"
            raise OpcUaError(f"no method {action!r} on {parent.nodeid.to_string()} (has: {known})")
        method_id, arguments = self._methods[action]
        args = _arguments(action, params, arguments)
        result = await asyncio.wait_for(call_method_full(parent, method_id, *args), timeout_s)
        if not result.StatusCode.is_good():
            raise OpcUaError(f"{action} failed: {result.StatusCode.name}")
        return {"outputs": [_plain(v) for v in result.OutputArguments]}


def _arguments(
    action: str, params: dict[str, Any], declared: list[ua.Argument]
) -> list[ua.Variant]:
    """Method inputs from params: `args` in order, or one param per declared argument name."""
    if "args" in params:
        values = params["args"]
        if not isinstance(values, list):
            raise OpcUaError(f"{action}: params.args must be a list")
    else:
        names = [a.Name for a in declared]
        missing = [n for n in names if n not in params]
        extra = sorted(set(params) - set(names))
        if missing or extra:
            raise OpcUaError(
                f"{action}: expects arguments {names}; missing {missing}, unexpected {extra}"
            )
        values = [params[n] for n in names]
    if declared and len(values) != len(declared):
        raise OpcUaError(f"{action}: expects {len(declared)} argument(s), got {len(values)}")
    types = [a.DataType for a in declared] or [None] * len(values)
    return [_variant(v, t) for v, t in zip(values, types, strict=True)]


class OpcUaAdapter:
    """One OPC UA device: its connections (tags shared out among them) and its method calls."""

    kind = OPCUA

    def __init__(
        self,
        config: OpcUaConfig,
        sink: EventSink,
        on_status: StatusSink | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.config = config
        self._on_status = on_status or (lambda _d, _o, _r: None)
        self._lock = threading.Lock()
        self._online: bool | None = None
        self._stopping = False
        self.connections = [
            OpcUaConnection(
                config,
                sink,
                share=(i, config.connections),
                on_state=self._state_changed,
                clock=clock,
            )
            for i in range(config.connections)
        ]

    @property
    def online(self) -> bool:
        """True when every connection is up."""
        return all(c.connected for c in self.connections)

    def start(self) -> None:
        """Connect every connection in the background."""
        for connection in self.connections:
            connection.start()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until every connection is up; returns whether they are."""
        deadline = time.monotonic() + timeout_s
        return all(
            c.wait_connected(max(0.0, deadline - time.monotonic())) for c in self.connections
        )

    def stop(self) -> None:
        """Disconnect everything (the device is reported offline with reason shutdown)."""
        self._stopping = True
        for connection in self.connections:
            connection.stop()

    def call(self, action: str, params: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """Call an OPC UA method (on the first connection that is up)."""
        for connection in self.connections:
            if connection.connected:
                return connection.call(action, params, min(timeout_s, self.config.method_timeout_s))
        raise OpcUaError(f"device {self.config.id!r} is offline ({self.connections[0].last_error})")

    def stats(self) -> dict[str, Any]:
        """Per-device counters summed over its connections."""
        total: dict[str, Any] = {"online": self.online}
        for connection in self.connections:
            for key, value in connection.stats.items():
                total[key] = (
                    max(total.get(key, 0), value)
                    if key == "lag_ms"
                    else (total.get(key, 0) + value)
                )
        return total

    def _state_changed(self, _up: bool) -> None:
        with self._lock:
            online = self.online
            if online == self._online:
                return
            self._online = online
        reason = "startup" if online else "shutdown" if self._stopping else "fault"
        self._on_status(self.config.id, online, reason)

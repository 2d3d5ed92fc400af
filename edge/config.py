"""Edge agent configuration: YAML -> validated dataclasses, with errors that name the field."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
RFID_GATE = "rfid_gate"
JOURNALS = ("sqlite", "memory")
WHEN_FULL = ("block", "reject-new")
GATE_MODES = ("passes", "reads")
SCALE = "scale"
OPCUA = "opcua"
ROBOT_ARM = "robot_arm"  # an OPC UA pick-station arm (edge/adapters/robot_arm.py)
OPCUA_AGV = "opcua_agv"  # an AGV fleet controller over OPC UA (edge/adapters/opcua_agv.py)
SECURITY_POLICIES = ("Basic256Sha256",)
SECURITY_MODES = ("SignAndEncrypt", "Sign")


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the field and the fix."""


@dataclass(frozen=True)
class BrokerConfig:
    """Where and as whom to connect to an MQTT broker."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls: bool = False
    keepalive_s: int = 30


@dataclass(frozen=True)
class UplinkConfig:
    """Batching and flow control of the uplink to central."""

    max_batch_events: int = 500
    max_batch_delay_s: float = 0.2
    max_in_flight: int = 8
    ack_timeout_s: float = 10.0
    journal: str = "sqlite"
    journal_max_events: int = 1_000_000
    when_full: str = "block"
    gap_resend_s: float = 0.5


@dataclass(frozen=True)
class RfidGateConfig:
    """An RFID gate: de-duplication window, quiet gap that ends a pass, antenna roles."""

    id: str
    dedup_window_s: float = 5.0
    pass_gap_s: float = 1.5
    outer_antennas: tuple[int, ...] = (1,)
    inner_antennas: tuple[int, ...] = (2,)
    mode: str = "passes"
    kind: str = RFID_GATE


@dataclass(frozen=True)
class ScaleConfig:
    """A platform scale: stable-window size, allowed spread and the least load that counts."""

    id: str
    window: int = 8
    max_spread_kg: float = 0.2
    min_load_kg: float = 2.0
    kind: str = SCALE


@dataclass(frozen=True)
class OpcUaSecurity:
    """Certificates for a secured OPC UA channel (policy Basic256Sha256)."""

    certificate: Path
    private_key: Path
    server_certificate: Path | None = None
    policy: str = "Basic256Sha256"
    mode: str = "SignAndEncrypt"


@dataclass(frozen=True)
class OpcUaConfig:
    """An OPC UA server (PLC, AGV or robot-arm controller): what to subscribe, how, and methods."""

    id: str
    endpoint: str
    nodes: tuple[str, ...] = ()
    browse_root: str | None = None
    publishing_interval_ms: float = 500.0
    sampling_interval_ms: float | None = None
    queue_size: int = 10
    max_nodes_per_subscription: int = 1000
    connections: int = 1
    methods_object: str | None = None
    method_timeout_s: float = 10.0
    request_timeout_s: float = 4.0
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 30.0
    username: str | None = None
    password: str | None = None
    security: OpcUaSecurity | None = None
    kind: str = OPCUA


DeviceConfig = RfidGateConfig | ScaleConfig | OpcUaConfig


@dataclass(frozen=True)
class EdgeConfig:
    """Everything one edge agent needs."""

    edge_id: str
    site: str
    data_dir: Path
    broker: BrokerConfig
    uplink_broker: BrokerConfig | None = None
    uplink: UplinkConfig = field(default_factory=UplinkConfig)
    devices: tuple[DeviceConfig, ...] = ()
    heartbeat_s: float = 10.0

    @property
    def effective_uplink_broker(self) -> BrokerConfig:
        """The broker the uplink uses (the device broker unless a separate one is set)."""
        return self.uplink_broker or self.broker

    def device(self, device_id: str) -> DeviceConfig | None:
        """The configured device called `device_id`, if any."""
        return next((d for d in self.devices if d.id == device_id), None)


def _take(raw: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    return dict(raw)


def _ident(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ConfigError(
            f"{where}: {value!r} is not a valid id (letters, digits, . _ : -; up to 64)"
        )
    return value


def _number(
    value: Any, where: str, *, minimum: float, integer: bool = False, strict: bool = False
) -> Any:
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type:
        raise ConfigError(
            f"{where}: expected {'an integer' if integer else 'a number'}, got {value!r}"
        )
    if value < minimum or (strict and value == minimum):
        raise ConfigError(f"{where}: must be {'>' if strict else '>='} {minimum}, got {value!r}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


def _antennas(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}: expected a non-empty list of antenna numbers")
    return tuple(_number(v, f"{where}[{i}]", minimum=1, integer=True) for i, v in enumerate(value))


def parse_broker(raw: Any, where: str) -> BrokerConfig:
    """Validate a broker mapping."""
    d = _take(raw, where, {"host", "port", "username", "password", "tls", "keepalive_s"})
    base = BrokerConfig()
    host = d.get("host", base.host)
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{where}.host: expected a host name")
    for key in ("username", "password"):
        if d.get(key) is not None and not isinstance(d[key], str):
            raise ConfigError(f"{where}.{key}: expected a string")
    return BrokerConfig(
        host=host,
        port=_number(d.get("port", base.port), f"{where}.port", minimum=1, integer=True),
        username=d.get("username"),
        password=d.get("password"),
        tls=_bool(d.get("tls", base.tls), f"{where}.tls"),
        keepalive_s=_number(
            d.get("keepalive_s", base.keepalive_s), f"{where}.keepalive_s", minimum=5, integer=True
        ),
    )


def _parse_uplink(raw: Any) -> UplinkConfig:
    keys = {
        "max_batch_events",
        "max_batch_delay_s",
        "max_in_flight",
        "ack_timeout_s",
        "journal",
        "journal_max_events",
        "when_full",
        "gap_resend_s",
    }
    d = _take(raw, "uplink", keys)
    base = UplinkConfig()
    journal = d.get("journal", base.journal)
    if journal not in JOURNALS:
        raise ConfigError(f"uplink.journal: expected one of {', '.join(JOURNALS)}, got {journal!r}")
    when_full = d.get("when_full", base.when_full)
    if when_full not in WHEN_FULL:
        raise ConfigError(
            f"uplink.when_full: expected one of {', '.join(WHEN_FULL)}, got {when_full!r}"
        )
    events = _number(
        d.get("max_batch_events", base.max_batch_events),
        "uplink.max_batch_events",
        minimum=1,
        integer=True,
    )
    if events > 10000:
        raise ConfigError("uplink.max_batch_events: at most 10000 (the uplink_batch schema limit)")
    return UplinkConfig(
        max_batch_events=events,
        max_batch_delay_s=float(
            _number(
                d.get("max_batch_delay_s", base.max_batch_delay_s),
                "uplink.max_batch_delay_s",
                minimum=0,
            )
        ),
        max_in_flight=_number(
            d.get("max_in_flight", base.max_in_flight),
            "uplink.max_in_flight",
            minimum=1,
            integer=True,
        ),
        ack_timeout_s=float(
            _number(
                d.get("ack_timeout_s", base.ack_timeout_s),
                "uplink.ack_timeout_s",
                minimum=0,
                strict=True,
            )
        ),
        journal=journal,
        journal_max_events=_number(
            d.get("journal_max_events", base.journal_max_events),
            "uplink.journal_max_events",
            minimum=1,
            integer=True,
        ),
        when_full=when_full,
        gap_resend_s=float(
            _number(
                d.get("gap_resend_s", base.gap_resend_s),
                "uplink.gap_resend_s",
                minimum=0,
                strict=True,
            )
        ),
    )


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a non-empty string")
    return value


def _parse_opcua_security(raw: Any, where: str) -> OpcUaSecurity:
    keys = {"policy", "mode", "certificate", "private_key", "server_certificate"}
    d = _take(raw, where, keys)
    policy = d.get("policy", "Basic256Sha256")
    if policy not in SECURITY_POLICIES:
        raise ConfigError(f"{where}.policy: expected one of {SECURITY_POLICIES}, got {policy!r}")
    mode = d.get("mode", "SignAndEncrypt")
    if mode not in SECURITY_MODES:
        raise ConfigError(f"{where}.mode: expected one of {SECURITY_MODES}, got {mode!r}")
    server_cert = d.get("server_certificate")
    return OpcUaSecurity(
        certificate=Path(_text(d.get("certificate"), f"{where}.certificate")),
        private_key=Path(_text(d.get("private_key"), f"{where}.private_key")),
        server_certificate=None
        if server_cert is None
        else Path(_text(server_cert, f"{where}.server_certificate")),
        policy=policy,
        mode=mode,
    )


def _parse_opcua(raw: dict[str, Any], where: str) -> OpcUaConfig:
    keys = {f for f in OpcUaConfig.__dataclass_fields__ if f != "security"} | {"security"}
    d = _take(raw, where, keys)
    base = OpcUaConfig(id="x", endpoint="x")
    endpoint = _text(d.get("endpoint"), f"{where}.endpoint")
    if not endpoint.startswith("opc.tcp://"):
        raise ConfigError(f"{where}.endpoint: expected opc.tcp://host:port, got {endpoint!r}")
    nodes = d.get("nodes") or []
    if not isinstance(nodes, list):
        raise ConfigError(f"{where}.nodes: expected a list of node ids")
    browse_root = d.get("browse_root")
    if bool(nodes) == (browse_root is not None):
        raise ConfigError(f"{where}: give either nodes or browse_root (exactly one)")

    def num(key: str, minimum: float, integer: bool = False, strict: bool = False) -> Any:
        value = _number(
            d.get(key, getattr(base, key)),
            f"{where}.{key}",
            minimum=minimum,
            integer=integer,
            strict=strict,
        )
        return value if integer else float(value)

    sampling = d.get("sampling_interval_ms")
    reconnect_min, reconnect_max = num("reconnect_min_s", 0, strict=True), num("reconnect_max_s", 0)
    if reconnect_max < reconnect_min:
        raise ConfigError(f"{where}.reconnect_max_s: must be >= reconnect_min_s")
    for key in ("username", "password", "methods_object"):
        if d.get(key) is not None:
            _text(d[key], f"{where}.{key}")
    return OpcUaConfig(
        id=_ident(d.get("id"), f"{where}.id"),
        endpoint=endpoint,
        nodes=tuple(_text(n, f"{where}.nodes[{i}]") for i, n in enumerate(nodes)),
        browse_root=None if browse_root is None else _text(browse_root, f"{where}.browse_root"),
        publishing_interval_ms=num("publishing_interval_ms", 10),
        sampling_interval_ms=None
        if sampling is None
        else float(_number(sampling, f"{where}.sampling_interval_ms", minimum=0)),
        queue_size=num("queue_size", 1, integer=True),
        max_nodes_per_subscription=num("max_nodes_per_subscription", 1, integer=True),
        connections=num("connections", 1, integer=True),
        methods_object=d.get("methods_object"),
        method_timeout_s=num("method_timeout_s", 0, strict=True),
        request_timeout_s=num("request_timeout_s", 0, strict=True),
        reconnect_min_s=reconnect_min,
        reconnect_max_s=reconnect_max,
        username=d.get("username"),
        password=d.get("password"),
        security=None
        if d.get("security") is None
        else _parse_opcua_security(d["security"], f"{where}.security"),
    )


def _parse_device(raw: Any, where: str) -> DeviceConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with id and kind")
    kind = raw.get("kind")
    if kind == OPCUA:
        return _parse_opcua(raw, where)
    if kind in (ROBOT_ARM, OPCUA_AGV):
        return replace(_parse_opcua(raw, where), kind=kind)
    if kind == RFID_GATE:
        d = _take(
            raw,
            where,
            {
                "id",
                "kind",
                "dedup_window_s",
                "pass_gap_s",
                "outer_antennas",
                "inner_antennas",
                "mode",
            },
        )
        mode = d.get("mode", "passes")
        if mode not in GATE_MODES:
            raise ConfigError(
                f"{where}.mode: expected one of {', '.join(GATE_MODES)}, got {mode!r}"
            )
        g = RfidGateConfig(id="x")
        outer = _antennas(
            d.get("outer_antennas", list(g.outer_antennas)), f"{where}.outer_antennas"
        )
        inner = _antennas(
            d.get("inner_antennas", list(g.inner_antennas)), f"{where}.inner_antennas"
        )
        if set(outer) & set(inner):
            raise ConfigError(
                f"{where}: antenna(s) {sorted(set(outer) & set(inner))} are both outer and inner"
            )
        return RfidGateConfig(
            id=_ident(d.get("id"), f"{where}.id"),
            dedup_window_s=float(
                _number(
                    d.get("dedup_window_s", g.dedup_window_s), f"{where}.dedup_window_s", minimum=0
                )
            ),
            pass_gap_s=float(
                _number(
                    d.get("pass_gap_s", g.pass_gap_s), f"{where}.pass_gap_s", minimum=0, strict=True
                )
            ),
            outer_antennas=outer,
            inner_antennas=inner,
            mode=mode,
        )
    if kind == SCALE:
        d = _take(raw, where, {"id", "kind", "window", "max_spread_kg", "min_load_kg"})
        s = ScaleConfig(id="x")
        return ScaleConfig(
            id=_ident(d.get("id"), f"{where}.id"),
            window=_number(d.get("window", s.window), f"{where}.window", minimum=2, integer=True),
            max_spread_kg=float(
                _number(
                    d.get("max_spread_kg", s.max_spread_kg), f"{where}.max_spread_kg", minimum=0
                )
            ),
            min_load_kg=float(
                _number(
                    d.get("min_load_kg", s.min_load_kg),
                    f"{where}.min_load_kg",
                    minimum=0,
                    strict=True,
                )
            ),
        )
    raise ConfigError(
        f"{where}.kind: expected {RFID_GATE!r}, {SCALE!r}, {OPCUA!r}, {ROBOT_ARM!r} or "
        f"{OPCUA_AGV!r}, got {kind!r}"
    )


def parse_edge_config(raw: Any, base_dir: Path | None = None) -> EdgeConfig:
    """Validate a parsed YAML document; relative data_dir is resolved against base_dir."""
    d = _take(
        raw,
        "config",
        {"edge_id", "site", "data_dir", "broker", "uplink_broker", "uplink", "devices"}
        | {"heartbeat_s"},
    )
    if "edge_id" not in d or "site" not in d:
        raise ConfigError("config: edge_id and site are required")
    edge_id = _ident(d["edge_id"], "edge_id")
    data_dir = d.get("data_dir", f"var/{edge_id}")
    if not isinstance(data_dir, str) or not data_dir:
        raise ConfigError("data_dir: expected a path")
    path = Path(data_dir)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    raw_devices = d.get("devices") or []
    if not isinstance(raw_devices, list):
        raise ConfigError("devices: expected a list")
    devices = tuple(_parse_device(r, f"devices[{i}]") for i, r in enumerate(raw_devices))
    ids = [dev.id for dev in devices]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ConfigError(f"devices: duplicate id(s) {', '.join(dupes)}")
    if "broker" not in d:
        raise ConfigError("broker: required (host, port, username, password, tls)")
    return EdgeConfig(
        edge_id=edge_id,
        site=_ident(d["site"], "site"),
        data_dir=path,
        broker=parse_broker(d["broker"], "broker"),
        uplink_broker=None
        if d.get("uplink_broker") is None
        else parse_broker(d["uplink_broker"], "uplink_broker"),
        uplink=_parse_uplink(d.get("uplink")),
        devices=devices,
        heartbeat_s=float(_number(d.get("heartbeat_s", 10.0), "heartbeat_s", minimum=0.1)),
    )


_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, environ: Mapping[str, str] | None = None) -> str:
    """Replace `${NAME}` with the environment variable NAME (secrets stay out of files)."""
    env = os.environ if environ is None else environ
    missing = sorted({name for name in _ENV_REFERENCE.findall(text) if name not in env})
    if missing:
        raise ConfigError(f"environment variable(s) {', '.join(missing)} not set")
    return _ENV_REFERENCE.sub(lambda match: env[match.group(1)], text)


def load_edge_config(path: Path | str) -> EdgeConfig:
    """Read and validate an edge YAML config file; relative data_dir is relative to the CWD."""
    path = Path(path)
    try:
        raw = yaml.safe_load(expand_env(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    try:
        return parse_edge_config(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc

"""Configuration of the AGV stand-ins: broker, time factor, vehicles and injected faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulators.vda5050.vehicle import VehicleSpec


class AgvConfigError(ValueError):
    """A stand-in configuration that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Fault:
    """An injected fault: at simulated second `at`, `kind` hits vehicle `serial`."""

    at: float
    serial: str
    kind: str  # lost_connection | error | blocked_node | freeze | stall
    node: str = ""
    error_type: str = "injectedFault"
    duration: float = 0.0  # freeze/stall: simulated seconds until it ends (0: never)


@dataclass(frozen=True)
class AgvStandInsConfig:
    """Everything the stand-ins need."""

    host: str
    port: int
    username: str
    password: str | None
    time_factor: float = 1.0  # simulated seconds per real second
    manufacturer: str = "whs-sim"
    vehicles: tuple[VehicleSpec, ...] = ()
    faults: tuple[Fault, ...] = field(default_factory=tuple)
    validate_outgoing: bool = False


_VEHICLE_KEYS = {f for f in VehicleSpec.__dataclass_fields__}
FAULT_KINDS = ("lost_connection", "error", "blocked_node", "freeze", "stall")


def parse_agv_config(raw: Any) -> AgvStandInsConfig:
    """Validate a mapping (the YAML file's content)."""
    if not isinstance(raw, dict):
        raise AgvConfigError("expected a mapping at the top level")
    broker = raw.get("broker") or {}
    if not isinstance(broker, dict):
        raise AgvConfigError("broker: expected a mapping")
    factor = raw.get("time_factor", 1.0)
    if not isinstance(factor, int | float) or isinstance(factor, bool) or factor <= 0:
        raise AgvConfigError(f"time_factor: expected a number > 0, got {factor!r}")
    manufacturer = str(raw.get("manufacturer", "whs-sim"))
    vehicles = []
    for i, v in enumerate(raw.get("vehicles") or []):
        if not isinstance(v, dict) or "serial" not in v:
            raise AgvConfigError(f"vehicles[{i}]: expected a mapping with a serial")
        unknown = set(v) - _VEHICLE_KEYS
        if unknown:
            raise AgvConfigError(f"vehicles[{i}]: unknown key(s) {', '.join(sorted(unknown))}")
        vehicles.append(VehicleSpec(**{"manufacturer": manufacturer, **v}))
    if not vehicles:
        raise AgvConfigError("vehicles: at least one vehicle is needed")
    serials = {v.serial for v in vehicles}
    faults = []
    for i, f in enumerate(raw.get("faults") or []):
        if not isinstance(f, dict) or f.get("kind") not in FAULT_KINDS:
            raise AgvConfigError(f"faults[{i}]: kind must be one of {', '.join(FAULT_KINDS)}")
        if f.get("serial") not in serials:
            raise AgvConfigError(f"faults[{i}]: unknown vehicle {f.get('serial')!r}")
        faults.append(Fault(**f))
    return AgvStandInsConfig(
        host=str(broker.get("host", "127.0.0.1")),
        port=int(broker.get("port", 1883)),
        username=str(broker.get("username", "agv")),
        password=broker.get("password"),
        time_factor=float(factor),
        manufacturer=manufacturer,
        vehicles=tuple(vehicles),
        faults=tuple(faults),
        validate_outgoing=bool(raw.get("validate_outgoing", False)),
    )


def load_agv_config(path: Path | str) -> AgvStandInsConfig:
    """Read and validate a stand-ins YAML file."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AgvConfigError(f"cannot read {path}: {exc}") from exc
    try:
        return parse_agv_config(raw)
    except (AgvConfigError, TypeError) as exc:
        raise AgvConfigError(f"{path}: {exc}") from exc

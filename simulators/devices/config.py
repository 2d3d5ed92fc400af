"""Stand-ins configuration: YAML -> validated dataclasses, with errors that name the field."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from edge.config import ConfigError, expand_env


class SimConfigError(ValueError):
    """A stand-ins configuration that cannot be used; the message names the field."""


@dataclass(frozen=True)
class SimBroker:
    """The site broker the stand-ins publish to."""

    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False


@dataclass(frozen=True)
class Credentials:
    """A broker username and password."""

    username: str = "sim"
    password: str | None = None


@dataclass(frozen=True)
class GateSim:
    """A simulated RFID gate and its noise (its broker username is its id)."""

    id: str
    password: str | None = None
    read_cycle_s: float = 0.2
    pass_duration_s: float = 2.0
    miss_rate: float = 0.1
    duplicate_rate: float = 0.3
    rssi_dbm: float = -55.0
    rssi_noise_db: float = 4.0
    outer_antenna: int = 1
    inner_antenna: int = 2


@dataclass(frozen=True)
class ScaleSim:
    """A simulated platform scale (its broker username is its id)."""

    id: str
    password: str | None = None
    sample_period_s: float = 0.2
    noise_kg: float = 0.02
    settle_s: float = 1.5
    dwell_s: float = 4.0
    unsettled: bool = False


@dataclass(frozen=True)
class DockSim:
    """A dock: the gate a pallet passes, then the scale it stands on."""

    dock: str
    gate: GateSim | None = None
    scale: ScaleSim | None = None


@dataclass(frozen=True)
class StandInsConfig:
    """Everything the device stand-ins need."""

    site: str
    broker: SimBroker = field(default_factory=SimBroker)
    seed: int = 42
    time_factor: float = 1.0
    control: Credentials = field(default_factory=Credentials)
    docks: tuple[DockSim, ...] = ()

    def dock(self, name: str) -> DockSim:
        """The dock called `name`; KeyError if there is none."""
        for dock in self.docks:
            if dock.dock == name:
                return dock
        raise KeyError(f"no dock {name!r} (configured: {', '.join(d.dock for d in self.docks)})")


_RATES = {"miss_rate", "duplicate_rate"}
_POSITIVE = {"read_cycle_s", "pass_duration_s", "sample_period_s", "time_factor"}


def _build(cls: type, raw: Any, where: str, required: tuple[str, ...] = ()) -> Any:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SimConfigError(f"{where}: expected a mapping")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise SimConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key in required:
        if raw.get(key) in (None, ""):
            raise SimConfigError(f"{where}.{key}: required")
    values = {}
    for key, value in raw.items():
        default = known[key].default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise SimConfigError(f"{where}.{key}: expected true or false")
        elif isinstance(default, int | float) and not isinstance(default, bool):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SimConfigError(f"{where}.{key}: expected a number, got {value!r}")
            if isinstance(default, int) and not isinstance(value, int):
                raise SimConfigError(f"{where}.{key}: expected an integer, got {value!r}")
            if key in _RATES and not 0 <= value <= 1:
                raise SimConfigError(f"{where}.{key}: must be between 0 and 1")
            if key in _POSITIVE and value <= 0:
                raise SimConfigError(f"{where}.{key}: must be > 0")
            nonnegative = key.endswith("_kg") or key in {"settle_s", "dwell_s", "rssi_noise_db"}
            if nonnegative and value < 0:
                raise SimConfigError(f"{where}.{key}: must be >= 0")
        elif value is not None and not isinstance(value, str):
            raise SimConfigError(f"{where}.{key}: expected a string")
        values[key] = value
    return cls(**values)


def parse_standins_config(raw: Any) -> StandInsConfig:
    """Validate a parsed YAML document."""
    if not isinstance(raw, dict):
        raise SimConfigError("config: expected a mapping")
    docks_raw = raw.get("docks") or []
    if not isinstance(docks_raw, list):
        raise SimConfigError("docks: expected a list")
    docks = []
    for i, d in enumerate(docks_raw):
        where = f"docks[{i}]"
        if not isinstance(d, dict) or not isinstance(d.get("dock"), str) or not d["dock"]:
            raise SimConfigError(f"{where}.dock: required (the dock's name)")
        unknown = sorted(set(d) - {"dock", "gate", "scale"})
        if unknown:
            raise SimConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
        gate = _build(GateSim, d["gate"], f"{where}.gate", ("id",)) if d.get("gate") else None
        scale = _build(ScaleSim, d["scale"], f"{where}.scale", ("id",)) if d.get("scale") else None
        docks.append(DockSim(d["dock"], gate, scale))
    top = {k: v for k, v in raw.items() if k not in {"broker", "control", "docks"}}
    config: StandInsConfig = _build(StandInsConfig, top, "config", ("site",))
    ids = [dev.id for d in docks for dev in (d.gate, d.scale) if dev]
    if len(ids) != len(set(ids)):
        raise SimConfigError("docks: every gate and scale needs its own id")
    return StandInsConfig(
        site=config.site,
        broker=_build(SimBroker, raw.get("broker"), "broker"),
        seed=config.seed,
        time_factor=float(config.time_factor),
        control=_build(Credentials, raw.get("control"), "control"),
        docks=tuple(docks),
    )


def load_standins_config(path: Path | str) -> StandInsConfig:
    """Read and validate a stand-ins YAML config file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(expand_env(path.read_text(encoding="utf-8")))
    except ConfigError as exc:
        raise SimConfigError(f"{path}: {exc}") from exc
    except OSError as exc:
        raise SimConfigError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise SimConfigError(f"{path} is not valid YAML: {exc}") from exc
    try:
        return parse_standins_config(raw)
    except SimConfigError as exc:
        raise SimConfigError(f"{path}: {exc}") from exc

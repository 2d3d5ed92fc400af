"""Scenario files for the whole-warehouse simulation: YAML, validated, errors name the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from optimization.routing.solve import METHODS
from simulators.warehouse.traffic import node_spacing


class ScenarioError(ValueError):
    """A scenario file or value is invalid; the message names the field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayoutSpec(_Model):
    """Parallel aisles; pick locations evenly spaced along each aisle, within its blocks."""

    aisles: int = Field(ge=1, le=200)
    aisle_length: float = Field(gt=0)
    blocks: int = Field(default=1, ge=1, le=2, description="1 or 2 (a middle cross-aisle)")
    aisle_spacing: float = Field(default=3.0, gt=0)
    slots_per_aisle: int = Field(ge=1, le=400)
    depot_aisle: int = Field(default=0, ge=0)


class SkuSpec(_Model):
    """SKU count and demand skew (Zipf exponent of SKU popularity)."""

    count: int = Field(ge=1)
    skew: float = Field(default=1.0, ge=0)
    unit_weight_kg: tuple[float, float] = (0.1, 2.0)
    unit_cube_l: tuple[float, float] = (0.2, 5.0)


class DemandSpec(_Model):
    """Order arrivals: a Poisson rate per hour of the shift, times a seasonal factor."""

    orders_per_hour: list[float] = Field(min_length=1)
    seasonal_factor: float = Field(default=1.0, gt=0)
    lines_per_order_mean: float = Field(default=2.0, ge=1)
    qty_per_line_mean: float = Field(default=1.5, ge=1)


class InboundDelivery(_Model):
    """A truck: pallets of mixed SKUs (by demand share) arriving at the dock at `hour`."""

    hour: float = Field(ge=0)
    pallets: int = Field(ge=1)
    units_per_pallet: int = Field(ge=1)


class PickerSpec(_Model):
    count: int = Field(ge=0)
    speed_m_s: float = Field(default=1.0, gt=0)
    pick_s: float = Field(default=10.0, ge=0)
    cart_items: int = Field(default=40, ge=1)
    cart_totes: int = Field(default=8, ge=1)


class AgvSpec(_Model):
    count: int = Field(ge=0)
    speed_m_s: float = Field(default=1.5, gt=0)
    handle_s: float = Field(default=15.0, ge=0)
    mtbf_h: float = Field(default=40.0, gt=0, description="mean time between failures")
    mttr_min: float = Field(default=20.0, ge=0, description="mean time to repair")
    traffic: bool = Field(
        default=True, description="plan moves with central's conflict-free traffic control"
    )


class ArmSpec(_Model):
    count: int = Field(default=0, ge=0)
    pick_s: float = Field(default=6.0, ge=0)
    fail_rate: float = Field(
        default=0.03, ge=0, lt=1, description="share of pick attempts that fail"
    )


class ScaleSpec(_Model):
    """The pack scale, as the device stand-in models it (simulators.devices.scale)."""

    settle_s: float = Field(default=1.5, ge=0)
    dwell_s: float = Field(default=1.0, ge=0)
    sample_period_s: float = Field(default=0.2, gt=0)


class PackSpec(_Model):
    count: int = Field(ge=1)
    pack_s: float = Field(default=45.0, ge=0)
    per_item_s: float = Field(default=3.0, ge=0)
    service: Literal["fixed", "exponential"] = "fixed"
    scale: ScaleSpec | None = ScaleSpec()


class ResourceSpec(_Model):
    pickers: PickerSpec
    agvs: AgvSpec = AgvSpec(count=0)
    arm_stations: ArmSpec = ArmSpec()
    pack_stations: PackSpec


class ReplenishmentSpec(_Model):
    policy: Literal["min-max", "none"] = "min-max"
    service_level: float = Field(default=0.95, gt=0, lt=1)
    lead_time_min: float = Field(default=30.0, gt=0)
    cover_hours: float = Field(default=2.0, gt=0, description="order quantity, in hours of demand")


class PolicySpec(_Model):
    slotting: Literal["coi", "abc", "random"] = "coi"
    batching: Literal["seed-estimate", "seed-exact", "fcfs", "single"] = "seed-estimate"
    routing: str = "exact"
    replenishment: ReplenishmentSpec = ReplenishmentSpec()
    wave_minutes: float = Field(default=15.0, ge=0, description="0 releases every order on arrival")
    wave_max_orders: int = Field(default=300, ge=1)
    gtp_share: float = Field(
        default=0.0, ge=0, le=1, description="fastest SKUs served by AGVs + arms"
    )

    @model_validator(mode="after")
    def _routing(self) -> PolicySpec:
        if self.routing not in METHODS or self.routing == "ortools":
            raise ValueError(
                f"routing: {self.routing!r} is not one of exact, auto, s-shape, "
                "return, midpoint, largest-gap, combined"
            )
        return self


class StockSpec(_Model):
    pickface_hours: float = Field(default=3.0, gt=0, description="initial pick-face stock")
    reserve_hours: float = Field(default=6.0, ge=0, description="initial reserve (bulk) stock")


class Scenario(_Model):
    """One what-if: the warehouse, its demand, resources and policies, a shift and a seed."""

    name: str = "scenario"
    seed: int = 1
    shift_hours: float = Field(default=8.0, gt=0)
    layout: LayoutSpec
    skus: SkuSpec
    demand: DemandSpec
    inbound: list[InboundDelivery] = []
    stock: StockSpec = StockSpec()
    resources: ResourceSpec
    policies: PolicySpec = PolicySpec()

    @model_validator(mode="after")
    def _fits(self) -> Scenario:
        locations = self.layout.aisles * self.layout.slots_per_aisle
        if self.skus.count > locations:
            raise ValueError(
                f"skus.count: {self.skus.count} SKUs need more than the {locations} "
                "locations of the layout"
            )
        if self.layout.depot_aisle >= self.layout.aisles:
            raise ValueError("layout.depot_aisle: beyond the last aisle")
        if self.policies.gtp_share > 0 and (
            self.resources.agvs.count == 0 or self.resources.arm_stations.count == 0
        ):
            raise ValueError("policies.gtp_share: goods-to-person needs AGVs and arm stations")
        block_min = 3 * node_spacing(self.layout.aisle_spacing)
        if self.resources.agvs.count and self.layout.aisle_length / self.layout.blocks < block_min:
            raise ValueError(
                f"layout.aisle_length: AGVs need aisles of at least {block_min:g} m per block "
                "(three lane nodes)"
            )
        if self.resources.pickers.count == 0 and self.policies.gtp_share < 1:
            raise ValueError("resources.pickers.count: manual picks need at least one picker")
        return self


def _field(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for p in loc:
        if isinstance(p, int):
            parts[-1:] = [f"{parts[-1]}[{p}]"] if parts else [f"[{p}]"]
        else:
            parts.append(str(p))
    return ".".join(parts)


def scenario_from_dict(data: Any) -> Scenario:
    """Validate a scenario mapping; raises ScenarioError naming the first bad field."""
    if not isinstance(data, dict):
        raise ScenarioError("scenario: must be a mapping")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _field(tuple(err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "value_error":  # our own checks start with the field's name
            raise ScenarioError(f"{where}.{msg}" if where else msg) from None
        raise ScenarioError(f"{where or 'scenario'}: {msg}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML ({exc})") from None
    return scenario_from_dict(data)


def with_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """A copy with dotted fields replaced, e.g. {"resources.agvs.count": 10}; validated."""
    data = copy.deepcopy(scenario.model_dump(mode="python"))
    for dotted, value in overrides.items():
        node = data
        keys = dotted.split(".")
        for key in keys[:-1]:
            if not isinstance(node, dict) or key not in node or not isinstance(node[key], dict):
                raise ScenarioError(f"{dotted}: no such field")
            node = node[key]
        if keys[-1] not in node:
            raise ScenarioError(f"{dotted}: no such field")
        node[keys[-1]] = value
    return scenario_from_dict(data)


SCENARIO_DIR = Path(__file__).parent / "scenarios"


def example(name: str) -> Path:
    """Path of a shipped example scenario (small, medium, peak)."""
    return SCENARIO_DIR / f"{name}.yaml"

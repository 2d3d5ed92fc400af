"""Platform scale: weight samples -> one stable-weight event per load."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from firmware_interfaces.validation import ContractError

from edge.converters import decode
from edge.events import STABLE_WEIGHT, Event, format_ts, parse_ts

SCHEMA = "scale_weight"


@dataclass(frozen=True)
class WeightSample:
    """One gross weight sample; motion is None when the scale has no motion flag."""

    scale_id: str
    seq: int
    ts: datetime
    gross_kg: float
    motion: bool | None = None


def parse_scale_weight(raw: bytes | str, scale_id: str | None = None) -> WeightSample:
    """Decode a scale_weight payload; ContractError (with the reason) if it is unusable."""
    payload = decode(SCHEMA, raw)
    if scale_id is not None and payload["scale_id"] != scale_id:
        raise ContractError(
            SCHEMA,
            f"scale_id {payload['scale_id']!r} does not match the topic's device {scale_id!r}",
        )
    try:
        ts = parse_ts(payload["ts"])
    except ValueError as exc:
        raise ContractError(SCHEMA, f"at ts: {exc}") from exc
    return WeightSample(
        payload["scale_id"], payload["seq"], ts, float(payload["gross_kg"]), payload.get("motion")
    )


class StableWeightDetector:
    """Emits one stable-weight event per load: N samples within max spread, none in motion.

    The detector re-arms once a sample drops below min_load_kg (the load was taken off).
    """

    def __init__(
        self, scale_id: str, *, window: int, max_spread_kg: float, min_load_kg: float
    ) -> None:
        self.scale_id = scale_id
        self.window = window
        self.max_spread_kg = max_spread_kg
        self.min_load_kg = min_load_kg
        self._samples: deque[WeightSample] = deque(maxlen=window)
        self._armed = True

    @property
    def armed(self) -> bool:
        """Whether the next stable load will be reported."""
        return self._armed

    def add(self, sample: WeightSample) -> Event | None:
        """Feed one sample; returns the stable-weight event when this sample settles a load."""
        if sample.gross_kg < self.min_load_kg:
            self._armed = True
            self._samples.clear()
            return None
        self._samples.append(sample)
        if not self._armed or len(self._samples) < self.window:
            return None
        if any(s.motion for s in self._samples):
            return None
        weights = [s.gross_kg for s in self._samples]
        spread = max(weights) - min(weights)
        mean = sum(weights) / len(weights)
        if spread > self.max_spread_kg or mean < self.min_load_kg:
            return None
        self._armed = False
        data = {
            "scale_id": self.scale_id,
            "kg": round(mean, 3),
            "spread_kg": round(spread, 3),
            "samples": len(weights),
            "settled_at": format_ts(sample.ts),
        }
        return Event(STABLE_WEIGHT, self.scale_id, sample.ts, data)

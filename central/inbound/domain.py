"""Receiving rules without I/O: match a gate pass and a weight against an ASN."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from firmware_interfaces.epc import EpcError, decode_sgtin96


class AsnStatus(StrEnum):
    """Life of an ASN: expected -> arrived -> received, or held in discrepancy/rejected."""

    EXPECTED = "expected"
    ARRIVED = "arrived"
    RECEIVED = "received"
    DISCREPANCY = "discrepancy"
    REJECTED = "rejected"


class DiscrepancyKind(StrEnum):
    """What a receipt check can find wrong."""

    MISSING_TAGS = "missing_tags"
    UNKNOWN_TAGS = "unknown_tags"
    SURPLUS_TAGS = "surplus_tags"
    WEIGHT_OUT_OF_TOLERANCE = "weight_out_of_tolerance"
    NO_OPEN_ASN = "no_open_asn"


class Resolution(StrEnum):
    """A supervisor's decision on a held receipt."""

    ACCEPT_COUNTED = "accept_counted"
    REJECT = "reject"


@dataclass(frozen=True)
class ExpectedLine:
    """One ASN line as the check needs it."""

    line_id: int
    sku_code: str
    gtin: str | None
    qty: int
    unit_weight_kg: Decimal


@dataclass(frozen=True)
class WeightTolerance:
    """Allowed difference: the larger of a percentage of the expected weight and a floor."""

    pct: Decimal
    floor_kg: Decimal

    def allowed(self, expected_kg: Decimal) -> Decimal:
        """The absolute tolerance for a pallet of `expected_kg`."""
        return max(self.floor_kg, expected_kg * self.pct / Decimal(100))


@dataclass
class ReceiptCheck:
    """What the tags and the scale say against what the ASN says."""

    counted: dict[int, int]  # line_id -> tags read for it
    missing_epcs: list[str] = field(default_factory=list)
    unknown_epcs: list[str] = field(default_factory=list)
    shortages: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku -> (expected, read)
    surpluses: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku -> (expected, read)
    expected_kg: Decimal | None = None
    measured_kg: Decimal | None = None
    allowed_kg: Decimal | None = None

    @property
    def weight_ok(self) -> bool:
        """True when no weight was taken or it is within tolerance."""
        if self.measured_kg is None or self.expected_kg is None or self.allowed_kg is None:
            return True
        return abs(self.measured_kg - self.expected_kg) <= self.allowed_kg

    def problems(self) -> list[tuple[DiscrepancyKind, dict[str, object]]]:
        """Every discrepancy found, with the details a supervisor needs."""
        found: list[tuple[DiscrepancyKind, dict[str, object]]] = []
        if self.missing_epcs or self.shortages:
            found.append(
                (
                    DiscrepancyKind.MISSING_TAGS,
                    {
                        "missing_epcs": self.missing_epcs,
                        "shortages": {
                            k: {"expected": e, "read": r} for k, (e, r) in self.shortages.items()
                        },
                    },
                )
            )
        if self.unknown_epcs:
            found.append((DiscrepancyKind.UNKNOWN_TAGS, {"unknown_epcs": self.unknown_epcs}))
        if self.surpluses:
            surplus = {k: {"expected": e, "read": r} for k, (e, r) in self.surpluses.items()}
            found.append((DiscrepancyKind.SURPLUS_TAGS, {"surpluses": surplus}))
        if not self.weight_ok:
            found.append(
                (
                    DiscrepancyKind.WEIGHT_OUT_OF_TOLERANCE,
                    {
                        "expected_kg": str(self.expected_kg),
                        "measured_kg": str(self.measured_kg),
                        "allowed_kg": str(self.allowed_kg),
                    },
                )
            )
        return found


def line_for_epc(epc: str, lines_by_gtin: dict[str, ExpectedLine]) -> ExpectedLine | None:
    """The ASN line an SGTIN-96 EPC belongs to, or None when it is not on the ASN."""
    try:
        gtin = decode_sgtin96(epc).gtin
    except EpcError:
        return None
    return lines_by_gtin.get(gtin)


def check_receipt(
    lines: Iterable[ExpectedLine],
    read_epcs: Iterable[str],
    expected_epcs: set[str] | None,
    measured_kg: Decimal | None,
    tare_kg: Decimal,
    tolerance: WeightTolerance,
) -> ReceiptCheck:
    """Compare tags read and the measured gross weight with the ASN."""
    lines = list(lines)
    lines_by_gtin = {line.gtin: line for line in lines if line.gtin}
    reads = sorted({epc.upper() for epc in read_epcs})
    expected = {epc.upper() for epc in expected_epcs} if expected_epcs else None
    counted: Counter[int] = Counter()
    unknown: list[str] = []
    for epc in reads:
        line = line_for_epc(epc, lines_by_gtin)
        if line is None or (expected is not None and epc not in expected):
            unknown.append(epc)
        else:
            counted[line.line_id] += 1
    check = ReceiptCheck(counted=dict(counted), unknown_epcs=unknown)
    if expected is not None:
        check.missing_epcs = sorted(expected - set(reads))
    for line in lines:
        if counted[line.line_id] < line.qty:
            check.shortages[line.sku_code] = (line.qty, counted[line.line_id])
        elif counted[line.line_id] > line.qty:
            check.surpluses[line.sku_code] = (line.qty, counted[line.line_id])
    if measured_kg is not None:
        check.expected_kg = tare_kg + sum((ln.unit_weight_kg * ln.qty for ln in lines), Decimal(0))
        check.measured_kg = measured_kg
        check.allowed_kg = tolerance.allowed(check.expected_kg)
    return check

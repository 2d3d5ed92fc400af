"""Receipt check: tags and weight against the ASN."""

from decimal import Decimal

from firmware_interfaces.epc import Sgtin, encode_sgtin96, gtin_check_digit

from central.inbound.domain import DiscrepancyKind, ExpectedLine, WeightTolerance, check_receipt

TEA = "0690123400011" + gtin_check_digit("0690123400011")
MUG = "0690123400012" + gtin_check_digit("0690123400012")
TOL = WeightTolerance(Decimal("2"), Decimal("0.5"))
LINES = [
    ExpectedLine(1, "TEA", TEA, 3, Decimal("0.620")),
    ExpectedLine(2, "MUG", MUG, 2, Decimal("0.410")),
]
TARE = Decimal("25")
EXPECTED_KG = TARE + 3 * Decimal("0.620") + 2 * Decimal("0.410")  # 27.68


def tags(gtin: str, count: int, start: int = 1) -> list[str]:
    return [encode_sgtin96(Sgtin(gtin, serial)) for serial in range(start, start + count)]


def kinds(check) -> set[str]:  # type: ignore[no-untyped-def]
    return {kind.value for kind, _ in check.problems()}


def test_complete_pallet_in_weight_passes() -> None:
    reads = tags(TEA, 3) + tags(MUG, 2)
    check = check_receipt(LINES, reads, set(reads), EXPECTED_KG + Decimal("0.3"), TARE, TOL)
    assert check.problems() == []
    assert check.counted == {1: 3, 2: 2}


def test_missing_tag_is_reported_by_epc_and_sku() -> None:
    expected = tags(TEA, 3) + tags(MUG, 2)
    check = check_receipt(LINES, expected[1:], set(expected), EXPECTED_KG, TARE, TOL)
    assert kinds(check) == {DiscrepancyKind.MISSING_TAGS}
    assert check.missing_epcs == [expected[0].upper()]
    assert check.shortages == {"TEA": (3, 2)}


def test_unknown_tag_not_on_asn() -> None:
    reads = tags(TEA, 3) + tags(MUG, 2)
    foreign = encode_sgtin96(Sgtin("04012345678901", 9))
    check = check_receipt(LINES, [*reads, foreign, "E2801160600002"], None, None, TARE, TOL)
    assert kinds(check) == {DiscrepancyKind.UNKNOWN_TAGS}
    assert set(check.unknown_epcs) == {foreign, "E2801160600002"}


def test_tag_of_asn_sku_but_not_in_expected_list_is_unknown() -> None:
    expected = tags(TEA, 3) + tags(MUG, 2)
    stranger = tags(TEA, 1, start=500)
    check = check_receipt(LINES, expected + stranger, set(expected), None, TARE, TOL)
    assert check.unknown_epcs == stranger


def test_surplus_of_an_asn_sku_without_expected_list() -> None:
    check = check_receipt(LINES, tags(TEA, 4) + tags(MUG, 2), None, None, TARE, TOL)
    assert kinds(check) == {DiscrepancyKind.SURPLUS_TAGS}


def test_weight_outside_tolerance() -> None:
    reads = tags(TEA, 3) + tags(MUG, 2)
    allowed = TOL.allowed(EXPECTED_KG)
    assert allowed == Decimal("0.5536")  # 2 % of 27.68 kg beats the 0.5 kg floor
    inside = check_receipt(LINES, reads, None, EXPECTED_KG - allowed, TARE, TOL)
    outside = check_receipt(LINES, reads, None, EXPECTED_KG + allowed + Decimal("0.01"), TARE, TOL)
    assert inside.weight_ok and not outside.weight_ok
    assert kinds(outside) == {DiscrepancyKind.WEIGHT_OUT_OF_TOLERANCE}


def test_floor_tolerance_for_light_pallets() -> None:
    assert WeightTolerance(Decimal("2"), Decimal("0.5")).allowed(Decimal("10")) == Decimal("0.5")


def test_duplicate_reads_count_once_and_case_is_ignored() -> None:
    reads = tags(TEA, 3) + tags(MUG, 2)
    check = check_receipt(LINES, reads + [r.lower() for r in reads], set(reads), None, TARE, TOL)
    assert check.problems() == []

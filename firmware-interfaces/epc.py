"""EPC SGTIN-96 (GS1 Tag Data Standard): GTIN + serial <-> the 24 hex digits a reader reports."""

from __future__ import annotations

from dataclasses import dataclass

SGTIN96_HEADER = 0x30
# partition -> (company prefix bits, company prefix digits, item reference bits, digits)
_PARTITIONS = {
    0: (40, 12, 4, 1),
    1: (37, 11, 7, 2),
    2: (34, 10, 10, 3),
    3: (30, 9, 14, 4),
    4: (27, 8, 17, 5),
    5: (24, 7, 20, 6),
    6: (20, 6, 24, 7),
}
_PARTITION_BY_PREFIX_DIGITS = {v[1]: k for k, v in _PARTITIONS.items()}
MAX_SERIAL = (1 << 38) - 1


class EpcError(ValueError):
    """An EPC that is not a well-formed SGTIN-96."""


@dataclass(frozen=True)
class Sgtin:
    """A serialised GTIN: the trade item and the serial of one physical unit."""

    gtin: str
    serial: int
    company_prefix_digits: int = 7
    filter_value: int = 1


def gtin_check_digit(first13: str) -> str:
    """GS1 mod-10 check digit for the first 13 digits of a GTIN-14."""
    if len(first13) != 13 or not first13.isdigit():
        raise EpcError(f"need 13 digits, got {first13!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(first13))
    return str((10 - total % 10) % 10)


def normalise_gtin(gtin: str) -> str:
    """GTIN-8/12/13/14 as a GTIN-14 with a verified check digit."""
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        raise EpcError(f"not a GTIN: {gtin!r}")
    gtin14 = gtin.zfill(14)
    if gtin_check_digit(gtin14[:13]) != gtin14[13]:
        raise EpcError(f"wrong check digit in GTIN {gtin!r}")
    return gtin14


def encode_sgtin96(item: Sgtin) -> str:
    """The 24 uppercase hex digits of an SGTIN-96 EPC."""
    gtin14 = normalise_gtin(item.gtin)
    if not 0 <= item.serial <= MAX_SERIAL:
        raise EpcError(f"serial {item.serial} does not fit in 38 bits")
    partition = _PARTITION_BY_PREFIX_DIGITS.get(item.company_prefix_digits)
    if partition is None:
        raise EpcError(f"company prefix of {item.company_prefix_digits} digits is not encodable")
    cp_bits, cp_digits, ir_bits, _ = _PARTITIONS[partition]
    company_prefix = int(gtin14[1 : 1 + cp_digits])
    item_reference = int(gtin14[0] + gtin14[1 + cp_digits : 13])
    value = SGTIN96_HEADER
    value = (value << 3) | (item.filter_value & 0b111)
    value = (value << 3) | partition
    value = (value << cp_bits) | company_prefix
    value = (value << ir_bits) | item_reference
    value = (value << 38) | item.serial
    return f"{value:024X}"


def decode_sgtin96(epc_hex: str) -> Sgtin:
    """Parse an SGTIN-96 EPC; EpcError when it is another scheme or malformed."""
    try:
        value = int(epc_hex, 16)
    except ValueError as exc:
        raise EpcError(f"EPC {epc_hex!r} is not hex") from exc
    if len(epc_hex) != 24:
        raise EpcError(f"EPC {epc_hex!r} is not 96 bits")
    if value >> 88 != SGTIN96_HEADER:
        raise EpcError(f"EPC {epc_hex!r} is not an SGTIN-96 (header {value >> 88:#04x})")
    filter_value = (value >> 85) & 0b111
    partition = (value >> 82) & 0b111
    if partition not in _PARTITIONS:
        raise EpcError(f"EPC {epc_hex!r} has invalid partition {partition}")
    cp_bits, cp_digits, ir_bits, ir_digits = _PARTITIONS[partition]
    serial = value & MAX_SERIAL
    item_reference = (value >> 38) & ((1 << ir_bits) - 1)
    company_prefix = (value >> (38 + ir_bits)) & ((1 << cp_bits) - 1)
    cp_text = str(company_prefix).zfill(cp_digits)
    ir_text = str(item_reference).zfill(ir_digits)
    if len(cp_text) != cp_digits or len(ir_text) != ir_digits:
        raise EpcError(f"EPC {epc_hex!r} has fields too large for partition {partition}")
    first13 = ir_text[0] + cp_text + ir_text[1:]
    return Sgtin(first13 + gtin_check_digit(first13), serial, cp_digits, filter_value)

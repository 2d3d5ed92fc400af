"""SGTIN-96 codec against the GS1 Tag Data Standard example and round trips."""

import pytest
from firmware_interfaces.epc import (
    EpcError,
    Sgtin,
    decode_sgtin96,
    encode_sgtin96,
    gtin_check_digit,
)
from hypothesis import given
from hypothesis import strategies as st


def test_gs1_tds_example() -> None:
    # GS1 TDS: urn:epc:id:sgtin:0614141.812345.6789, filter 3 -> 3074257BF7194E4000001A85
    assert encode_sgtin96(Sgtin("80614141123458", 6789, 7, 3)) == "3074257BF7194E4000001A85"
    assert decode_sgtin96("3074257BF7194E4000001A85") == Sgtin("80614141123458", 6789, 7, 3)


@given(
    digits=st.sampled_from([6, 7, 8, 9, 10, 11, 12]),
    body=st.text("0123456789", min_size=13, max_size=13),
    serial=st.integers(0, 2**38 - 1),
)
def test_round_trip(digits: int, body: str, serial: int) -> None:
    gtin = body + gtin_check_digit(body)
    assert decode_sgtin96(encode_sgtin96(Sgtin(gtin, serial, digits))) == Sgtin(
        gtin, serial, digits
    )


@pytest.mark.parametrize(
    ("epc", "reason"),
    [
        ("E28011606000020", "96 bits"),
        ("ZZ74257BF7194E4000001A85", "not hex"),
        ("E2801160600002000000ABCD", "not an SGTIN"),
    ],
)
def test_rejects_non_sgtin(epc: str, reason: str) -> None:
    with pytest.raises(EpcError, match=reason):
        decode_sgtin96(epc)


def test_rejects_wrong_check_digit() -> None:
    with pytest.raises(EpcError, match="check digit"):
        encode_sgtin96(Sgtin("80614141123459", 1))

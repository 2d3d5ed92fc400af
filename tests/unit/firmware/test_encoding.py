"""strict_ascii_json: orjson's speed, the standard encoder's output rules."""

from __future__ import annotations

import json
import math

import pytest
from firmware_interfaces.encoding import strict_ascii_json


@pytest.mark.parametrize(
    "value", [{"epc": "E2", "rssi": -55.0, "n": 3}, {"a": None}, {"x": "\u00e9\n\t\\"}, [2**70]]
)
def test_strict_ascii_json_is_compact_ascii_json_of_the_same_value(value):
    text = strict_ascii_json(value)
    assert text.isascii() and " " not in text.replace("\\", "")
    assert json.loads(text) == value


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_strict_ascii_json_refuses_nan_and_infinity(bad):
    with pytest.raises(ValueError):
        strict_ascii_json({"v": bad})

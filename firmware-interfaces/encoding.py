"""Compact JSON encoding for the hot paths of edge and central (wire form of the contracts)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson


def compact_encoder(allow_nan: bool = True) -> Callable[[Any], str]:
    """A compact JSON encoder made once (json.dumps builds a new C encoder on every call)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return json.JSONEncoder(separators=(",", ":"), allow_nan=allow_nan).encode
    encoder = json.JSONEncoder(separators=(",", ":"), allow_nan=allow_nan)
    chunks = make(
        None, encoder.default, json.encoder.encode_basestring_ascii, None, ":", ",",
        False, False, allow_nan,
    )  # fmt: skip

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


_strict = compact_encoder(allow_nan=False)


def strict_ascii_json(value: Any) -> str:
    """Compact ASCII JSON refusing NaN and infinity (ValueError), as compact_encoder(False) does.

    orjson writes NaN as null and non-ASCII as UTF-8: an output with either goes the slow way.
    """
    try:
        out = orjson.dumps(value)
    except TypeError:
        return _strict(value)
    if b"null" in out or not out.isascii():
        return _strict(value)
    return out.decode()

"""Pure converters: device payload bytes -> typed readings -> edge events (no I/O)."""

from __future__ import annotations

from typing import Any

from firmware_interfaces.validation import ContractError, decode_json


def decode(schema: str, raw: bytes | str) -> dict[str, Any]:
    """decode_json, also turning pathologically nested JSON into a ContractError."""
    try:
        payload: dict[str, Any] = decode_json(schema, raw)
    except RecursionError as exc:
        raise ContractError(schema, "not JSON: nested too deeply") from exc
    return payload

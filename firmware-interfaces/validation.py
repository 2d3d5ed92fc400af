"""Load the JSON Schemas of the wire contracts and validate payloads against them."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from firmware_interfaces.fastcheck import Check, compile_check
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMA_PACKAGE = "firmware_interfaces"


class ContractError(ValueError):
    """A payload that breaks its wire contract; the message says where and why."""

    def __init__(self, schema: str, reason: str) -> None:
        super().__init__(f"{schema}: {reason}")
        self.schema = schema
        self.reason = reason


def schema_names() -> list[str]:
    """Names of the project's own schemas (without the .json suffix)."""
    folder = resources.files(SCHEMA_PACKAGE).joinpath("schemas")
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema called `name` (own schemas, or `vda5050/<topic>`)."""
    if name.startswith("vda5050/"):
        path = resources.files(SCHEMA_PACKAGE).joinpath(
            "vda5050", name.split("/", 1)[1] + ".schema"
        )
    else:
        path = resources.files(SCHEMA_PACKAGE).joinpath("schemas", name + ".json")
    if not path.is_file():
        raise KeyError(f"no schema called {name!r}")
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def _fast_check(name: str) -> Check | None:
    return compile_check(load_schema(name))


def validate(name: str, payload: Any) -> Any:
    """Return `payload` if it obeys schema `name`, else raise ContractError with the reason."""
    fast = _fast_check(name)
    if fast is not None and fast(payload):
        return payload  # the fast check never accepts what jsonschema would refuse
    error = best_match(_validator(name).iter_errors(payload))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise ContractError(name, f"at {where}: {error.message}")
    return payload


def decode_json(name: str, raw: bytes | str) -> Any:
    """Parse raw bytes as JSON and validate them against schema `name`."""
    try:
        payload = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(name, f"not JSON: {exc}") from exc
    except RecursionError as exc:
        raise ContractError(name, "not JSON we accept: nested too deeply") from exc
    try:
        return validate(name, payload)
    except RecursionError as exc:
        raise ContractError(name, "payload nested too deeply to validate") from exc


EVENT_DATA_SCHEMAS = {
    "rfid.gate_pass": "event_gate_pass",
    "scale.stable_weight": "event_stable_weight",
    "device.status": "device_status",
    "edge.dead_letter": "event_dead_letter",
    "telemetry.sample": "event_telemetry_sample",
    "rfid.tag_read": "event_tag_read",
    "edge.alarm": "event_alarm",
    "agv.state": "event_agv_state",
    "agv.connection": "event_agv_connection",
    "arm.state": "event_arm_state",
    "arm.pick_result": "event_arm_pick_result",
}


def validate_event(event: dict[str, Any]) -> dict[str, Any]:
    """Validate one uplink event's `data` against the schema of its `type`."""
    schema = EVENT_DATA_SCHEMAS.get(event.get("type", ""))
    if schema is None:
        raise ContractError("uplink_batch", f"unknown event type {event.get('type')!r}")
    validate(schema, event.get("data"))
    return event

"""A fast yes/no check for the subset of JSON Schema the project's own schemas use.

`compile_check(schema)` turns a schema into a predicate that never accepts what the full
validator (jsonschema) rejects; it may reject more (floats such as 1.0 for an integer), in which
case the caller asks jsonschema, which also gives the reason. A schema using any keyword outside
the subset gets no fast check (None): jsonschema does all the work. This keeps the hot paths
(every RFID read on the edge, every event at central) about twenty times cheaper.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = {"$schema", "$id", "title", "description", "examples", "$comment", "default"}
_SUPPORTED = _ANNOTATIONS | {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "pattern",
    "enum",
}


class _Unsupported(Exception):
    """The schema uses a keyword this module does not check."""


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    raise _Unsupported(f"type {name!r}")


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda _v: True
    if not isinstance(schema, dict):
        raise _Unsupported("non-object schema")
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise _Unsupported(", ".join(sorted(unknown)))
    kind = schema.get("type")
    if kind == "string":
        return _string_node(schema)
    if kind in ("integer", "number") and "enum" not in schema:
        return _number_node(schema, integer=kind == "integer")
    if kind == "object" and "enum" not in schema:
        return _object_node(schema)
    if kind == "array" and "enum" not in schema:
        return _array_node(schema)
    return _generic_node(schema)


def _string_node(schema: dict[str, Any]) -> Check:
    search = re.compile(schema["pattern"]).search if "pattern" in schema else None
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    enum = frozenset(e for e in schema["enum"] if isinstance(e, str)) if "enum" in schema else None

    def check(v: Any) -> bool:
        if not isinstance(v, str):
            return False
        if enum is not None and v not in enum:
            return False
        if len(v) < lo or (hi is not None and len(v) > hi):
            return False
        return search is None or search(v) is not None

    return check


def _number_node(schema: dict[str, Any], integer: bool) -> Check:
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    lo, hi = schema.get("minimum"), schema.get("maximum")
    for key in ("pattern", "minLength", "maxLength", "minItems", "maxItems", "items"):
        if key in schema:
            raise _Unsupported(f"{key} on a number")

    def check(v: Any) -> bool:
        if not isinstance(v, kinds) or isinstance(v, bool):
            return False
        return (lo is None or v >= lo) and (hi is None or v <= hi)

    return check


def _object_node(schema: dict[str, Any]) -> Check:
    props = {k: _compile(s) for k, s in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is False else _compile(extra)
    for key in ("pattern", "minLength", "maxLength", "minItems", "maxItems", "items"):
        if key in schema:
            raise _Unsupported(f"{key} on an object")

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return False
        for key in required:
            if key not in v:
                return False
        for key, value in v.items():
            prop = props.get(key)
            if prop is not None:
                if not prop(value):
                    return False
            elif extra_check is None or not extra_check(value):
                return False
        return True

    return check


def _array_node(schema: dict[str, Any]) -> Check:
    item = _compile(schema["items"]) if "items" in schema else None
    lo, hi = schema.get("minItems", 0), schema.get("maxItems")
    for key in ("pattern", "minLength", "maxLength", "properties", "required"):
        if key in schema:
            raise _Unsupported(f"{key} on an array")
    if "additionalProperties" in schema:
        raise _Unsupported("additionalProperties on an array")

    def check(v: Any) -> bool:
        if not isinstance(v, list) or len(v) < lo or (hi is not None and len(v) > hi):
            return False
        return item is None or all(map(item, v))

    return check


def _generic_node(schema: dict[str, Any]) -> Check:
    for key in set(schema) - _ANNOTATIONS - {"type", "enum"}:
        raise _Unsupported(f"{key} without a single type")
    raw = schema.get("type")
    names: list[str] | None = None
    if raw is not None:
        names = raw if isinstance(raw, list) else [raw]
        for n in names:
            _is_type(None, n)  # raises for unknown type names
    allowed = (
        [(type(e), e) for e in schema["enum"] if isinstance(e, str | int | bool)]
        if "enum" in schema
        else None
    )

    def check(v: Any) -> bool:
        if names is not None and not any(_is_type(v, n) for n in names):
            return False
        return allowed is None or any(type(v) is t and v == e for t, e in allowed)

    return check


class _Generated:
    """Python source for a check (one function per object or array, the rest inline): about
    twice as fast as the closures above, with exact-type tests (which only reject more)."""

    def __init__(self) -> None:
        self.env: dict[str, Any] = {"_MISSING": _MISSING}
        self.source: list[str] = []
        self.count = 0

    def name(self, prefix: str, value: Any = None) -> str:
        self.count += 1
        name = f"{prefix}{self.count}"
        if value is not None:
            self.env[name] = value
        return name

    def expr(self, schema: Any, x: str) -> str:
        if schema is True:
            return "True"
        kind = schema.get("type")
        if kind == "string":
            parts = [f"type({x}) is str"]
            if "enum" in schema:
                enum = frozenset(e for e in schema["enum"] if isinstance(e, str))
                parts.append(f"{x} in {self.name('_e', enum)}")
            if schema.get("minLength", 0):
                parts.append(f"len({x}) >= {int(schema['minLength'])}")
            if "maxLength" in schema:
                parts.append(f"len({x}) <= {int(schema['maxLength'])}")
            if "pattern" in schema:
                search = self.name("_p", re.compile(schema["pattern"]).search)
                parts.append(f"{search}({x}) is not None")
            return "(" + " and ".join(parts) + ")"
        if kind in ("integer", "number") and "enum" not in schema:
            _number_node(schema, integer=kind == "integer")  # raises for misplaced keywords
            parts = [
                f"type({x}) is int"
                if kind == "integer"
                else f"(type({x}) is float or type({x}) is int)"
            ]
            for key, op in (("minimum", ">="), ("maximum", "<=")):
                if key in schema:
                    parts.append(f"{x} {op} {self.name('_n', schema[key])}")
            return "(" + " and ".join(parts) + ")"
        if kind == "object" and "enum" not in schema:
            return f"{self._object(schema)}({x})"
        if kind == "array" and "enum" not in schema:
            return f"{self._array(schema)}({x})"
        return f"{self.name('_g', _generic_node(schema))}({x})"

    def _object(self, schema: dict[str, Any]) -> str:
        _object_node(schema)  # raises for misplaced keywords
        props: dict[str, Any] = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        fn = self.name("_f")
        lines = [f"def {fn}(v):", "    if type(v) is not dict:", "        return False"]
        required = [f"{k!r} not in v" for k in schema.get("required", ())]
        if required:
            lines += [f"    if {' or '.join(required)}:", "        return False"]
        keys = self.name("_k", frozenset(props))
        if extra is False:
            lines += [f"    if not v.keys() <= {keys}:", "        return False"]
        for key, sub in props.items():
            lines += [
                f"    x = v.get({key!r}, _MISSING)",
                f"    if x is not _MISSING and not {self.expr(sub, 'x')}:",
                "        return False",
            ]
        if extra is not False and extra is not True:
            lines += [
                "    for k, x in v.items():",
                f"        if k not in {keys} and not {self.expr(extra, 'x')}:",
                "            return False",
            ]
        self.source += [*lines, "    return True", ""]
        return fn

    def _array(self, schema: dict[str, Any]) -> str:
        _array_node(schema)  # raises for misplaced keywords
        fn = self.name("_f")
        bad = ["type(v) is not list"]
        if schema.get("minItems", 0):
            bad.append(f"len(v) < {int(schema['minItems'])}")
        if "maxItems" in schema:
            bad.append(f"len(v) > {int(schema['maxItems'])}")
        lines = [f"def {fn}(v):", f"    if {' or '.join(bad)}:", "        return False"]
        if "items" in schema:
            lines += [
                "    for x in v:",
                f"        if not {self.expr(schema['items'], 'x')}:",
                "            return False",
            ]
        self.source += [*lines, "    return True", ""]
        return fn

    def build(self, schema: Any) -> Check:
        top = self.expr(schema, "x")
        self.source += ["def _check(x):", f"    return {top}", ""]
        exec("\n".join(self.source), self.env)  # the source is built above from a schema
        check: Check = self.env["_check"]
        return check


_MISSING = object()


def compile_check(schema: dict[str, Any]) -> Check | None:
    """A predicate for `schema`, or None if the schema uses keywords outside the subset."""
    try:
        _compile(schema)  # refuses schemas outside the subset
        return _Generated().build(schema)
    except (_Unsupported, re.error):
        return None

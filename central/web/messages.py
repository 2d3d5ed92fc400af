"""Domain errors as translatable messages: known messages get a key, others show as they are."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from central.common.errors import DomainError
from central.deps import Container
from central.web.cookies import Flash

T = TypeVar("T")
_Q = r"['\"](?P<scanned>.*)['\"]"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (key, re.compile(pattern))
    for key, pattern in (
        ("error.wrong_location", rf"^wrong location: scanned {_Q}, go to (?P<expected>\S+)$"),
        (
            "error.wrong_item",
            rf"^wrong item: scanned {_Q}, pick (?P<expected>\S+) \((?P<name>.*)\)$",
        ),
        ("error.qty_range", r"^quantity must be between 1 and (?P<max>\d+)$"),
        ("error.short_range", r"^a short pick finds between 0 and (?P<max>-?\d+)$"),
        ("error.unknown_item", rf"^unknown item: {_Q} is no SKU code"),
        ("error.unknown_location", rf"^unknown location {_Q}$"),
        ("error.not_storage", r"^location (?P<loc>\S+) is a \S+: put away into storage$"),
        ("error.holds_only", r"^(?P<loc>\S+) holds only (?P<qty>\d+) of (?P<sku>\S+)$"),
        ("error.nothing_waiting", r"^no (?P<sku>\S+) waiting at "),
        ("error.tote_empty", r"^tote (?P<tote>\S+) holds nothing picked$"),
        ("error.not_picked", r"^order (?P<order>\d+) is \w+: pick it completely"),
        (
            "error.weight_mismatch",
            r"^parcel weighs (?P<measured>\S+) kg, expected (?P<expected>\S+) kg",
        ),
        ("error.no_weight", r"^no recent weight from the pack station's scale"),
    )
)


def flash_for(error: DomainError) -> Flash:
    """The translatable message for a domain error."""
    text = str(error)
    for key, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            return Flash("error", key, match.groupdict())
    return Flash("error", "error.generic", {"message": text})


def attempt(container: Container, work: Callable[[Session], T]) -> tuple[T | None, Flash | None]:
    """Run `work` in one transaction; a domain error rolls it back and becomes a message."""
    try:
        with container.sessions.begin() as session:
            return work(session), None
    except DomainError as exc:
        return None, flash_for(exc)


def ok(key: str, **args: Any) -> Flash:
    """A success message."""
    return Flash("ok", key, args)


def error(key: str, **args: Any) -> Flash:
    """An error message."""
    return Flash("error", key, args)

"""Browser cookies of the web UI: the access token, the CSRF token and one-shot messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, Response

TOKEN_COOKIE = "whs_token"
CSRF_COOKIE = "whs_csrf"
FLASH_COOKIE = "whs_flash"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(
    response: Response, request: Request, name: str, value: str, max_age: int | None = None
) -> None:
    """An HttpOnly, SameSite=Strict cookie for the whole site (Secure over HTTPS)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    """Remove a cookie set by set_cookie."""
    response.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=_secure(request)
    )


def csrf_token(request: Request) -> tuple[str, bool]:
    """The browser's CSRF token, or a new one; True when it must be set as a cookie."""
    current = request.cookies.get(CSRF_COOKIE, "")
    if len(current) >= 32:
        return current, False
    return secrets.token_urlsafe(32), True


def csrf_ok(request: Request, submitted: str) -> bool:
    """Double-submit check: the form's token equals the cookie's."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return len(cookie) >= 32 and hmac.compare_digest(cookie.encode(), submitted.encode())


@dataclass(frozen=True)
class Flash:
    """A message shown once on the next page: a translation key and its arguments."""

    level: str  # "ok" or "error"
    key: str
    args: dict[str, Any] = field(default_factory=dict)


def _sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()[:32]


def encode_flash(flash: Flash, secret: str) -> str:
    """A signed cookie value for `flash`."""
    body = base64.urlsafe_b64encode(
        json.dumps([flash.level, flash.key, flash.args], default=str).encode()
    )
    return f"{body.decode()}.{_sign(secret, body)}"


def decode_flash(value: str | None, secret: str) -> Flash | None:
    """The flash in a cookie value, if its signature holds."""
    if not value or "." not in value:
        return None
    body, _, signature = value.rpartition(".")
    if not hmac.compare_digest(signature, _sign(secret, body.encode())):
        return None
    try:
        level, key, args = json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None
    return Flash(str(level), str(key), dict(args))

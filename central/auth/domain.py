"""Roles, password hashing and access tokens (no I/O)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import jwt


class Role(StrEnum):
    """What a user or device may do; see ALLOWED for who passes which gate."""

    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    DEVICE = "device"
    VIEWER = "viewer"


# Named gates the API uses, and the roles that pass each.
READ = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR, Role.VIEWER})
OPERATE = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.OPERATOR})
SUPERVISE = frozenset({Role.ADMIN, Role.SUPERVISOR})
ADMINISTER = frozenset({Role.ADMIN})
INGEST = frozenset({Role.ADMIN, Role.DEVICE})

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """A salted scrypt hash, self-describing: scrypt$n$r$p$salt$hash."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(candidate, base64.b64decode(digest))


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user name (or device id) and its role."""

    name: str
    role: Role


class InvalidToken(Exception):
    """The bearer token is missing, expired, forged or malformed."""


def issue_token(principal: Principal, secret: str, now: datetime, lifetime: timedelta) -> str:
    """A signed HS256 JWT for `principal`, valid for `lifetime`."""
    claims = {
        "sub": principal.name,
        "role": principal.role.value,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(token: str, secret: str) -> Principal:
    """The principal a token was issued to; InvalidToken when it cannot be trusted."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
        )
        return Principal(str(claims["sub"]), Role(claims["role"]))
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc

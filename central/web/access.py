"""Who is signed in to the web UI (token cookie), role checks, and the CSRF check on POSTs."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from central.auth.domain import OPERATE, InvalidToken, Principal, Role, read_token
from central.deps import Container
from central.web.cookies import TOKEN_COOKIE, csrf_ok
from central.web.render import page


class SignInRequired(Exception):
    """No valid token cookie: the browser goes to the sign-in page and comes back."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class WebForbidden(Exception):
    """The user may not do this; shown as a page with a translated message."""

    def __init__(self, key: str, role: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.role = role


def principal_from_cookie(request: Request) -> Principal | None:
    """The principal of the token cookie, if it is valid."""
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        return None
    container: Container = request.app.state.container
    try:
        principal = read_token(token, container.settings.secret_key.get_secret_value())
    except InvalidToken:
        return None
    return None if principal.role is Role.DEVICE else principal


def signed_in(request: Request) -> Principal:
    """The signed-in user; others are sent to the sign-in page."""
    principal = principal_from_cookie(request)
    if principal is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(here if request.method == "GET" else "/h/tasks")
    return principal


def must(principal: Principal, roles: frozenset[Role] = OPERATE) -> None:
    """Refuse a user whose role is not in `roles` (as the API does)."""
    if principal.role not in roles:
        raise WebForbidden("error.forbidden", principal.role.value)


def csrf_checked(request: Request, csrf: Annotated[str, Form()] = "") -> None:
    """Refuse a POST whose form token does not match the CSRF cookie."""
    if not csrf_ok(request, csrf):
        raise WebForbidden("error.csrf")


User = Annotated[Principal, Depends(signed_in)]
Csrf = Annotated[None, Depends(csrf_checked)]


def safe_next(url: str | None, default: str = "/h/tasks") -> str:
    """A local path to return to (no other hosts)."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return default


async def sign_in_required(request: Request, exc: Exception) -> RedirectResponse:
    """Send the browser to the sign-in page."""
    target = exc.next_url if isinstance(exc, SignInRequired) else "/h/tasks"
    return RedirectResponse(f"/h/signin?next={quote(target, safe='/')}", status_code=303)


async def forbidden(request: Request, exc: Exception) -> HTMLResponse:
    """A 403 page saying why, in the user's language."""
    key = exc.key if isinstance(exc, WebForbidden) else "error.forbidden"
    role = exc.role if isinstance(exc, WebForbidden) else ""
    return page(
        request,
        "h_error.html",
        principal_from_cookie(request),
        status_code=403,
        message_key=key,
        role=role,
    )

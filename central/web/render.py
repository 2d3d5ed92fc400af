"""Page rendering: Jinja templates with the user's language, CSRF token and one-shot message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from central.auth.domain import OPERATE, Principal
from central.deps import Container
from central.web.cookies import (
    CSRF_COOKIE,
    FLASH_COOKIE,
    Flash,
    clear_cookie,
    csrf_token,
    decode_flash,
    encode_flash,
    set_cookie,
)
from central.web.i18n import LANG_COOKIE, Translator, choose_language

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def translator(request: Request) -> Translator:
    """The translator for this request's language (cookie, else Accept-Language)."""
    return Translator(
        choose_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    )


def page(
    request: Request,
    template: str,
    principal: Principal | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render a template with the common context; sets the CSRF cookie on first visit.

    `can_act` (show the buttons that change things) defaults to the operator roles.
    """
    context.setdefault("can_act", principal is not None and principal.role in OPERATE)
    t = translator(request)
    token, fresh = csrf_token(request)
    secret = _container(request).settings.secret_key.get_secret_value()
    flash = decode_flash(request.cookies.get(FLASH_COOKIE), secret)
    html = TEMPLATES.get_template(template).render(
        t=t,
        lang=t.lang,
        user=principal,
        csrf=token,
        flash=flash,
        path=request.url.path,
        full_path=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if fresh:
        set_cookie(response, request, CSRF_COOKIE, token)
    if flash is not None or FLASH_COOKIE in request.cookies:
        clear_cookie(response, request, FLASH_COOKIE)
    return response


def redirect(request: Request, url: str, flash: Flash | None = None) -> RedirectResponse:
    """303 See Other to `url` (POST-redirect-GET), carrying a one-shot message."""
    response = RedirectResponse(url, status_code=303)
    if flash is not None:
        secret = _container(request).settings.secret_key.get_secret_value()
        set_cookie(response, request, FLASH_COOKIE, encode_flash(flash, secret), max_age=120)
    return response

"""Sign in and out, the language switch, and the "my tasks" screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from central.auth import service as auth
from central.auth.domain import SUPERVISE, issue_token
from central.common.clock import utcnow
from central.deps import ContainerDep, SessionDep
from central.inbound.putaway import stock_at_docks
from central.inventory import service as inventory
from central.web import queries
from central.web.access import Csrf, User, principal_from_cookie, safe_next
from central.web.cookies import TOKEN_COOKIE, clear_cookie, set_cookie
from central.web.i18n import LANG_COOKIE, LANGUAGES
from central.web.messages import error, ok
from central.web.render import page, redirect

router = APIRouter(include_in_schema=False)
ONE_YEAR = 365 * 24 * 3600


@router.get("/h")
@router.get("/h/")
def home() -> RedirectResponse:
    """The handheld starts at the task list."""
    return RedirectResponse("/h/tasks", status_code=303)


@router.get("/h/signin", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str = "/h/tasks") -> HTMLResponse:
    """The sign-in form."""
    return page(request, "h_signin.html", principal_from_cookie(request), next_url=safe_next(next))


@router.post("/h/signin")
def sign_in(
    request: Request,
    container: ContainerDep,
    _: Csrf,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/h/tasks",
) -> RedirectResponse:
    """Check the password; the token goes into an HttpOnly, SameSite=Strict cookie."""
    with container.sessions.begin() as session:
        principal = auth.authenticate(session, username.strip(), password)
    target = safe_next(next)
    if principal is None:
        return redirect(request, f"/h/signin?next={quote(target, safe='/')}", error("error.signin"))
    minutes = container.settings.access_token_minutes
    token = issue_token(
        principal,
        container.settings.secret_key.get_secret_value(),
        utcnow(),
        timedelta(minutes=minutes),
    )
    response = redirect(request, target)
    set_cookie(response, request, TOKEN_COOKIE, token, max_age=minutes * 60)
    return response


@router.post("/h/signout")
def sign_out(request: Request, _: Csrf) -> RedirectResponse:
    """Forget the token cookie."""
    response = redirect(request, "/h/signin", ok("signin.signed_out"))
    clear_cookie(response, request, TOKEN_COOKIE)
    return response


@router.post("/h/lang")
def switch_language(
    request: Request,
    _: Csrf,
    lang: Annotated[str, Form()] = "en",
    next: Annotated[str, Form()] = "/h/tasks",
) -> RedirectResponse:
    """Remember the chosen language in a cookie."""
    response = redirect(request, safe_next(next))
    if lang in LANGUAGES:
        set_cookie(response, request, LANG_COOKIE, lang, max_age=ONE_YEAR)
    return response


@router.get("/h/tasks", response_class=HTMLResponse)
def tasks(
    request: Request, session: SessionDep, container: ContainerDep, user: User
) -> HTMLResponse:
    """My tasks: the current pick batch, putaway and the pack station."""
    site = inventory.get_site(session, container.settings.site)
    batch = queries.my_batch(session, user.name)
    return page(
        request,
        "h_tasks.html",
        user,
        batch=batch,
        progress=queries.progress(session, batch.id) if batch else None,
        unclaimed=queries.unclaimed_batches(session),
        dock_items=len(stock_at_docks(session, site.id)),
        totes=len(queries.totes_ready(session, site.id)),
        can_supervise=user.role in SUPERVISE,
    )

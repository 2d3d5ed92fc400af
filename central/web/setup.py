"""Wire the web UI into the app: routers, static files, and the redirect/403 handlers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from central.web import (
    auth_views,
    dash_views,
    fleet_views,
    pack_views,
    pick_views,
    putaway_views,
)
from central.web.access import SignInRequired, WebForbidden, forbidden, sign_in_required

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    """Add the handheld (/h/) and dashboard (/dash/) screens to `app`."""
    app.mount("/h/static", StaticFiles(directory=STATIC), name="web-static")
    for module in (auth_views, pick_views, putaway_views, pack_views, dash_views, fleet_views):
        app.include_router(module.router)
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(WebForbidden, forbidden)

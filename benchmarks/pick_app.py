"""The central app for the pick-latency benchmark, plus a route that touches no database."""

from __future__ import annotations

from fastapi import FastAPI

from central.app import create_app


def create() -> FastAPI:
    """`uvicorn --factory benchmarks.pick_app:create`: settings from WHS_* variables."""
    app = create_app(run_ingest=False)

    @app.get("/bench/ping")
    def ping() -> dict[str, bool]:
        """No database, no auth: the floor of what a request costs in this server."""
        return {"ok": True}

    return app

"""What the browser tests need: a real server on a free port, Chromium, and API set-up calls."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import USER_PASSWORD, seeded_sessions
from tests.orders_helpers import order
from whs.broker import find_free_port

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("WHS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}


def require_chromium() -> str:
    """The Chromium binary; fails (never skips) with how to install it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `bash scripts/setup.sh` or "
            "`apt-get install -y chromium fonts-wqy-microhei` (or set WHS_CHROMIUM)",
            pytrace=False,
        )
    return CHROMIUM


@contextmanager
def central_server(database_url: str) -> Iterator[str]:
    """`uvicorn central.app:create_app` on a seeded database and a free port; yields its URL."""
    with seeded_sessions(database_url):
        pass
    port = find_free_port()
    env = {
        **os.environ,
        "WHS_DATABASE_URL": database_url,
        "WHS_INGEST_ENABLED": "false",
        "WHS_WEBHOOKS_ENABLED": "false",
        "WHS_MODE": "dev",
    }
    cmd = [sys.executable, "-m", "uvicorn", "central.app:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                output = server.stdout.read() if server.stdout else ""
                raise RuntimeError(f"central exited early:\n{output}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("central did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class Api:
    """Arranges a scenario through the real REST API (as other systems would)."""

    url: str
    client: httpx.Client = field(init=False)
    tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def headers(self, user: str) -> dict[str, str]:
        """A bearer header for a demo user (admin has password admin)."""
        if user not in self.tokens:
            password = "admin" if user == "admin" else USER_PASSWORD
            form = {"username": user, "password": password}
            response = self.client.post("/api/v1/auth/token", data=form)
            assert response.status_code == 200, response.text
            self.tokens[user] = response.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def call(self, method: str, path: str, user: str = "supervisor", **kw: Any) -> Any:
        """One API call that must succeed; its JSON body."""
        response = self.client.request(method, path, headers=self.headers(user), **kw)
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    def shelve(self, sku: str, qty: int, location: str, lot: str = "") -> None:
        """Stock on a shelf (an inventory adjustment)."""
        body = {
            "site": "wh1",
            "sku": sku,
            "lot": lot,
            "qty": qty,
            "from_location": "V-ADJUSTMENT",
            "to_location": location,
            "reason": "adjustment",
        }
        self.call("POST", "/api/v1/stock/moves", json=body)

    def order_released(self, channel_order_id: str, lines: list[tuple[str, int]]) -> Any:
        """An order taken, allocated and released in a wave; returns the wave."""
        self.call("POST", "/api/v1/orders", json=order(channel_order_id, lines))
        self.call("POST", "/api/v1/outbound/allocate", json={})
        return self.call("POST", "/api/v1/outbound/waves", json={})

    def stock(self, **params: str) -> list[dict[str, Any]]:
        """Stock on hand."""
        result: list[dict[str, Any]] = self.call("GET", "/api/v1/stock", params=params)
        return result

    def pack_scale_weighs(self, kg: Decimal, seq: int = 1) -> None:
        """The edge reports a stable weight of the pack-station scale (an uplink batch)."""
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        data = {
            "scale_id": "scale-pack-01",
            "kg": float(kg),
            "spread_kg": 0.002,
            "samples": 8,
            "settled_at": now,
        }
        event = {"type": "scale.stable_weight", "source": "scale-pack-01", "ts": now, "data": data}
        batch = {"edge_id": "edge-01", "site": "wh1", "epoch": 1, "seq": seq, "sent_at": now}
        ack = self.call(
            "POST", "/api/v1/ingest/batches", "admin", json={**batch, "events": [event]}
        )
        assert ack["applied"] == 1, ack

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fits_width(page: Any) -> bool:
    """True when nothing sticks out sideways (no horizontal scrolling on the phone)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def sign_in(page: Any, url: str, user: str, lang: str | None = None) -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{url}/h/tasks")
    page.fill("#username", user)
    page.fill("#password", USER_PASSWORD)
    press(page, "button[type=submit]")
    assert page.url.endswith("/h/tasks"), page.url


def scan(page: Any, code: str) -> None:
    """What a keyboard-wedge scanner does: type into the focused field, then Enter."""
    with page.expect_navigation():
        page.keyboard.type(code)
        page.keyboard.press("Enter")


def press(page: Any, selector: str) -> None:
    """Tap something that loads the next page, and wait for it."""
    with page.expect_navigation():
        page.click(selector)

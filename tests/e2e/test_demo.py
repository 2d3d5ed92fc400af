"""`whs demo` end to end: child processes, a real broker, trucks, and stock in the ledger."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from whs.broker import find_free_port
from whs.demo import DEMO_USER_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_demo_books_receipts_and_holds_faulty_trucks(tmp_path: Path) -> None:
    port = find_free_port()
    cmd = [sys.executable, "-m", "whs", "demo", "--duration", "45", "--interval", "5"]
    cmd += ["--port", str(port), "--workdir", str(tmp_path / "demo")]
    demo = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
    receipts: list[dict[str, object]] = []
    held: list[dict[str, object]] = []
    try:
        headers: dict[str, str] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                if not headers:
                    form = {"username": "viewer", "password": DEMO_USER_PASSWORD}
                    token = api.post("/api/v1/auth/token", data=form).json()["access_token"]
                    headers = {"Authorization": f"Bearer {token}"}
                moves = api.get("/api/v1/stock/moves", headers=headers).json()
                receipts = [m for m in moves if m["reason"] == "receipt"]
                asns = api.get("/api/v1/inbound/asns", headers=headers).json()
                held = [a for a in asns if a["status"] == "discrepancy"]
            except (httpx.HTTPError, KeyError):
                pass
            if len({m["ref_id"] for m in receipts}) >= 2 and held:
                break
            time.sleep(1)
    finally:
        if demo.poll() is None:
            demo.send_signal(2)  # Ctrl-C
        output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output
    assert len({m["ref_id"] for m in receipts}) >= 2, output
    assert all(
        m["from_location"] == "V-SUPPLIER" and str(m["to_location"]).startswith("DOCK-")
        for m in receipts
    )
    assert held, output
    assert "receipts booked" in output
    assert "Stock ledger" in output and f":{port}/api/v1/stock/moves" in output

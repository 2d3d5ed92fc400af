"""Supervisor dashboard, languages, roles, sign-in cookie and CSRF in a real browser."""

# ruff: noqa: RUF001  (full-width Chinese punctuation is what the screens show)
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from central.seed import DEMO_SKUS
from tests.e2e.web_support import (
    PHONE,
    Api,
    central_server,
    fits_width,
    press,
    shot,
    sign_in,
)
from tests.orders_helpers import order

pytestmark = [pytest.mark.e2e]
TEA = DEMO_SKUS[0]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with central_server(f"sqlite:///{tmp_path / 'whs.db'}") as url:
        yield url


@pytest.fixture
def api(server: str) -> Iterator[Api]:
    client = Api(server)
    yield client
    client.close()


def _scenario(api: Api) -> dict[str, int]:
    """Two orders in the exception queue, a released wave, and a weight nobody expected."""
    api.shelve(TEA.code, 10, "A02-B05")
    pending = api.call(
        "POST", "/api/v1/orders", json=order("D-1", [(TEA.code, 1)], payment_status="pending")
    )
    unknown = api.call("POST", "/api/v1/orders", json=order("D-2", [("NOPE", 1)]))
    api.order_released("D-3", [(TEA.code, 2)])
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    data = {"scale_id": "scale-01", "kg": 31.5, "spread_kg": 0.05, "samples": 8, "settled_at": now}
    event = {"type": "scale.stable_weight", "source": "scale-01", "ts": now, "data": data}
    batch = {"edge_id": "edge-01", "site": "wh1", "epoch": 1, "seq": 1, "sent_at": now}
    api.call("POST", "/api/v1/ingest/batches", "admin", json={**batch, "events": [event]})
    return {"pending": pending["order"]["id"], "unknown": unknown["order"]["id"]}


def test_supervisor_works_the_queues_in_chinese_then_english(
    browser: Any, server: str, api: Api
) -> None:
    ids = _scenario(api)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{server}/dash")
        assert "/h/signin" in page.url and "登录" in page.inner_text("h1")
        page.fill("#username", "supervisor")
        page.fill("#password", "test-pass")
        press(page, "button[type=submit]")
        assert page.url.endswith("/dash")
        assert "主管看板" in page.inner_text("h1")
        assert "订单总数：3" in page.inner_text("#orders")
        assert "异常" in page.inner_text("#orders") and "已下发" in page.inner_text("#orders")
        assert "实时地图" in page.inner_text("#map")
        assert "0/1 行" in page.inner_text("#waves")
        assert "no_open_asn" in page.inner_text("#discrepancies")
        shot(page, "dash-zh-CN-01")
        press(page, f"#order-{ids['pending']} button:has-text('批准')")
        assert f"订单 {ids['pending']} 已批准" in page.inner_text("#flash")
        press(page, f"#order-{ids['unknown']} button:has-text('批准')")
        assert "unknown SKUs" in page.inner_text("#flash")  # the rule's own words
        assert "error" in (page.get_attribute("#flash", "class") or "")
        page.fill(f"#order-{ids['unknown']} input[name=reason]", "SKU does not exist")
        press(page, f"#order-{ids['unknown']} button:has-text('取消订单')")
        assert f"订单 {ids['unknown']} 已取消" in page.inner_text("#flash")
        press(page, "#discrepancies button:has-text('拒收')")
        assert "已处理" in page.inner_text("#flash")
        assert "无" in page.inner_text("#exceptions") and "无" in page.inner_text("#discrepancies")

        press(page, "header button[value=en]")  # switch language; remembered in a cookie
        assert "Supervisor dashboard" in page.inner_text("h1")
        assert "Automatic processing" in page.inner_text("#auto-rate")
        shot(page, "dash-en-01")
        page.goto(f"{server}/h/tasks")
        assert "My tasks" in page.inner_text("h1")  # the browser still asks for Chinese
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["whs_token"]["httpOnly"] and cookies["whs_token"]["sameSite"] == "Strict"
        assert cookies["whs_lang"]["value"] == "en"
    finally:
        context.close()
    statuses = {o["channel_order_id"]: o["status"] for o in api.call("GET", "/api/v1/orders")}
    assert statuses["D-1"] == "ready" and statuses["D-2"] == "cancelled"
    assert api.call("GET", "/api/v1/inbound/discrepancies") == []


def test_handheld_speaks_chinese_and_fits_the_phone(browser: Any, server: str, api: Api) -> None:
    api.shelve(TEA.code, 10, "A02-B05")
    api.order_released("Z-1", [(TEA.code, 1)])
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    try:
        sign_in(page, server, "operator")
        text = page.inner_text("body")
        assert "我的任务" in text and "拣货" in text and "开始拣货" in text and "打包台" in text
        assert fits_width(page)
        heights = page.eval_on_selector_all(
            "button, a.button, input:not([type=hidden])",
            "els => els.map(e => e.getBoundingClientRect().height)",
        )
        assert heights and min(heights) >= 48  # touch targets
        shot(page, "tasks-zh-CN")
        press(page, "nav button:has-text('退出')")
        assert "/h/signin" in page.url and "已退出" in page.inner_text("#flash")
        page.goto(f"{server}/h/pick")
        assert "/h/signin" in page.url  # signed out means signed out
    finally:
        context.close()


def test_viewer_sees_but_cannot_act_and_forged_posts_are_refused(
    phone: Any, server: str, api: Api
) -> None:
    ids = _scenario(api)
    sign_in(phone, server, "viewer")
    assert "may look but not act" in phone.inner_text("main")
    assert phone.query_selector("#task-pick button") is None
    phone.goto(f"{server}/dash")
    assert "Exception queue" in phone.inner_text("#exceptions")
    assert phone.query_selector("#exceptions button") is None
    csrf = next(c["value"] for c in phone.context.cookies() if c["name"] == "whs_csrf")
    approve = f"{server}/dash/orders/{ids['pending']}/approve"
    refused = phone.request.post(approve, form={"csrf": csrf}, max_redirects=0)
    assert refused.status == 403 and "viewer" in refused.text()
    forged = phone.request.post(f"{server}/h/pick/start", form={}, max_redirects=0)
    assert forged.status == 403 and "form expired" in forged.text()
    statuses = {o["channel_order_id"]: o["status"] for o in api.call("GET", "/api/v1/orders")}
    assert statuses["D-1"] == "exception"

"""Picking on a phone-sized browser: wrong scan, skip, short pick, confirmations, both languages."""
# ruff: noqa: RUF001  (full-width Chinese punctuation is what the screens show)

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from firmware_interfaces.epc import Sgtin, encode_sgtin96

from central.seed import DEMO_SKUS
from tests.e2e.web_support import (
    Api,
    central_server,
    fits_width,
    press,
    scan,
    shot,
    sign_in,
)

pytestmark = [pytest.mark.e2e]
TEA, MUG, SILK = DEMO_SKUS[0], DEMO_SKUS[1], DEMO_SKUS[2]
TEXT = {
    "en": {
        "wrong": "Wrong location: go to {loc}",
        "skipped": "moved to the end",
        "short": "Short pick recorded: 3 backordered, recount task for A01-B03",
        "picked": "Picked",
        "done": "Batch complete",
        "progress": "Line {k} of 3",
        "confirm": "Confirm",
        "not_found": "Not found",
    },
    "zh-CN": {
        "wrong": "库位错误：请前往 {loc}",
        "skipped": "这一行已移到最后",
        "short": "已登记缺货：3 件转为欠单，已为 A01-B03 创建盘点任务",
        "picked": "已拣",
        "done": "批次完成",
        "progress": "第 {k} 行，共 3 行",
        "confirm": "确认",
        "not_found": "找不到",
    },
}


@pytest.fixture(params=[("sqlite", "en"), ("postgresql", "zh-CN")], ids=["sqlite-en", "pg-zh"])
def setting(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[str, str]]:
    """The server's database and the browser's language."""
    database, lang = request.param
    if database == "sqlite":
        url = f"sqlite:///{tmp_path / 'whs.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    with central_server(url) as server:
        yield server, lang


def _flash(page: Any) -> str:
    return str(page.inner_text("#flash"))


def _focused(page: Any) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_picker_works_a_batch_with_a_wrong_scan_a_skip_and_a_short_pick(
    browser: Any, setting: tuple[str, str]
) -> None:
    url, lang = setting
    words = TEXT[lang]
    api = Api(url)
    api.shelve(TEA.code, 10, "A02-B05", lot="L1")
    api.shelve(MUG.code, 10, "A04-B09")
    api.shelve(SILK.code, 5, "A01-B03")
    wave = api.order_released("W-1", [(TEA.code, 3), (MUG.code, 2), (SILK.code, 4)])
    assert len(wave["batches"]) == 1 and len(wave["batches"][0]["lines"]) == 3
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale=lang
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, url, "operator")
        assert "1" in page.inner_text("#task-pick")
        shot(page, f"pick-{lang}-01-tasks")
        press(page, "#task-pick button")
        assert page.url.endswith("/h/pick")
        assert words["progress"].format(k=1) in page.inner_text("#progress")
        assert _focused(page) == "scan"
        assert fits_width(page)
        shot(page, f"pick-{lang}-02-go-to-location")
        first = page.get_attribute("#line", "data-location")

        wrong = "A01-B01" if first != "A01-B01" else "A01-B02"
        scan(page, wrong)
        message = _flash(page)
        assert words["wrong"].format(loc=first) in message
        assert "error" in (page.get_attribute("#flash", "class") or "")
        assert _focused(page) == "scan"  # scan again without touching the screen
        shot(page, f"pick-{lang}-03-wrong-location")

        press(page, "form[action$='/skip'] button")
        assert words["skipped"] in _flash(page)
        assert page.get_attribute("#line", "data-location") != first

        picked_skus = []
        for step in range(3):
            sku = page.get_attribute("#line", "data-sku")
            location = page.get_attribute("#line", "data-location")
            assert words["progress"].format(k=step + 1) in page.inner_text("#progress")
            if sku == SILK.code:
                press(page, "a[href$='/short']")
                page.fill("#found", "1")
                shot(page, f"pick-{lang}-05-short")
                press(page, f"button[value=not_found]:has-text('{words['not_found']}')")
                assert words["short"] in _flash(page)
                continue
            scan(page, str(location))
            assert _focused(page) == "scan"
            item = TEA.gtin if sku == TEA.code else encode_sgtin96(Sgtin(MUG.gtin, 7))
            scan(page, item)  # a GTIN barcode or an RFID tag's EPC
            assert _focused(page) == "qty"
            if step == 0:
                shot(page, f"pick-{lang}-04-quantity")
            assert words["confirm"] in page.inner_text("form[action$='/confirm'] button")
            with page.expect_navigation():
                page.keyboard.press("Enter")  # the quantity is filled in: confirm
            assert words["picked"] in _flash(page)
            picked_skus.append(sku)
        shot(page, f"pick-{lang}-06-done")
        assert words["done"] in page.inner_text("main"), page.inner_text("main")
        shot(page, f"pick-{lang}-06-done")
    finally:
        context.close()
    assert sorted(picked_skus) == sorted([TEA.code, MUG.code])
    orders = {o["channel_order_id"]: o for o in api.call("GET", "/api/v1/orders")}
    assert orders["W-1"]["status"] == "picked"
    assert orders["W-1-BO1"]["status"] == "backordered"
    assert orders["W-1-BO1"]["lines"] == [
        {**orders["W-1-BO1"]["lines"][0], "sku": SILK.code, "qty": 3}
    ]
    shelf = {(s["location"], s["sku"]): s["qty"] for s in api.stock(site="wh1")}
    assert shelf[("A02-B05", TEA.code)] == 7
    assert shelf[("A04-B09", MUG.code)] == 8
    assert shelf[("A01-B03", SILK.code)] == 4  # one found and picked; the recount settles the rest
    api.close()


def _tasks_screen_as(browser: Any, url: str, user: str) -> tuple[str, str, int]:
    """The pick card, the whole screen and the count of start-picking forms one user sees."""
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="en")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, url, user)
        forms = page.locator("form[action='/h/pick/start']").count()
        return page.inner_text("#task-pick"), page.inner_text("main"), forms
    finally:
        context.close()


def test_a_viewer_sees_the_pick_work_but_no_buttons_that_change_it(
    browser: Any, tmp_path: Any
) -> None:
    with central_server(f"sqlite:///{tmp_path / 'whs.db'}") as url:
        api = Api(url)
        api.shelve(TEA.code, 10, "A02-B05", lot="L1")
        api.order_released("W-V", [(TEA.code, 2)])
        viewer_card, viewer_screen, viewer_forms = _tasks_screen_as(browser, url, "viewer")
        operator_card, _, operator_forms = _tasks_screen_as(browser, url, "operator")
    assert "1 batches waiting" in viewer_card and "1 batches waiting" in operator_card
    assert viewer_forms == 0 and "viewer" in viewer_screen  # read-only, and told so
    assert operator_forms == 1

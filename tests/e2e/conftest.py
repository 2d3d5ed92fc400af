"""Fixtures of the browser tests: one Chromium for this package, a phone-sized page per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.web_support import CHROMIUM_ARGS, PHONE, require_chromium


# Package scope, not session: Playwright's sync API keeps an asyncio loop marked as running in
# the main thread while it is open, and later tests that call asyncio.run() would fail.
@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no browser download)."""
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A 360x740 touch page whose browser prefers English."""
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US", device_scale_factor=1
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()

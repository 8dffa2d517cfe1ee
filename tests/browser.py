"""Real headless Chromium for page tests: Debian's browser (never one Playwright downloads), the app over real HTTP,
phone and desktop pages, screenshots kept under artifacts/ (git-ignored).

tests/conftest.py loads this module as a plugin, so every test can ask for `base_url`, `phone` and `desktop`; mark
the module `pytestmark = pytest.mark.browser` and keep screenshots with `shot(page, name)`.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


@contextmanager
def launched():
    """Debian's headless Chromium with the project's flags; closed afterwards (skips where it is not installed)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (scripts/setup-system.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(size: dict, locale: str = "zh-CN"):
    """A page of a fresh browser context of the given size; the browser is closed afterwards."""
    with launched() as browser:
        context = browser.new_context(locale=locale, **size)
        try:
            yield context.new_page()
        finally:
            context.close()


@pytest.fixture
def chromium():
    """The browser itself, for a test that opens several contexts (several people, each with a phone)."""
    with launched() as browser:
        yield browser


@pytest.fixture(scope="module")
def base_url(app):
    """The real app over HTTP (werkzeug's server in a thread)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def phone():
    """A headless Chromium page the size of a phone (390 x 844 CSS pixels), Chinese by default."""
    with browser_page(PHONE) as page:
        yield page


@pytest.fixture
def desktop():
    """A headless Chromium page the size of an office screen (1366 x 900), Chinese by default."""
    with browser_page(DESKTOP) as page:
        yield page


def shot(page, name: str, fold: bool = False) -> None:
    """Keep a full-page screenshot (and, with fold, the first screen) as artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if fold:
        page.screenshot(path=str(ARTIFACTS / f"{name}-fold.png"))

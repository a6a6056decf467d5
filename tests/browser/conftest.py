"""Browser tests: Playwright (sync API) driving the system Chromium against pytest-django's live server.

One Chromium per pytest process (per xdist worker), a fresh phone-sized context per test. Chromium
comes from Debian (/usr/bin/chromium, or EPIGRID_CHROMIUM); it is never downloaded. Without it the
tests are skipped with one summary line (shown with -rs, as `make test` does), unless
EPIGRID_REQUIRE_BROWSER=1 (`make test-browser`, CI), which turns the missing browser into a failure.
"""

import os
import re
from pathlib import Path

import pytest

from epigrid.core.testing import PASSWORD

# Playwright's sync API keeps an asyncio loop in this thread; Django would otherwise refuse ORM
# calls from test code (cast, make_person) as "called from an async context".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("EPIGRID_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("EPIGRID_REQUIRE_BROWSER", "") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# A mid-size phone (iPhone 12-14 class) with a Chinese system language.
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "timezone_id": "Asia/Shanghai",
}
# Set to a directory (e.g. /tmp/shots) to save full-page screenshots of the pages the tests visit.
SHOTS_DIR = os.environ.get("EPIGRID_SHOTS", "")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # tryfirst: the marker must be on the items before `-m browser` / `-m "not browser"` selects.
    for item in items:
        if Path(str(item.path)).is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)


def chromium_missing_reason():
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return ""
    return f"browser tests: no Chromium at {CHROMIUM} (install Debian's chromium or set EPIGRID_CHROMIUM)"


@pytest.fixture(scope="session", autouse=True)
def _chromium_available():
    """Skip (or, with EPIGRID_REQUIRE_BROWSER=1, fail) every browser test when Chromium is missing.

    Raised from one session fixture, the skip has one location and reason, so pytest folds all the
    skipped tests into a single "SKIPPED [n] ..." line."""
    reason = chromium_missing_reason()
    if reason and REQUIRE_BROWSER:
        pytest.fail(f"{reason}; EPIGRID_REQUIRE_BROWSER=1 requires it", pytrace=False)
    if reason:
        pytest.skip(f"{reason}; skipped (EPIGRID_REQUIRE_BROWSER=1 makes this a failure)")


@pytest.fixture(scope="session")
def browser(_chromium_available):
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Exception:
        playwright.stop()
        raise
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def new_context(browser, live_server):
    """Factory for browser contexts on the live server: phone-sized unless overridden."""
    contexts = []

    def make(**overrides):
        context = browser.new_context(base_url=live_server.url, **{**PHONE, **overrides})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context):
    """A page in a fresh phone context. Fails the test when a static asset does not load or a
    script throws: a page without bootstrap or htmx must not pass for working."""
    page = new_context().new_page()
    problems = []

    def on_response(response):
        if "/static/" in response.url and response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    page.on("response", on_response)
    page.on("requestfailed", lambda request: problems.append(f"failed {request.url}"))
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    yield page
    assert not problems, problems


def assert_assets_loaded(page):
    """Bootstrap's CSS and JS and htmx came from the live server (node_modules via STATICFILES_DIRS)."""
    loaded = page.evaluate(
        """() => ({
            htmx: typeof window.htmx === "object" && typeof window.htmx.ajax === "function",
            bootstrapJs: typeof window.bootstrap === "object",
            bootstrapCss: getComputedStyle(document.body).getPropertyValue("--bs-body-font-size") !== "",
        })"""
    )
    assert loaded == {"htmx": True, "bootstrapJs": True, "bootstrapCss": True}, loaded


@pytest.fixture
def log_in(page):
    """Log in through the real login form (Cast users share epigrid.core.testing.PASSWORD)."""

    def log_in(user, password=PASSWORD):
        page.goto("/login/")
        assert_assets_loaded(page)
        form = page.locator("main form")
        form.locator("#id_username").fill(user.get_username())
        form.locator("#id_password").fill(password)
        with page.expect_navigation():
            form.locator("button[type=submit]").click()
        assert not re.search(r"/login/", page.url), f"login as {user} failed: {page.url}"
        return page

    return log_in


@pytest.fixture
def shot():
    """shot(page, "name") saves a full-page screenshot to $EPIGRID_SHOTS/name.png when set."""

    def shot(page, name):
        if SHOTS_DIR:
            Path(SHOTS_DIR).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SHOTS_DIR) / f"{name}.png"), full_page=True)

    return shot

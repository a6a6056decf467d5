"""Browser tests: Playwright (sync API) driving the system Chromium against pytest-django's live server.

One Chromium per pytest process (per xdist worker), a fresh phone-sized context per test. Chromium
comes from Debian (/usr/bin/chromium, or EPIGRID_CHROMIUM); it is never downloaded. Without it the
tests are skipped and pytest says so in one line (the folded "SKIPPED [n]" line with -rs, as
`make test` runs; otherwise after collection), unless EPIGRID_REQUIRE_BROWSER=1 (`make
test-browser`, CI), which turns the missing browser into a failure of every browser test.
"""

import importlib
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.signals import request_finished, request_started

from tests.scoping import PASSWORD

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


def _chromium_missing():
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return ""
    return f"browser tests: no Chromium at {CHROMIUM} (install Debian's chromium or set EPIGRID_CHROMIUM)"


CHROMIUM_MISSING = _chromium_missing()
SKIP_REASON = f"{CHROMIUM_MISSING}; skipped (EPIGRID_REQUIRE_BROWSER=1 makes this a failure)"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # tryfirst: the marker must be on the items before `-m browser` / `-m "not browser"` selects.
    for item in items:
        if Path(str(item.path)).is_relative_to(HERE):
            item.add_marker(pytest.mark.browser)
            if CHROMIUM_MISSING and not REQUIRE_BROWSER:
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


def pytest_report_collectionfinish(config, start_path, items):
    # Without -rs (which prints the folded SKIPPED line below) say it once after collection.
    # Not under xdist: the controller does not collect, so it never loads this file.
    shows_skips = any(c in (config.option.reportchars or "") for c in "saA")
    selected = any(item.get_closest_marker("browser") for item in items)
    if CHROMIUM_MISSING and not REQUIRE_BROWSER and not shows_skips and selected:
        return SKIP_REASON


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # All "no Chromium" skips get one location, so `-rs` folds them into a single line
    # (pytest would otherwise print one line per test file).
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and report.longrepr[2].endswith(SKIP_REASON):
        report.longrepr = (str(HERE / "conftest.py"), None, report.longrepr[2])
    return report


@pytest.fixture(scope="session", autouse=True)
def _chromium_required():
    """With EPIGRID_REQUIRE_BROWSER=1 (make test-browser, CI) a missing Chromium fails every
    browser test instead of skipping it."""
    if CHROMIUM_MISSING:
        pytest.fail(f"{CHROMIUM_MISSING}; EPIGRID_REQUIRE_BROWSER=1 requires it", pytrace=False)


@pytest.fixture(scope="session")
def browser(_chromium_required):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio loop in this thread from here on; Django would refuse
    # ORM calls from test code (cast, make_person) as "called from an async context" without this.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
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
def shipped_protocols(transactional_db):
    """The live server's database is flushed after each test, and the protocols a migration
    ships go with it: every browser test starts with them, whatever ran before it."""
    from django.apps import apps

    from epigrid.control.models import Protocol

    if not Protocol.objects.exists():
        importlib.import_module("epigrid.control.migrations.0002_shipped_protocols").load(apps, None)


class _InFlight:
    """Requests the live server is serving. On SQLite its threads share the test's in-memory
    connection: a request still running when a test ends (a page's polling fetch, e.g. the
    dashboard's data every few seconds) would write through the next test's set-up ("cannot commit
    transaction - SQL statements in progress", a foreign key failing in a fresh cast). A test's
    contexts close, then its requests are waited for."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)

    # Only the live server's threads count: the test client serves in the test's own thread and
    # may end a request without request_finished (an exception it re-raises).
    def started(self, **_kwargs):
        if threading.current_thread() is threading.main_thread():
            return
        with self.lock:
            self.count += 1

    def finished(self, **_kwargs):
        if threading.current_thread() is threading.main_thread():
            return
        with self.lock:
            self.count = max(self.count - 1, 0)
            if not self.count:
                self.idle.notify_all()

    def wait(self, timeout=15):
        with self.lock:
            self.idle.wait_for(lambda: not self.count, timeout=timeout)


IN_FLIGHT = _InFlight()
request_started.connect(IN_FLIGHT.started, dispatch_uid="browser-tests-in-flight-started")
request_finished.connect(IN_FLIGHT.finished, dispatch_uid="browser-tests-in-flight-finished")


@pytest.fixture
def new_context(browser, live_server, shipped_protocols):
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
    IN_FLIGHT.wait()


@pytest.fixture
def page(new_context):
    """A page in a fresh phone context. The test fails when a static asset does not load, a script
    throws or the Content-Security-Policy refuses something: a page without its CSS, bootstrap or
    htmx must not pass for working."""
    page = new_context().new_page()
    problems = page.asset_problems = {}  # one entry per asset or error, in order seen

    def on_response(response):
        if "/static/" in response.url and response.status >= 400:
            problems.setdefault(urlsplit(response.url).path, f"HTTP {response.status}")

    page.on("response", on_response)
    # Only static assets count: a download link's navigation is aborted by Chromium on purpose.
    page.on(
        "requestfailed",
        lambda r: (
            urlsplit(r.url).path.startswith("/static/")
            and problems.setdefault(urlsplit(r.url).path, r.failure or "failed")
        ),
    )
    page.on("pageerror", lambda error: problems.setdefault(f"script error: {error}", page.url))
    # A script, style or handler the Content-Security-Policy refuses shows up only in the console.
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and "Content Security Policy" in m.text
            and problems.setdefault(f"CSP violation: {m.text[:300]}", page.url)
        ),
    )
    yield page
    if problems and not getattr(page, "asset_problems_reported", False):
        pytest.fail(_asset_report(problems))


def _asset_report(problems):
    listed = "; ".join(f"{what} ({why})" for what, why in problems.items())
    return f"static assets or scripts failed in the browser: {listed}"


def assert_assets_loaded(page):
    """Our CSS, bootstrap's CSS and JS and htmx came from the live server (node_modules via
    STATICFILES_DIRS, served by the live server's static handler)."""
    if page.asset_problems:
        page.asset_problems_reported = True
        pytest.fail(_asset_report(page.asset_problems))
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
    """Log in through the real login form (Cast users share tests.scoping.PASSWORD)."""

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

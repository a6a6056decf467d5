"""Pages work under the Content-Security-Policy (no inline script, style or handler): the page
fixture fails a test on any CSP violation the browser reports."""

from playwright.sync_api import expect

from epigrid.accounts.models import User
from epigrid.jobs.models import Job
from tests.browser.conftest import assert_assets_loaded
from tests.scoping import PASSWORD


def test_it_draws_a_jobs_progress_bar_without_an_inline_style(cast, page, log_in):
    job = Job.objects.create(
        user=cast.community_officer, kind="export", title="t", status="running", done=3, total=10
    )
    log_in(cast.community_officer)
    page.goto(f"/jobs/{job.pk}/")
    assert_assets_loaded(page)
    bar = page.locator("#job-panel .progress-bar")
    expect(bar).to_have_text(f"{job.percent}%")
    assert bar.evaluate("el => el.style.width") == f"{job.percent}%"
    # The polled panel replaces itself (htmx swap) and gets its width again.
    Job.objects.filter(pk=job.pk).update(done=7)
    expect(bar).to_have_text("70%")
    assert bar.evaluate("el => el.style.width") == "70%"


def test_it_serves_the_admin_under_the_policy(cast, page):
    User.objects.create_user("staffer", password=PASSWORD, is_staff=True, is_superuser=True)
    page.goto("/admin/login/")
    page.locator("#id_username").fill("staffer")
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("input[type=submit]").click()
    page.goto(f"/admin/accounts/user/{cast.grid_worker.pk}/change/")
    expect(page.locator("#user_form")).to_be_visible()


def test_it_serves_the_api_docs_under_the_policy(cast, page, log_in):
    log_in(cast.commander)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("epigrid API")


def test_it_reports_a_csp_violation(cast, page):
    # The check itself: a style attribute set from a script is refused and reported.
    page.goto("/login/")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.wait_for_timeout(200)
    assert any(p.startswith("CSP violation") for p in page.asset_problems)
    page.asset_problems.clear()

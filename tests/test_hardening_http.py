"""Hardening at the HTTP edge (issue 7): login and token throttles, 400 for hostile input, local
redirects only, Content-Security-Policy and HSTS."""

import json
import os
import re
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token

from epigrid.accounts.models import User
from tests.scoping import PASSWORD, make_person


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Token failures are counted in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


def _login(client, path, username, password):
    return client.post(path, {"username": username, "password": password})


def _logged_in(client):
    return "_auth_user_id" in client.session


# --- 9. login and token throttles ------------------------------------------------------------------


def test_it_refuses_the_right_password_after_ten_wrong_ones(cast):
    client = Client()
    statuses = [_login(client, "/login/", "grid_worker", "wrong").status_code for _ in range(10)]
    assert statuses == [200] * 9 + [429]  # the tenth failure locks
    response = _login(client, "/login/", "grid_worker", PASSWORD)
    assert response.status_code == 429 and not _logged_in(client)
    assert "登录失败次数过多" in response.content.decode()


def test_it_still_logs_in_after_fewer_failures_and_from_another_address(cast):
    client = Client()
    for _ in range(9):
        _login(client, "/login/", "grid_worker", "wrong")
    assert _login(client, "/login/", "grid_worker", PASSWORD).status_code == 302 and _logged_in(client)
    for _ in range(10):
        _login(Client(REMOTE_ADDR="10.0.0.1"), "/login/", "grid_worker", "wrong")
    # The lockout holds for that username from that address only.
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert _login(other, "/login/", "grid_worker", PASSWORD).status_code == 302 and _logged_in(other)


def test_it_counts_the_admin_login_with_the_site_login(cast):
    User.objects.create_user("staffer", password=PASSWORD, is_staff=True, is_superuser=True)
    client = Client()
    for path in ["/login/"] * 5 + ["/admin/login/"] * 5:
        _login(client, path, "staffer", "wrong")
    response = _login(client, "/admin/login/", "staffer", PASSWORD)
    assert response.status_code == 429 and not _logged_in(client)
    assert "登录失败次数过多" in response.content.decode()


def _token_get(token, address="127.0.0.1"):
    return Client(REMOTE_ADDR=address).get("/api/v1/persons/", HTTP_AUTHORIZATION=f"Token {token}")


def test_it_answers_429_to_an_address_after_too_many_bad_tokens(cast, settings):
    settings.EPIGRID_TOKEN_FAILURE_LIMIT = 5
    good = Token.objects.create(user=cast.commander).key
    assert [_token_get("0" * 40).status_code for _ in range(5)] == [401] * 5
    blocked = _token_get("1" * 40)
    assert blocked.status_code == 429 and "Retry-After" in blocked
    # Blocked means blocked: a valid token from that address waits too (the search must stop,
    # not learn which token is right); other addresses are not affected.
    assert _token_get(good).status_code == 429
    assert _token_get(good, address="10.0.0.9").status_code == 200


def test_it_takes_the_client_address_from_the_trusted_proxy(rf, settings):
    from epigrid.accounts.throttle import client_ip

    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_ip(request) == "127.0.0.1"
    settings.EPIGRID_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"  # the left part is the client's to forge


# --- 11. hostile input answered 400, not 500 ---------------------------------------------------------


def test_it_answers_400_to_a_nul_in_an_options_term_before_any_query(cast, django_assert_num_queries):
    client = cast.client_for(cast.community_officer)
    make_person(household=cast.household_a, name="吴一")
    # Answered before the database is asked: PostgreSQL would refuse the NUL with an error (500),
    # SQLite would store or match it; neither sees it.
    with django_assert_num_queries(0):
        response = client.get("/options/people.person/", {"term": "吴\x00"})
    assert response.status_code == 400 and "NUL" in response.content.decode()


def test_it_answers_400_to_a_nul_in_any_query_string_or_page_form(cast):
    client = cast.client_for(cast.community_officer)
    page = client.get("/people/", {"q": "\x00"})
    assert page.status_code == 400 and 'data-testid="error-page"' in page.content.decode()
    assert client.get("/areas/", {"q": "a\x00"}).status_code == 400
    person = make_person(household=cast.household_a)
    assert client.post(f"/people/{person.pk}/edit/", {"name": "王\x00"}).status_code == 400
    api = client.get("/api/v1/persons/", {"q": "\x00"})
    assert api.status_code == 400 and "NUL" in api.json()["detail"]


def test_it_answers_400_to_a_nul_in_an_api_body(cast):
    client = cast.client_for(cast.community_officer)
    body = {"name": "王五", "notes": {"a\x00": 1}}
    response = client.post("/api/v1/persons/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and "NUL" in response.json()["detail"]
    form = client.post("/api/v1/persons/", {"name": "王\x00五"})
    assert form.status_code == 400 and "NUL" in form.json()["detail"]


def test_it_answers_400_to_an_options_key_the_model_lacks(cast):
    make_person(household=cast.household_a, name="吴一")
    client = cast.client_for(cast.community_officer)
    assert client.get("/options/people.person/", {"key": "code"}).status_code == 400
    # Never a personal field as the option value: it would show the document number unmasked.
    assert client.get("/options/people.person/", {"key": "doc_number"}).status_code == 400
    assert client.get("/options/areas.area/", {"key": "code"}).status_code == 200


def test_it_answers_400_to_deeply_nested_json(cast):
    client = cast.client_for(cast.community_officer)
    for depth in (5000, 33):
        body = "[" * depth + "]" * depth
        response = client.post("/api/v1/persons/", body, content_type="application/json")
        assert response.status_code == 400, depth
        assert "32" in response.json()["detail"]


# --- 12. redirects stay on this site -----------------------------------------------------------------


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/", "https:evil.example"])
def test_it_never_redirects_an_export_to_another_site(cast, back):
    client = cast.client_for(cast.community_officer)
    response = client.post("/jobs/export/persons/", {"query": "", "unmasked": "on", "back": back})
    assert response.status_code == 302 and response["Location"] == "/"


def test_it_redirects_an_export_back_to_the_list_it_came_from(cast):
    client = cast.client_for(cast.community_officer)
    response = client.post(
        "/jobs/export/persons/", {"query": "", "unmasked": "on", "back": "/people/?q=wang"}
    )
    assert response["Location"] == "/people/?q=wang"


# --- 14. Content-Security-Policy and HSTS ------------------------------------------------------------

INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")|<style|\sstyle=|\son[a-z]+=", re.I
)


def test_it_sends_a_strict_content_security_policy(cast):
    policy = Client().get("/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_it_renders_pages_without_inline_scripts_styles_or_handlers(cast, django_capture_on_commit_callbacks):
    from epigrid.jobs.models import Job

    client = cast.client_for(cast.community_officer)
    make_person(household=cast.household_a, name="吴一")
    job = Job.objects.create(user=cast.community_officer, kind="export", title="t", status="running")
    pages = ["/people/", "/areas/", f"/jobs/{job.pk}/", "/control/today/", "/api/docs/"]
    for url in pages:
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert not INLINE.search(html), (url, INLINE.search(html).group())
    assert 'data-width="0"' in client.get(f"/jobs/{job.pk}/").content.decode()
    assert not INLINE.search(Client().get("/login/").content.decode())


def _production(**env):
    """Settings and the HSTS header of a fresh process with the given environment."""
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "from django.test import Client; "
        "hsts = Client().get('/login/', secure=True).headers.get('Strict-Transport-Security'); "
        "print(json.dumps([settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE, hsts]))"
    )
    environ = {k: v for k, v in os.environ.items() if k not in ("SECURE_COOKIES", "SECURE_HSTS_SECONDS")}
    environ.update(DJANGO_SETTINGS_MODULE="epigrid.settings", SECRET_KEY="x" * 50, **env)
    out = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.splitlines()[-1])


def test_it_turns_on_hsts_and_secure_cookies_in_production():
    year = 365 * 24 * 3600
    assert _production(EPIGRID_PRODUCTION="1") == [year, True, f"max-age={year}"]
    assert _production(EPIGRID_PRODUCTION="0") == [0, False, None]

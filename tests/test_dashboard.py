"""The command dashboard (issue #13, decision 0032): every tile equals the count of the list it links
to, for the commander, a street officer and a grid worker; tiles without the right are not shown;
drill-down stays inside the user's subtree; the charts' JSON, the brief PDF and the API are scoped
the same way."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone, translation
from rest_framework.test import APIClient

from epigrid.accounts.models import User
from epigrid.areas.models import Area, Level
from epigrid.audit.models import ObjectChange
from epigrid.control.models import KeyPerson
from epigrid.dashboard import services
from epigrid.dashboard.models import TileSnapshot
from epigrid.dashboard.tiles import TILES

ROLES = ["demo_commander", "demo_street", "demo_grid"]


@pytest.fixture(autouse=True)
def _counted_afresh(settings):
    # Each test counts for itself: no user's figures kept from an earlier test.
    settings.DASHBOARD_CACHE_SECONDS = 0


TILE_KEYS = [tile.key for tile in TILES]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo district, built once for the module inside a transaction rolled back at the end."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("demo", residents=400, seed=7, json=True, stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def desks(demo, django_db_blocker):
    """Each role's dashboard tiles, read once from the page: {username: {key: row}}."""
    pages = {}
    with (
        django_db_blocker.unblock(),
        override_settings(DASHBOARD_CACHE_SECONDS=0, DASHBOARD_SNAPSHOT_SECONDS=0),
    ):
        for username in ROLES:
            client = _client(username)
            response = client.get("/dashboard/")
            assert response.status_code == 200
            pages[username] = {row["key"]: row for _l, _k, rows in response.context["groups"] for row in rows}
    return pages


@pytest.fixture(scope="module")
def snapshot_desks(demo, django_db_blocker):
    """The same pages read from the city's per-area snapshot (decision 0032 addendum 2), and a
    street drilled into, live and from the snapshot."""
    pages = {}
    with django_db_blocker.unblock():
        street = Area.objects.filter(level=Level.STREET).order_by("path").first()
        for seconds in (0, 3600):
            with override_settings(DASHBOARD_CACHE_SECONDS=0, DASHBOARD_SNAPSHOT_SECONDS=seconds):
                for username in ROLES + ["demo_commander@street"]:
                    name, _at, drill = username.partition("@")
                    url = f"/dashboard/?area={street.code}" if drill else "/dashboard/"
                    response = _client(name).get(url)
                    assert response.status_code == 200
                    rows = {row["key"]: row for _l, _k, rows in response.context["groups"] for row in rows}
                    pages[(username, seconds)] = rows
                    charts = _client(name).get(url.replace("/dashboard/", "/dashboard/data/")).json()
                    pages[(username, seconds, "charts")] = {k: charts[k] for k in ("trends", "coverage")}
        snap = TileSnapshot.objects.get()
    return pages, snap


def _client(username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


# The daily reports' roll-up is no list of rows: its page shows these totals.
ROLLUP_FIGURES = {"reports_missing_today": "missing_count", "reports_late_today": "late_count"}


def _list_count(client, url, key=None):
    response = client.get(url)
    assert response.status_code == 200, url
    if key in ROLLUP_FIGURES:
        return response.context[ROLLUP_FIGURES[key]]
    return response.context["table"].paginator.count


@pytest.mark.parametrize("username", ROLES)
@pytest.mark.parametrize("key", TILE_KEYS)
def test_a_tile_equals_the_count_of_its_list(db, desks, username, key):
    """The figure a user sees links to a list that shows the same number; a tile the user has no
    right to is not shown, and its list is forbidden to them."""
    client = _client(username)
    tile = next(t for t in TILES if t.key == key)
    row = desks[username].get(key)
    if row is None:
        if tile.zone_level:  # a level the protocol in force does not have: no tile, whatever the right
            assert tile.zone_level not in services.zone_levels()
            return
        assert client.get(services.tile_url(tile, timezone.localdate())).status_code == 403
        return
    assert row["value"] == _list_count(client, row["url"], key), row["url"]


def test_the_demo_commander_sees_something_in_every_group(db, desks):
    groups = {row["group"] for row in desks["demo_commander"].values() if row["value"]}
    assert groups == {
        "population",
        "key_persons",
        "by_category",
        "by_measure",
        "zones",
        "testing",
        "overdue",
        "resources",
        "command",
    }


def test_a_grid_worker_sees_no_lab_or_transport_tiles(db, desks):
    mine = desks["demo_grid"]
    assert "positives_today" not in mine and "boxes_late_today" not in mine and "tubes_today" not in mine
    assert "keypersons_open" in mine and "residents" in mine


def test_drilled_down_tiles_equal_their_lists_too(db, desks):
    client = _client("demo_commander")
    community = User.objects.get(username="demo_community").grants.get().area
    response = client.get(f"/dashboard/?area={community.code}")
    assert response.status_code == 200
    rows = [row for _l, _k, group in response.context["groups"] for row in group]
    assert rows and all(f"area={community.code}" in row["url"] for row in rows)
    # The passage list has no area filter: its tile shows only at the user's own level.
    assert "checkpoint_refusals_today" not in {row["key"] for row in rows}
    for row in rows:
        assert row["value"] == _list_count(client, row["url"], row["key"]), row["url"]


def test_the_brief_pdf_is_audited(db, desks):
    client = _client("demo_street")
    before = ObjectChange.objects.filter(action="export").count()
    response = client.get("/dashboard/brief.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and b"FontFile" in response.content  # a font embedded
    assert ObjectChange.objects.filter(action="export").count() == before + 1
    row = ObjectChange.objects.filter(action="export").latest("pk")
    assert "dashboard brief" in row.postchange_data["filters"]


def test_the_api_answers_the_pages_figures(db, demo):
    client = APIClient()
    client.force_authenticate(User.objects.get(username="demo_street"))
    # The page read just before, not the module's earlier read: a box due minutes ago turns late
    # meanwhile on a slow machine, on the page and in the API alike.
    page = _client("demo_street").get("/dashboard/")
    response = client.get("/api/v1/dashboard/?charts=true")
    assert response.status_code == 200
    body = response.json()
    assert {row["key"]: row["value"] for row in body["tiles"]} == {
        row["key"]: row["value"] for _l, _k, rows in page.context["groups"] for row in rows
    }
    assert all(row["url"].startswith("/") for row in body["tiles"])
    assert {"trends", "coverage", "categories"} <= set(body)
    assert APIClient().get("/api/v1/dashboard/").status_code in (401, 403)


def test_the_screen_and_the_charts_json(db, desks, settings):
    settings.DASHBOARD_CACHE_SECONDS = 10
    client = _client("demo_commander")
    with translation.override("en"):
        screen = client.get("/dashboard/screen/", HTTP_ACCEPT_LANGUAGE="en")
    assert screen.status_code == 200 and b"dash-screen" in screen.content
    assert b"each count is kept for at most 10 s" in screen.content
    data = client.get("/dashboard/data/").json()
    assert len(data["trends"]["days"]) == 14
    keys = {s["key"] for s in data["trends"]["series"]}
    assert keys == {"keypersons", "tubes", "positives", "pooled_positives"}
    # The series count what the lists count: new key persons per day over the window.
    series = next(s for s in data["trends"]["series"] if s["key"] == "keypersons")
    today = timezone.localdate()
    assert series["data"][-1] == KeyPerson.objects.filter(identified_on=today).count()
    assert data["coverage"]["children"] and data["coverage"]["drill"] is True


def test_the_demo_fills_every_tile_of_the_commanders_morning(db, desks):
    """The demo's dashboard part: a pooled positive reported today (its follow-up open, persons to
    hold) and a confirmed case; every tile the commander sees shows something but the zone levels
    the demo has no zone of and the empty isolation rooms' street-level lists."""
    from epigrid.demo.dashboard import dashboard_counts

    counts = dashboard_counts()
    assert counts["pooled_positives_today"] >= 1 and counts["confirmed_open"] == 1
    mine = desks["demo_commander"]
    assert mine["pooled_positives_today"]["value"] >= 1
    assert mine["retest_tasks_to_hold"]["value"] >= 1
    assert mine["keypersons_confirmed"]["value"] == 1
    # The demo's reports of today come in before the deadline (its late ones are on earlier days).
    assert {key for key, row in mine.items() if row["value"] == 0} <= {"reports_late_today"}


@pytest.mark.parametrize("username", ROLES + ["demo_commander@street"])
def test_the_snapshot_sums_to_the_live_count_of_every_tile(db, snapshot_desks, username):
    pages, snap = snapshot_desks
    live = {key: row["value"] for key, row in pages[(username, 0)].items()}
    summed = {key: row["value"] for key, row in pages[(username, 3600)].items()}
    assert summed == live
    # The big lists were read from the snapshot (their time is the snapshot's), not counted again.
    assert {"residents", "households", "keypersons_open"} <= set(snap.counts)
    assert pages[(username, 3600)]["residents"]["as_of"] == snap.taken_at
    # The charts' trends and the round's coverage by child area, summed from it, equal too.
    assert pages[(username, 3600, "charts")] == pages[(username, 0, "charts")]
    assert snap.trends["keypersons"] and snap.coverage

"""Dashboard scoping on the fixed cast (decision 0032): a community sees its own, a street its
communities and their grids, an area outside the user's subtree is not found, the charts' JSON
counts only the user's rows, and the ledger's new "current measure" filters behind two tiles."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.control.models import KeyPerson, Protocol
from epigrid.people.models import Person
from tests.scoping import make_person


@pytest.fixture(autouse=True)
def _counted_afresh(settings):
    # Each test counts for itself: no user's figures kept from an earlier test.
    settings.DASHBOARD_CACHE_SECONDS = 0


# -- scoping on the fixed cast: a community sees its own, a street its communities -------------


def _entry(area, category="close_contact"):
    person = make_person(area=area)
    return KeyPerson.objects.create(
        person=person, area=area, category=category, protocol=Protocol.objects.get(is_active=True)
    )


@pytest.fixture
def ledger(cast):
    """Two open entries in grid A, one in grid B."""
    _entry(cast.grid_a)
    _entry(cast.grid_a, "suspected")
    _entry(cast.grid_b)
    return cast


def _values(client, query=""):
    response = client.get("/dashboard/" + query)
    return response, {row["key"]: row["value"] for _l, _k, rows in response.context["groups"] for row in rows}


def test_each_level_sees_its_own_subtree(ledger):
    cast = ledger
    _r, grid = _values(cast.client_for(cast.grid_worker))
    _r, community = _values(cast.client_for(cast.community_officer))
    assert grid["keypersons_open"] == 2 and community["keypersons_open"] == 3
    assert grid["residents"] == Person.objects.filter(area=cast.grid_a).count()


def test_a_street_drills_down_to_its_communities_and_grids(ledger):
    cast = ledger
    client = cast.client_for(cast.street_officer)
    response, top = _values(client)
    assert [a.code for a in response.context["children"]] == [cast.community.code]
    response, grid_b = _values(client, f"?area={cast.grid_b.code}")
    assert grid_b["keypersons_open"] == 1 and top["keypersons_open"] == 3
    trail = [a.code for a in response.context["trail"]]
    assert trail == [cast.street.code, cast.community.code, cast.grid_b.code]


@pytest.mark.parametrize(
    ("user", "area"),
    [("grid_worker", "grid_b"), ("community_officer", "street"), ("street_officer", "district")],
)
def test_an_area_outside_the_subtree_is_not_found(ledger, user, area):
    cast = ledger
    client = cast.client_for(getattr(cast, user))
    code = getattr(cast, area).code
    assert client.get(f"/dashboard/?area={code}").status_code == 404
    assert client.get(f"/dashboard/data/?area={code}").status_code == 404
    assert client.get(f"/dashboard/brief.pdf?area={code}").status_code == 404
    api = APIClient()
    api.force_authenticate(getattr(cast, user))
    assert api.get(f"/api/v1/dashboard/?area={code}").status_code == 404


def test_the_charts_json_is_scoped(ledger):
    cast = ledger
    grid = cast.client_for(cast.grid_worker_b).get("/dashboard/data/").json()
    community = cast.client_for(cast.community_officer).get("/dashboard/data/").json()
    by_key = {s["key"]: s["data"] for s in grid["trends"]["series"]}
    assert sum(by_key["keypersons"]) == 1
    assert sum(next(s["data"] for s in community["trends"]["series"] if s["key"] == "keypersons")) == 3
    categories = {row["key"]: row["value"] for row in community["categories"]}
    assert categories["keypersons_suspected"] == 1 and categories["keypersons_close_contact"] == 2


def test_a_user_without_any_tile_is_forbidden(cast):
    client = cast.client_for(cast.nobody)
    assert client.get("/dashboard/").status_code == 403
    assert Client().get("/dashboard/").status_code == 302  # to the login page


def test_measure_ending_today_follows_the_current_step(ledger):
    """The ledger's new filter behind "measure ends today": only entries whose current step ends today."""
    from epigrid.control.models import ControlMeasure

    cast = ledger
    today = timezone.localdate()
    entry = KeyPerson.objects.filter(area=cast.grid_a).first()
    ControlMeasure.objects.create(
        key_person=entry,
        protocol=entry.protocol,
        sequence=1,
        kind="home_isolation",
        status="active",
        start=today - datetime.timedelta(days=6),
        planned_end=today,
    )
    _r, values = _values(cast.client_for(cast.grid_worker))
    assert values["measures_ending_today"] == 1 and values["measure_home_isolation"] == 1
    assert values["measure_centralized"] == 0


def test_a_users_figures_are_kept_for_a_few_seconds_only_and_only_for_them(ledger, settings):
    from django.core.cache import cache

    cast = ledger
    settings.DASHBOARD_CACHE_SECONDS = 10
    cache.clear()
    officer, grid = cast.client_for(cast.community_officer), cast.client_for(cast.grid_worker)
    assert _values(officer)[1]["keypersons_open"] == 3
    _entry(cast.grid_a)
    # Within the seconds the page states, the officer's own counts are kept; the grid worker, whose
    # scope differs, counts afresh.
    response, kept = _values(officer)
    assert kept["keypersons_open"] == 3 and b"10" in response.content
    assert _values(grid)[1]["keypersons_open"] == 3
    cache.clear()  # the seconds have passed
    assert _values(officer)[1]["keypersons_open"] == 4

"""Coverage of a round, page by page down the drill-down, checked against a brute-force count over
persons, samples and exemptions; the page's scope; live refresh; Chinese."""

import pytest
from django.urls import reverse

from epigrid.areas.models import Building, Household
from epigrid.core.identity import make_resident_id
from epigrid.people.models import Person
from epigrid.testing import services
from epigrid.testing.models import Exemption, ExemptionReason, Find, Sample
from tests.scoping import make_person
from tests.testing_cast import Round, new_tube


@pytest.fixture
def world(cast):
    """Persons in both grids and two buildings of grid A: sampled, sampled twice, exempt, exempt
    and sampled after all, missed, one without a household, and an unregistered find."""
    rnd = Round(cast)
    building_a2 = Building.objects.create(area=cast.grid_a, name="2号楼")
    household_a2 = Household.objects.create(building=building_a2, unit="1", room="301")
    household_a3 = Household.objects.create(building=cast.building_a, unit="2", room="102")
    a1 = [make_person(household=cast.household_a, name=f"甲{i}") for i in range(5)]
    a2 = [make_person(household=household_a2, name=f"乙{i}") for i in range(4)]
    [make_person(household=household_a3, name=f"丙{i}") for i in range(2)]
    loose = make_person(area=cast.grid_a, name="无户")
    b = [make_person(household=cast.household_b, name=f"丁{i}") for i in range(6)]
    # Sampled: three of a1, two of a2 (one twice), four of b (through point B), the loose one.
    scans = [rnd.scan(p, new_tube()) for p in (*a1[:3], *a2[:2], loose)]
    scans.append(rnd.scan(a2[0], new_tube()))  # twice
    scans += [rnd.scan(p, new_tube(), desk=rnd.desk_b) for p in b[:4]]
    # Not in the registry: a find, kept with its sample, counted nowhere.
    scans.append(rnd.scan(number=make_resident_id("620102", __import__("datetime").date(1990, 1, 1), 9999)))
    outcomes = services.ingest(rnd.sampler, scans[:-5] + scans[-1:])
    outcomes += services.ingest(rnd.sampler_b, scans[-5:-1])
    assert all(o["status"] == "accepted" for o in outcomes), outcomes
    assert Find.objects.count() == 1
    # Exempt: one of a1 (not sampled), one of a2 sampled after all, one of b.
    services.exempt(cast.admin, rnd.campaign, a1[4], ExemptionReason.BEDRIDDEN)
    services.exempt(cast.admin, rnd.campaign, a2[1], ExemptionReason.AWAY)
    services.exempt(cast.admin, rnd.campaign, b[5], ExemptionReason.HOSPITAL)
    return rnd, {"building_a2": building_a2, "household_a2": household_a2, "household_a3": household_a3}


def brute(campaign, persons):
    persons = [p for p in persons if p.merged_into_id is None]
    sampled = {p for p in persons if Sample.objects.filter(campaign=campaign, person=p).exists()}
    exempt = {
        p
        for p in persons
        if Exemption.objects.filter(campaign=campaign, person=p).exists() and p not in sampled
    }
    expected = len(persons) - len(exempt)
    return {
        "expected": expected,
        "sampled": len(sampled),
        "exempt": len(exempt),
        "missed": expected - len(sampled),
        "coverage": round(100 * len(sampled) / expected, 1) if expected else None,
    }


def figures(row):
    return {k: row[k] for k in ("expected", "sampled", "exempt", "missed", "coverage")}


def page(client, campaign, **params):
    response = client.get(reverse("testing:coverage", args=[campaign.pk]), params)
    assert response.status_code == 200
    return response.context


def in_area(area):
    return list(Person.objects.filter(area__path__startswith=area.path))


def test_every_node_of_the_drill_down_matches_a_brute_force_count(cast, world):
    rnd, extra = world
    campaign = rnd.campaign
    client = cast.client_for(cast.commander)
    for area in (cast.district, cast.street, cast.community):
        ctx = page(client, campaign, area=area.code)
        assert figures(ctx["head"]) == brute(campaign, in_area(area))
        for row in ctx["rows"]:
            child = type(area).objects.get(pk=row["area_id"])
            assert figures(row) == brute(campaign, in_area(child))
            assert row["url"] == f"?area={child.code}"
    # The community's rows are its two grids.
    ctx = page(client, campaign, area=cast.community.code)
    assert [r["code"] for r in ctx["rows"]] == [cast.grid_a.code, cast.grid_b.code]
    # A grid: a row per building (and one for residents without a household).
    for grid in (cast.grid_a, cast.grid_b):
        ctx = page(client, campaign, area=grid.code)
        assert figures(ctx["head"]) == brute(campaign, in_area(grid))
        assert sum(r["expected"] for r in ctx["rows"]) == ctx["head"]["expected"]
        for row in ctx["rows"]:
            members = [
                p for p in in_area(grid) if (p.household.building_id if p.household else None) == row["key"]
            ]
            assert figures(row) == brute(campaign, members)
    # A building: a row per household, linking to the household.
    for building in (cast.building_a, extra["building_a2"]):
        ctx = page(client, campaign, area=cast.grid_a.code, building=building.pk)
        members = [p for p in in_area(cast.grid_a) if p.household and p.household.building_id == building.pk]
        assert figures(ctx["head"]) == brute(campaign, members)
        for row in ctx["rows"]:
            household = Household.objects.get(pk=row["key"])
            assert figures(row) == brute(campaign, list(household.members.all()))
            assert row["url"] == household.get_absolute_url()


def test_the_figures_are_what_the_world_says(cast, world):
    rnd, _extra = world
    ctx = page(cast.client_for(cast.commander), rnd.campaign, area=cast.community.code)
    # 18 residents; exempt: a1[4] and b[5] (a2[1] was sampled after all); sampled 10.
    assert figures(ctx["head"]) == {"expected": 16, "sampled": 10, "exempt": 2, "missed": 6, "coverage": 62.5}


def test_the_page_links_down_and_refreshes_itself_with_htmx(cast, world):
    rnd, _extra = world
    client = cast.client_for(cast.commander)
    url = reverse("testing:coverage", args=[rnd.campaign.pk])
    body = client.get(url, {"area": cast.community.code}).content.decode()
    assert f'href="?area={cast.grid_a.code}"' in body
    assert 'hx-trigger="every 12s"' in body and "data-width=" in body
    assert "style=" not in body.split("<main", 1)[1]  # CSP: widths come from epigrid.js
    panel = client.get(url, {"area": cast.community.code}, HTTP_HX_REQUEST="true").content.decode()
    assert panel.lstrip().startswith("<div") or "coverage-panel" in panel
    assert "<html" not in panel and 'id="coverage-panel"' in panel
    grid = client.get(url, {"area": cast.grid_a.code}).content.decode()
    assert reverse("testing:missed", args=[rnd.campaign.pk]) in grid
    assert f"building={cast.building_a.pk}" in grid


def test_the_page_follows_the_users_scope(cast, world):
    rnd, _extra = world
    url = reverse("testing:coverage", args=[rnd.campaign.pk])
    missed = reverse("testing:missed", args=[rnd.campaign.pk])
    worker_b = cast.client_for(cast.grid_worker_b)
    assert worker_b.get(url, {"area": cast.grid_a.code}).status_code == 404
    assert worker_b.get(url, {"area": cast.community.code}).status_code == 404
    assert worker_b.get(missed, {"area": cast.grid_a.code}).status_code == 404
    assert worker_b.get(url, {"area": cast.grid_b.code}).status_code == 200
    # Without an area a grid worker lands on their own grid.
    worker_a = cast.client_for(cast.grid_worker)
    assert worker_a.get(url).context["node"] == cast.grid_a
    # A building of another grid is not found through one's own grid.
    assert worker_b.get(url, {"area": cast.grid_b.code, "building": cast.building_a.pk}).status_code == 404
    # A sampler scans; coverage is not theirs.
    assert cast.client_for(rnd.sampler).get(url).status_code == 403
    assert cast.client_for(cast.nobody).get(url).status_code == 403


def test_it_renders_in_chinese(cast, world):
    rnd, _extra = world
    body = (
        cast.client_for(cast.commander)
        .get(reverse("testing:coverage", args=[rnd.campaign.pk]))
        .content.decode()
    )
    for word in ("覆盖率", "应检", "已采", "免检", "未检"):
        assert word in body

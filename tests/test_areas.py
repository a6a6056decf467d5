"""The area tree: codes, materialized paths, subtree counts and the tree pages."""

import pytest
from django.core.exceptions import ValidationError

from epigrid.areas.counts import subtree_counts
from epigrid.areas.models import Area, Level
from tests.scoping import make_person


def test_it_builds_paths_from_codes(cast):
    assert cast.grid_a.path == "/620100/620102/620102001000/620102001001/620102001001001/"


def test_it_selects_a_subtree_by_path(cast):
    assert set(cast.community.subtree()) == {cast.community, cast.grid_a, cast.grid_b}


@pytest.mark.parametrize(
    ("parent_attr", "level", "code"),
    [
        ("community", Level.GRID, "620102001002001"),  # does not continue its community's code
        ("street", Level.COMMUNITY, "62010200100"),  # 11 digits
        ("community", Level.STREET, "620102001003"),  # wrong level under a community
        (None, Level.STREET, "620102009000"),  # a street cannot be a root
    ],
)
def test_it_rejects_codes_and_levels_that_break_the_tree(cast, parent_attr, level, code):
    area = Area(code=code, name="x", level=level, parent=getattr(cast, parent_attr) if parent_attr else None)
    with pytest.raises(ValidationError):
        area.full_clean()


def test_it_moves_descendant_paths_with_their_parent(cast):
    other_street = Area.objects.create(
        code="620102002000", name="雁南街道", level=Level.STREET, parent=cast.district
    )
    cast.community.parent = other_street
    cast.community.save()
    cast.grid_a.refresh_from_db()
    assert cast.grid_a.path.startswith(other_street.path)


def test_it_counts_households_and_persons_rolled_up_to_each_node(cast):
    make_person(household=cast.household_a)
    make_person(household=cast.household_a)
    make_person(household=cast.household_b)
    households, persons = subtree_counts(
        cast.commander, cast.community, [cast.community, cast.grid_a, cast.grid_b]
    )
    assert persons == {cast.community.pk: 3, cast.grid_a.pk: 2, cast.grid_b.pk: 1}
    assert households == {cast.community.pk: 2, cast.grid_a.pk: 1, cast.grid_b.pk: 1}


def test_it_counts_only_inside_the_users_scope(cast):
    make_person(household=cast.household_a)
    make_person(household=cast.household_b)
    _households, persons = subtree_counts(cast.grid_worker, cast.community, [cast.community])
    assert persons == {cast.community.pk: 1}


def test_it_shows_a_grid_worker_only_their_grid_in_the_tree(cast):
    html = cast.client_for(cast.grid_worker).get("/areas/").content.decode()
    assert "第一网格" in html and "第二网格" not in html and "九州社区" not in html


def test_it_shows_children_with_counts_on_an_area_page(cast):
    make_person(household=cast.household_b)
    response = cast.client_for(cast.street_officer).get(cast.community.get_absolute_url())
    children = {c.name: (c.household_count, c.person_count) for c in response.context["children"]}
    assert children == {"第一网格": (1, 0), "第二网格": (1, 1)}


def test_it_answers_404_for_an_area_outside_the_users_scope(cast):
    assert cast.client_for(cast.grid_worker).get(cast.grid_b.get_absolute_url()).status_code == 404


def test_it_lets_only_administrators_add_areas(cast):
    data = {"parent": cast.community.pk, "level": Level.GRID, "code": "620102001001003", "name": "第三网格"}
    assert cast.client_for(cast.community_officer).post("/areas/add/", data).status_code == 403
    assert cast.client_for(cast.admin).post("/areas/add/", data).status_code == 302
    assert Area.objects.get(code="620102001001003").path.startswith(cast.community.path)


def test_it_moves_households_and_members_with_their_building(cast):
    person = make_person(household=cast.household_a)
    cast.building_a.area = cast.grid_b
    cast.building_a.save()
    person.refresh_from_db()
    cast.household_a.refresh_from_db()
    assert (cast.household_a.area, person.area) == (cast.grid_b, cast.grid_b)


def test_it_refuses_a_second_name_for_a_building_the_grid_has(cast):
    from epigrid.areas.models import Building

    client = cast.client_for(cast.admin)
    response = client.post("/areas/buildings/add/", {"area": cast.grid_a.pk, "name": "一号楼", "address": ""})
    assert response.status_code == 200 and "1号楼" in response.content.decode()
    assert Building.objects.filter(area=cast.grid_a).count() == 1
    api = _api_post(cast.admin, "/api/v1/buildings/", {"area": cast.grid_a.code, "name": "1栋"})
    assert api.status_code == 400 and "1号楼" in str(api.json())
    assert client.post("/areas/buildings/add/", {"area": cast.grid_a.pk, "name": "2号楼"}).status_code == 302


def _api_post(user, url, data):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user)
    return api.post(url, data, format="json")

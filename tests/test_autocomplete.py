"""Large choice sets are searched, not listed: /options/<model>/ answers scoped matches."""

from epigrid.areas.models import Building, Household
from tests.scoping import make_person


def test_it_offers_matching_households_inside_the_users_scope(cast):
    html = (
        cast.client_for(cast.community_officer)
        .get("/options/areas.household/", {"term": "1号楼 101"})
        .content.decode()
    )
    assert f'value="{cast.household_a.pk}"' in html
    assert f'value="{cast.household_b.pk}"' not in html


def test_it_offers_nothing_of_another_grid(cast):
    html = (
        cast.client_for(cast.grid_worker_b)
        .get("/options/areas.household/", {"term": "1号楼"})
        .content.decode()
    )
    assert f'value="{cast.household_a.pk}"' not in html


def test_it_offers_areas_by_code_when_the_field_keys_on_codes(cast):
    html = (
        cast.client_for(cast.street_officer)
        .get("/options/areas.area/", {"term": "620102001001", "key": "code"})
        .content.decode()
    )
    assert f'value="{cast.grid_a.code}"' in html and f'value="{cast.grid_a.pk}"' not in html


def test_it_caps_the_number_of_options(cast):
    Building.objects.bulk_create([Building(area=cast.grid_a, name=f"{i}号楼") for i in range(2, 40)])
    html = cast.client_for(cast.grid_worker).get("/options/areas.building/", {"term": ""}).content.decode()
    assert html.count("<option value=") - html.count('<option value="">') == 20


def test_it_masks_people_in_options(cast):
    person = make_person(household=cast.household_a, name="吴一")
    html = (
        cast.client_for(cast.community_officer)
        .get("/options/people.person/", {"term": "吴"})
        .content.decode()
    )
    assert person.masked_doc_number in html and person.doc_number not in html


def test_it_refuses_models_without_autocomplete_and_anonymous_users(cast):
    client = cast.client_for(cast.admin)
    assert client.get("/options/accounts.user/").status_code == 404
    assert client.get("/options/nonsense/").status_code == 404
    from django.test import Client

    assert Client().get("/options/areas.area/").status_code in (302, 403)


def test_it_renders_only_the_selected_household_in_the_person_form(cast):
    for room in range(300, 330):
        Household.objects.create(building=cast.building_a, unit="1", room=str(room))
    html = (
        cast.client_for(cast.grid_worker)
        .get("/people/add/", {"household": cast.household_a.pk})
        .content.decode()
    )
    assert f'<option value="{cast.household_a.pk}" selected>' in html
    assert html.count("<option") < 30

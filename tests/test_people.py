"""Person registry: search, search-before-create, merge, masking and scope on writes."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.translation import gettext as _

from epigrid.accounts.models import Grant
from epigrid.audit.models import ObjectChange
from epigrid.core.identity import make_resident_id
from epigrid.people import services
from epigrid.people.models import Person, Tag
from epigrid.people.search import search_persons
from tests.scoping import make_person


@pytest.fixture
def wang(cast):
    return make_person(household=cast.household_a, name="王小明", phone="+8613912345678")


def _found(text):
    return list(search_persons(Person.objects.all(), text))


def test_it_finds_a_person_by_name_prefix(wang):
    assert _found("王小") == [wang]


def test_it_finds_a_person_by_full_id_typed_with_spaces(wang):
    spaced = " ".join([wang.doc_number[:6], wang.doc_number[6:14], wang.doc_number[14:]])
    assert _found(spaced) == [wang]


def test_it_finds_a_person_by_the_last_four_id_characters(wang):
    assert wang in _found(wang.doc_number[-4:])


def test_it_finds_a_person_by_phone(wang):
    assert _found("139 1234 5678") == [wang]


def test_it_does_not_find_unrelated_people(wang):
    assert _found("李") == []


def test_it_finds_a_foreign_resident_by_name_as_typed(cast):
    john = make_person(household=cast.household_a, name="John Smith", doc_type="400", doc_number="E12345678")
    assert _found("John Sm") == [john]
    assert _found("  John ") == [john]  # outer spaces are trimmed
    assert _found("Ｊｏｈｎ") == [john]  # full-width letters are half-width letters
    assert _found("JohnSmith") == []  # inner spaces count


def test_it_finds_a_passport_by_its_number(cast):
    john = make_person(household=cast.household_a, name="John Smith", doc_type="400", doc_number="E12345678")
    assert _found("e1234 5678") == [john]


def test_it_looks_for_digit_terms_only_in_documents_and_phones(cast, wang):
    # Five digits can be neither this ID's tail (…7 + sequence + check digit) nor a phone.
    make_person(household=cast.household_a, name="30245 号租户")
    assert _found("30245") == []
    assert _found("139-1234-5678") == [wang]


def test_it_orders_name_matches_by_name(cast):
    later = make_person(household=cast.household_a, name="王小明")
    earlier = make_person(household=cast.household_a, name="王丽")
    other = make_person(household=cast.household_a, name="李丽")
    assert _found("王") == [earlier, later] and other.pk


def test_it_matches_wildcard_characters_in_names_literally(cast):
    percent = make_person(household=cast.household_a, name="%王")
    make_person(household=cast.household_a, name="王%")
    assert _found("%") == [percent]
    assert _found("_") == []


def test_it_limits_search_to_the_users_scope(cast, wang):
    client = cast.client_for(cast.grid_worker_b)
    assert wang.get_absolute_url() not in client.get("/people/", {"q": "王小明"}).content.decode()


def test_it_masks_ids_and_phones_in_the_person_list(cast, wang):
    html = cast.client_for(cast.grid_worker).get("/people/").content.decode()
    assert wang.masked_doc_number in html
    assert wang.doc_number not in html
    assert "13912345678" not in html


def test_it_masks_ids_on_the_household_page(cast, wang):
    html = cast.client_for(cast.grid_worker).get(cast.household_a.get_absolute_url()).content.decode()
    assert wang.masked_doc_number in html and wang.doc_number not in html


def test_it_keeps_the_person_list_query_count_flat(cast):
    client = cast.client_for(cast.grid_worker)
    client.get("/people/")  # warm caches (content types, sessions)
    make_person(household=cast.household_a, name="甲")
    with CaptureQueriesContext(connection) as few:
        client.get("/people/")
    tag = Tag.objects.get(code="elderly_alone")
    for i in range(15):
        make_person(household=cast.household_a, name=f"乙{i}").tags.add(tag)
    with CaptureQueriesContext(connection) as many:
        client.get("/people/")
    assert len(many) == len(few)


def test_it_filters_the_list_by_tag_and_area(cast, wang):
    other = make_person(household=cast.household_b, name="赵六")
    wang.tags.add(Tag.objects.get(code="disabled"))
    client = cast.client_for(cast.commander)
    by_tag = client.get("/people/", {"tag": "disabled"}).content.decode()
    assert "王小明" in by_tag and "赵六" not in by_tag
    by_area = client.get("/people/", {"area": cast.grid_b.code}).content.decode()
    assert "赵六" in by_area and "王小明" not in by_area and other.pk


def _person_form(cast, doc_number, **extra):
    return {
        "doc_type": "111",
        "doc_number": doc_number,
        "name": "新人",
        "phone": "",
        "residence_type": "registered",
        "household": cast.household_a.pk,
        **extra,
    }


def test_it_creates_a_person_with_sex_and_birth_date_from_the_id(cast):
    number = make_resident_id("620102", datetime.date(1938, 2, 1), 33)
    response = cast.client_for(cast.grid_worker).post("/people/add/", _person_form(cast, number))
    assert response.status_code == 302
    person = Person.objects.get(doc_number=number)
    assert (person.sex, person.birth_date, person.area) == ("M", datetime.date(1938, 2, 1), cast.grid_a)


def test_it_opens_the_existing_record_instead_of_creating_a_duplicate(cast, wang):
    response = cast.client_for(cast.grid_worker).post(
        "/people/add/", _person_form(cast, wang.doc_number.lower())
    )
    assert response.status_code == 302 and response.url == wang.get_absolute_url()
    assert Person.objects.filter(doc_number=wang.doc_number).count() == 1


def test_it_does_not_leak_a_record_of_another_area_on_create(cast, wang):
    client = cast.client_for(cast.grid_worker_b)
    form = _person_form(cast, wang.doc_number, household=cast.household_b.pk)
    response = client.post("/people/add/", form, follow=True)
    html = response.content.decode()
    assert "王小明" not in html and Person.objects.count() == 1


def test_it_rejects_a_bad_check_digit_with_a_clear_message(cast):
    response = cast.client_for(cast.grid_worker).post(
        "/people/add/", _person_form(cast, "360426199101010072")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["doc_number"][0] == str(
        _("The check digit of this resident ID is wrong: mistyped or not a real ID.")
    )
    assert not Person.objects.exists()


def test_it_refuses_to_move_a_person_out_of_the_users_scope(cast, wang):
    client = cast.client_for(cast.grid_worker)
    form = {"name": wang.name, "phone": "", "residence_type": "registered", "household": cast.household_b.pk}
    response = client.post(f"/people/{wang.pk}/edit/", form)
    assert response.status_code == 200  # the form again, with the error
    wang.refresh_from_db()
    assert wang.household == cast.household_a


def test_it_rolls_back_a_move_to_an_area_the_user_may_only_view(cast, wang):
    # Viewing the whole district (auditor) puts household B among the choices, but the
    # user may change only grid A: the save is re-checked and undone, nothing is logged.
    Grant.objects.create(user=cast.grid_worker, role="auditor", area=cast.district)
    client = cast.client_for(cast.grid_worker)
    form = {"name": "改名", "residence_type": "registered", "household": cast.household_b.pk}
    response = client.post(f"/people/{wang.pk}/edit/", form)
    assert response.status_code == 200 and response.context["form"].non_field_errors()
    wang.refresh_from_db()
    assert (wang.name, wang.household) == ("王小明", cast.household_a)
    assert not ObjectChange.objects.filter(object_id=wang.pk, action="update").exists()


def test_it_merges_a_duplicate_and_keeps_both_histories(cast, wang):
    duplicate = make_person(household=cast.household_a, name="王小明", doc_type="400", doc_number="E12345678")
    cast.household_a.contact_person = duplicate
    cast.household_a.save()
    duplicate.tags.add(Tag.objects.get(code="chronic"))
    services.merge(wang, duplicate, reason="same person, passport and ID card")
    cast.household_a.refresh_from_db()
    duplicate.refresh_from_db()
    assert cast.household_a.contact_person == wang
    assert duplicate.merged_into == wang
    assert list(wang.tags.values_list("code", flat=True)) == ["chronic"]
    assert ObjectChange.objects.filter(action="merge", object_id__in=[wang.pk, duplicate.pk]).count() == 2
    assert ObjectChange.objects.filter(object_id=duplicate.pk, action="create").exists()


def test_it_finds_the_survivor_by_the_duplicates_document(cast, wang):
    duplicate = make_person(household=cast.household_a, name="王小明", doc_type="400", doc_number="E12345678")
    services.merge(wang, duplicate)
    assert services.find_by_document("400", "e12345678") == wang


def test_it_hides_merged_records_from_the_list(cast, wang):
    duplicate = make_person(household=cast.household_a, name="王小明", doc_type="400", doc_number="E12345678")
    services.merge(wang, duplicate)
    html = cast.client_for(cast.grid_worker).get("/people/").content.decode()
    assert duplicate.masked_doc_number not in html


def test_it_merges_through_the_page_for_a_community_officer(cast, wang):
    duplicate = make_person(household=cast.household_a, name="王晓明")
    client = cast.client_for(cast.community_officer)
    response = client.post(
        f"/people/{wang.pk}/merge/", {"duplicate": duplicate.pk, "reason": "重复登记", "confirm": "on"}
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into == wang


def test_it_refuses_merging_for_a_grid_worker(cast, wang):
    duplicate = make_person(household=cast.household_a, name="王晓明")
    client = cast.client_for(cast.grid_worker)
    assert (
        client.post(
            f"/people/{wang.pk}/merge/", {"duplicate": duplicate.pk, "reason": "x", "confirm": "on"}
        ).status_code
        == 403
    )


def test_it_reveals_full_data_with_a_reason_and_logs_it(cast, wang):
    client = cast.client_for(cast.community_officer)
    response = client.post(f"/people/{wang.pk}/reveal/", {"reason": "核实身份"})
    assert wang.doc_number in response.content.decode()
    row = ObjectChange.objects.get(action="reveal", object_id=wang.pk)
    assert (row.user, row.reason) == (cast.community_officer, "核实身份")


def test_it_refuses_a_reveal_without_a_reason(cast, wang):
    response = cast.client_for(cast.community_officer).post(f"/people/{wang.pk}/reveal/", {"reason": ""})
    assert response.status_code == 400
    assert wang.doc_number not in response.content.decode()
    assert not ObjectChange.objects.filter(action="reveal").exists()


def test_it_refuses_a_reveal_to_a_grid_worker(cast, wang):
    response = cast.client_for(cast.grid_worker).post(f"/people/{wang.pk}/reveal/", {"reason": "想看看"})
    assert response.status_code == 403

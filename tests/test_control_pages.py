"""Pages of the key-person ledger: list, register (search before create), the entry page and
its actions. Work lists: test_control_worklists.py; the release notice: test_control_pdf.py."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epigrid.control import services
from epigrid.control.models import CheckIn, ControlMeasure, KeyPerson
from tests.scoping import ScopedViewTests, make_person

TODAY = timezone.localdate()


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def register(person, area, category="close_contact", exposure=None, **fields):
    exposure = exposure or days_ago(2)
    entry, _created = services.register_key_person(person, category, area, last_exposure=exposure, **fields)
    return entry


@pytest.fixture(autouse=True)
def _english(settings):
    # Assertions read English messages; the zh_Hans catalogue may translate them any day.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def person(cast):
    return make_person(household=cast.household_a, name="密接甲")


@pytest.fixture
def entry(cast, person):
    return register(person, cast.grid_a)  # day 1 was yesterday: step 1 is running


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


class TestKeyPersonPages(ScopedViewTests):
    model = KeyPerson
    list_url = "/control/"

    def make_object(self, cast, grid):
        household = cast.household_a if grid == cast.grid_a else cast.household_b
        return register(make_person(household=household, name="隔离乙"), grid)

    def list_text(self, obj):
        return obj.person.name

    def edit_data(self, cast, obj):
        return {
            "source": "checkpoint",
            "origin": "西安市雁塔区",
            "transport": "G1234",
            "assistance_in_province": "on",
            "grid_worker": "王网格",
            "doctor": "李医生",
            "notes": "",
        }


# The ledger list


def test_it_lists_entries_with_masked_id_and_current_measure(cast, entry):
    html = page(cast.client_for(cast.grid_worker), "/control/")
    assert entry.person.masked_doc_number in html
    assert entry.person.doc_number not in html
    assert "Centralized isolation" in html
    step = entry.measures.get(sequence=1)
    assert f"{step.planned_end:%Y-%m-%d}" in html
    assert entry.get_absolute_url() in html


def test_it_filters_the_ledger_by_the_last_four_id_characters(cast, entry):
    other = register(make_person(household=cast.household_a, name="密接丙"), cast.grid_a)
    html = page(cast.client_for(cast.grid_worker), f"/control/?q={entry.person.doc_number[-4:]}")
    assert entry.person.name in html and other.person.name not in html


def test_it_pages_the_ledger_in_a_fixed_number_of_queries(cast):
    client = cast.client_for(cast.grid_worker)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/control/").status_code == 200
        return len(queries)

    register(make_person(household=cast.household_a, name="密接首位"), cast.grid_a)
    client.get("/control/")  # session, content types
    few = count()
    for n in range(12):
        register(make_person(household=cast.household_a, name=f"密接{n:02d}"), cast.grid_a)
    assert count() == few <= 8


def test_it_offers_key_persons_and_today_in_the_navigation(cast):
    html = page(cast.client_for(cast.grid_worker), "/people/")
    assert 'href="/control/"' in html and 'href="/control/today/"' in html
    assert 'href="/control/"' not in page(cast.client_for(cast.lab), "/areas/")


# Register: search before create


def test_it_finds_the_person_first_by_the_last_four_id_characters(cast, person):
    html = page(cast.client_for(cast.grid_worker), f"/control/add/?q={person.doc_number[-4:]}")
    assert person.name in html and f"?person={person.pk}" in html
    assert person.doc_number not in html


def test_it_links_to_the_person_form_when_nobody_is_found(cast):
    html = page(cast.client_for(cast.grid_worker), "/control/add/?q=查无此人")
    assert "/people/add/" in html


def test_it_searches_only_the_users_scope(cast, person):
    client = cast.client_for(cast.grid_worker_b)
    assert f"?person={person.pk}" not in page(client, f"/control/add/?q={person.name}")
    assert client.get(f"/control/add/?person={person.pk}").status_code == 404


def test_it_offers_the_persons_grid_as_the_responsible_area(cast, person):
    html = page(cast.client_for(cast.grid_worker), f"/control/add/?person={person.pk}")
    assert f'<option value="{cast.grid_a.pk}" selected>' in html


def test_it_registers_a_close_contact_and_plans_the_measures(cast, person):
    response = cast.client_for(cast.grid_worker).post(
        "/control/add/",
        {
            "person": person.pk,
            "category": "close_contact",
            "identified_on": TODAY.isoformat(),
            "last_exposure": days_ago(1).isoformat(),
            "area": cast.grid_a.pk,
            "source": "tracing",
            "grid_worker": "王网格",
        },
    )
    entry = KeyPerson.objects.get(person=person)
    assert response.status_code == 302 and response.url == entry.get_absolute_url()
    assert (entry.category, entry.area, entry.grid_worker) == ("close_contact", cast.grid_a, "王网格")
    assert list(entry.measures.values_list("kind", flat=True)) == ["centralized", "home_monitoring"]


def test_it_opens_the_existing_open_entry_instead_of_a_second_one(cast, person, entry):
    client = cast.client_for(cast.grid_worker)
    response = client.get(f"/control/add/?person={person.pk}", follow=True)
    assert response.redirect_chain[-1][0] == entry.get_absolute_url()
    assert any("already in the ledger" in m for m in messages_of(response))
    response = client.post(
        "/control/add/",
        {
            "person": person.pk,
            "category": "fever",
            "identified_on": TODAY.isoformat(),
            "area": cast.grid_a.pk,
        },
    )
    assert response.status_code == 302 and response.url == entry.get_absolute_url()
    assert KeyPerson.objects.filter(person=person).count() == 1
    assert "/control/" in page(client, f"/control/add/?q={person.name}")  # the search links the entry


def test_it_asks_for_the_date_the_category_counts_from(cast, person):
    response = cast.client_for(cast.grid_worker).post(
        "/control/add/",
        {
            "person": person.pk,
            "category": "high_risk_arrival",
            "identified_on": TODAY.isoformat(),
            "area": cast.grid_a.pk,
            "source": "checkpoint",
        },
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == ["arrival"]
    assert 'data-testid="error-arrival"' in response.content.decode()
    assert not KeyPerson.objects.exists()


def test_it_refuses_future_dates_and_a_missing_request_time(cast, person):
    response = cast.client_for(cast.grid_worker).post(
        "/control/add/",
        {
            "person": person.pk,
            "category": "close_contact",
            "identified_on": TODAY.isoformat(),
            "last_exposure": (TODAY + datetime.timedelta(days=2)).isoformat(),
            "area": cast.grid_a.pk,
            "source": "assistance",
        },
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"last_exposure", "assistance_received_at"}


def test_it_refuses_registration_to_a_read_only_role(cast, person):
    client = cast.client_for(cast.auditor)
    assert client.get("/control/add/").status_code == 403
    assert client.post("/control/add/", {"person": person.pk}).status_code == 403


# The entry page


def test_it_shows_the_plan_team_and_history_with_a_masked_id(cast, entry):
    services.release_early(entry.measures.get(sequence=1), "专家评估")
    html = page(cast.client_for(cast.grid_worker), entry.get_absolute_url())
    assert entry.person.masked_doc_number in html and entry.person.doc_number not in html
    assert entry.protocol.name in html
    first_test = entry.measures.get(sequence=1).test_dates[0]
    assert first_test[5:] in html
    assert "专家评估" in html  # the history's note


def test_it_highlights_an_overdue_assistance_request(cast, person):
    received = timezone.now() - datetime.timedelta(hours=30)
    entry = register(
        person, cast.grid_a, source="assistance", assistance_received_at=received, assistance_in_province=True
    )
    html = page(cast.client_for(cast.grid_worker), entry.get_absolute_url())
    assert 'data-testid="assistance-overdue"' in html
    entry.assistance_in_province = False  # 48 h: not yet due
    entry.save()
    assert 'data-testid="assistance-overdue"' not in page(
        cast.client_for(cast.grid_worker), entry.get_absolute_url()
    )


def test_it_shows_a_read_only_role_no_action_forms(cast, entry):
    html = page(cast.client_for(cast.auditor), entry.get_absolute_url())
    for testid in ("checkin-form", "extend-form-1", "hand-over-form", "release-form"):
        assert f'data-testid="{testid}"' not in html


# Actions


def test_it_records_a_temperature_check_on_the_running_step(cast, entry):
    client = cast.client_for(cast.grid_worker)
    response = client.post(f"/control/{entry.pk}/checkin/", {"temperature": "36.8", "symptoms": ""})
    assert response.status_code == 302
    checkin = CheckIn.objects.get()
    assert (checkin.measure.sequence, str(checkin.temperature), checkin.recorded_by) == (
        1,
        "36.8",
        cast.grid_worker,
    )
    html = page(client, entry.get_absolute_url())
    assert "36.8 °C" in html and 'data-testid="fever"' not in html


def test_it_highlights_a_fever(cast, entry):
    client = cast.client_for(cast.grid_worker)
    response = client.post(
        f"/control/{entry.pk}/checkin/", {"temperature": "37.3", "symptoms": "咳嗽"}, follow=True
    )
    assert any("37.3" in m for m in messages_of(response))
    assert 'data-testid="fever"' in response.content.decode()


@pytest.mark.parametrize("value", ["45", "36.85", "", "abc"])
def test_it_refuses_a_temperature_that_cannot_be_right(cast, entry, value):
    response = cast.client_for(cast.grid_worker).post(f"/control/{entry.pk}/checkin/", {"temperature": value})
    assert response.status_code == 400
    assert "temperature" in response.context["checkin_form"].errors
    assert not CheckIn.objects.exists()


def test_it_extends_a_step_with_a_reason(cast, entry):
    step = entry.measures.get(sequence=1)
    end = step.planned_end
    client = cast.client_for(cast.grid_worker)
    response = client.post(f"/control/{entry.pk}/steps/{step.pk}/extend/", {"days": "2", "reason": ""})
    assert response.status_code == 400 and "reason" in response.context["measures"][0].extend_form.errors
    response = client.post(
        f"/control/{entry.pk}/steps/{step.pk}/extend/", {"days": "2", "reason": "复核阳性"}
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.planned_end == end + datetime.timedelta(days=2)


def test_it_releases_a_step_early_with_a_reason(cast, entry):
    step = entry.measures.get(sequence=1)
    response = cast.client_for(cast.grid_worker).post(
        f"/control/{entry.pk}/steps/{step.pk}/release-early/", {"reason": "专家会诊排除"}
    )
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.status == "released_early" and step.ended_on == TODAY


def test_it_shows_the_workflows_refusal_of_a_step_not_started(cast, entry):
    later = entry.measures.get(sequence=2)  # planned, not started: cannot be released early
    response = cast.client_for(cast.grid_worker).post(
        f"/control/{entry.pk}/steps/{later.pk}/release-early/", {"reason": "误报"}, follow=True
    )
    assert any("Cannot go from" in m for m in messages_of(response))
    later.refresh_from_db()
    assert later.status == "planned"


def test_it_refuses_a_release_before_the_plan_is_over(cast, entry):
    response = cast.client_for(cast.grid_worker).post(
        f"/control/{entry.pk}/release/", {"note": ""}, follow=True
    )
    assert response.redirect_chain[-1][0] == entry.get_absolute_url()
    assert any("release it early with a reason or wait" in m for m in messages_of(response))
    entry.refresh_from_db()
    assert entry.status == "open"
    assert set(entry.measures.values_list("status", flat=True)) == {"active", "planned"}


def test_it_releases_an_entry_whose_plan_is_over(cast, person):
    entry = register(person, cast.grid_a, exposure=days_ago(11))
    response = cast.client_for(cast.grid_worker).post(
        f"/control/{entry.pk}/release/", {"note": "期满"}, follow=True
    )
    entry.refresh_from_db()
    assert entry.status == "released"
    assert f"/control/{entry.pk}/notice.pdf" in response.content.decode()


def test_it_hands_an_entry_over_to_the_receiving_grid(cast, entry):
    response = cast.client_for(cast.community_officer).post(
        f"/control/{entry.pk}/hand-over/", {"area": cast.grid_b.pk, "note": "搬至9号楼"}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.area == cast.grid_b and "搬至9号楼" in entry.notes
    new, old = cast.client_for(cast.grid_worker_b), cast.client_for(cast.grid_worker)
    assert entry.person.name in page(new, "/control/")
    assert new.get(entry.get_absolute_url()).status_code == 200
    assert entry.person.name not in page(old, "/control/")
    assert old.get(entry.get_absolute_url()).status_code == 404


def test_it_makes_a_grid_workers_hand_over_out_of_scope_a_request(cast, entry):
    response = cast.client_for(cast.grid_worker).post(
        f"/control/{entry.pk}/hand-over/", {"area": cast.grid_b.pk}
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.area == cast.grid_a and entry.handovers.get().status == "requested"
    assert 'data-testid="handover-waiting"' in page(
        cast.client_for(cast.grid_worker), entry.get_absolute_url()
    )


@pytest.mark.parametrize(
    "url",
    ["checkin/", "release/", "hand-over/", "steps/{step}/extend/", "steps/{step}/release-early/"],
)
def test_it_guards_every_action_by_scope_and_permission(cast, entry, url):
    step = entry.measures.get(sequence=1)
    target = f"/control/{entry.pk}/" + url.format(step=step.pk)
    data = {"temperature": "36.5", "days": "1", "reason": "x", "note": "x", "area": cast.grid_b.pk}
    assert cast.client_for(cast.auditor).post(target, data).status_code == 403
    assert cast.client_for(cast.grid_worker_b).post(target, data).status_code == 404
    assert cast.client_for(cast.grid_worker).get(target).status_code == 405
    assert not CheckIn.objects.exists()
    assert list(ControlMeasure.objects.values_list("status", flat=True).order_by("sequence")) == [
        "active",
        "planned",
    ]

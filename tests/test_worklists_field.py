"""Work lists a grid worker can trust (issue 8): abnormal readings stay at the top of today's work
until someone handles them, and in the roll-ups; overdue counts from the registration day; the
person and household pages show control; each role lands where it works; and the pages a field
role opens answer in a fixed number of queries."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.audit.models import Action, ObjectChange
from epigrid.audit.services import history
from epigrid.control import services, worklists
from epigrid.control.models import CheckIn, KeyPerson
from tests.scoping import make_person

TODAY = timezone.localdate()
TODAY_URL = "/control/today/"


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def at(hour, minute=0, day=None):
    day = day or TODAY
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def register(cast, name, grid=None, registered_days_ago=3, **dates):
    grid = grid or cast.grid_a
    household = cast.household_a if grid == cast.grid_a else cast.household_b
    dates = dates or {"last_exposure": days_ago(2)}
    entry, _ = services.register_key_person(
        make_person(household=household, name=name), "close_contact", grid, **dates
    )
    if registered_days_ago:
        KeyPerson.objects.filter(pk=entry.pk).update(
            created=timezone.now() - datetime.timedelta(days=registered_days_ago)
        )
    return entry


def check_in(entry, temperature="36.5", symptoms="", when=None):
    return CheckIn.objects.create(
        measure=entry.measures.get(sequence=1),
        taken_at=when or timezone.now(),
        temperature=temperature,
        symptoms=symptoms,
    )


def abnormal_names(cast, user=None, area=None):
    rows = worklists.lists_for(user or cast.grid_worker, area or cast.grid_a)["abnormal"]
    return [r.measure.key_person.person.name for r in rows]


def handle(client, checkin, outcome="fever_clinic", note="120 送省人民医院发热门诊", url=TODAY_URL):
    return client.post(url, {"checkin": checkin.pk, "outcome": outcome, "note": note})


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


# Abnormal readings


def test_it_lists_a_fever_until_someone_handles_it(cast):
    entry = register(cast, "发热者")
    register(cast, "体温正常")
    fever = check_in(entry, "37.8", when=at(8))
    check_in(entry, "36.6", when=at(9))  # a normal reading later does not clear the fever
    assert abnormal_names(cast) == ["发热者"]
    services.handle_abnormal(fever, "retest_normal", "复测36.6", user=cast.grid_worker)
    assert abnormal_names(cast) == []


def test_it_keeps_a_fever_of_an_earlier_day_on_the_list(cast):
    check_in(register(cast, "昨日发热"), "38.2", when=at(20, day=days_ago(1)))
    assert abnormal_names(cast) == ["昨日发热"]


@pytest.mark.parametrize(
    ("temperature", "symptoms", "listed"),
    [
        ("37.3", "", True),
        ("37.2", "", False),
        ("36.5", "咳嗽", True),
        ("36.5", "无", False),
    ],
)
def test_it_counts_a_fever_from_37_3_and_any_symptom(cast, temperature, symptoms, listed):
    reading = check_in(register(cast, "某人"), temperature, symptoms)
    assert reading.is_abnormal is listed
    assert (abnormal_names(cast) == ["某人"]) is listed


def test_it_shows_abnormal_readings_first_on_todays_page(cast):
    entry = register(cast, "发热者")
    check_in(entry, "38.1", "咳嗽")
    html = cast.client_for(cast.grid_worker).get(TODAY_URL).content.decode()
    assert html.index('data-testid="abnormal"') < html.index('data-testid="needs_check"')
    assert "38.1 °C" in html and "咳嗽" in html
    assert 'data-testid="handle-form"' in html


def test_it_records_what_was_done_in_the_change_log_and_the_history(cast):
    reading = check_in(register(cast, "发热者"), "38.0")
    client = cast.client_for(cast.grid_worker)
    response = handle(client, reading, "fever_clinic", "120 送省人民医院发热门诊")
    assert response.status_code == 302 and response["Location"] == TODAY_URL
    reading.refresh_from_db()
    assert (reading.follow_up, reading.outcome, reading.follow_up_note, reading.handled_by) == (
        "handled",
        "fever_clinic",
        "120 送省人民医院发热门诊",
        cast.grid_worker,
    )
    assert reading.handled_at is not None
    change = ObjectChange.objects.filter(
        content_type__model="checkin", object_id=reading.pk, action=Action.UPDATE
    ).get()
    assert change.user == cast.grid_worker and change.postchange_data["outcome"] == "fever_clinic"
    step = history(reading).get()
    assert (step.source, step.target, step.user_name) == ("pending", "handled", "grid_worker")
    assert step.note == "Sent to a fever clinic: 120 送省人民医院发热门诊"
    html = client.get(TODAY_URL).content.decode()
    assert "off the list" in html  # the message says what was recorded
    assert "发热者" not in html.split('data-testid="abnormal"')[1].split("</section>")[0]


def test_it_asks_what_was_done_and_keeps_the_reading_on_the_list(cast):
    reading = check_in(register(cast, "发热者"), "38.0")
    response = handle(cast.client_for(cast.grid_worker), reading, note="")
    assert response.status_code == 400
    assert 'data-testid="handle-form"' in response.content.decode()
    reading.refresh_from_db()
    assert reading.follow_up == "pending"


def test_it_refuses_handling_a_reading_twice_or_a_normal_one(cast):
    entry = register(cast, "发热者")
    reading = check_in(entry, "38.0")
    services.handle_abnormal(reading, "reported", "已报社区医生")
    with pytest.raises(ValidationError):
        services.handle_abnormal(reading, "reported", "again")
    stale = CheckIn.objects.get(pk=check_in(entry, "38.3").pk)
    CheckIn.objects.get(pk=stale.pk).transition("handled", note="someone else")
    with pytest.raises(ValidationError, match="Someone else"):
        services.handle_abnormal(stale, "reported", "late")
    with pytest.raises(ValidationError):
        services.handle_abnormal(check_in(entry, "36.5"), "reported", "normal")


def test_it_lets_only_who_may_change_check_ins_there_handle_them(cast):
    reading = check_in(register(cast, "发热者"), "38.0")
    assert handle(cast.client_for(cast.grid_worker_b), reading, url=f"{TODAY_URL}").status_code == 404
    auditor = cast.client_for(cast.auditor)
    assert (
        'data-testid="handle-form"'
        not in auditor.get(f"{TODAY_URL}?area={cast.grid_a.code}").content.decode()
    )
    assert handle(auditor, reading).status_code == 403
    reading.refresh_from_db()
    assert reading.follow_up == "pending"


def test_it_returns_to_the_area_the_reading_was_handled_from(cast):
    reading = check_in(register(cast, "发热者"), "38.0")
    url = f"{TODAY_URL}?area={cast.grid_a.code}"
    response = handle(cast.client_for(cast.community_officer), reading, url=url)
    assert response.status_code == 302 and response["Location"] == url


# Roll-ups


def test_it_counts_abnormal_readings_in_the_community_and_district_roll_ups(cast):
    twice = register(cast, "两次发热")
    check_in(twice, "38.0", when=at(8))
    check_in(twice, "38.4", when=at(13))
    handled = check_in(register(cast, "已处理"), "37.9")
    services.handle_abnormal(handled, "retest_normal", "复测36.8")
    check_in(register(cast, "乙网格咳嗽", grid=cast.grid_b), "36.6", "咳嗽")
    # Key persons, not readings, one level below each scope: grids, the community, the street.
    for user, expected in (
        (cast.community_officer, {"第一网格": 1, "第二网格": 1}),
        (cast.street_officer, {"九州社区": 2}),
        (cast.commander, {"九州街道": 2}),
    ):
        assert {area.name: c["abnormal"] for area, c in worklists.rollup(user)} == expected
    html = cast.client_for(cast.commander).get(TODAY_URL).content.decode()
    assert 'data-testid="rollup-abnormal"' in html
    assert html.split('data-testid="total-abnormal">')[1].startswith("2<")


def test_it_rolls_up_an_area_whose_only_work_is_an_abnormal_reading(cast):
    entry = register(cast, "住院", grid=cast.grid_b)
    check_in(entry, "39.0")
    entry.measures.get(sequence=1).transition("hospitalized", note="发热门诊留观")
    rows = worklists.rollup(cast.community_officer, at(9))
    assert [(area.name, counts) for area, counts in rows] == [
        (
            "第二网格",
            {"abnormal": 1, "needs_check": 0, "tests_due": 0, "overdue": 0, "due_release": 0},
        )
    ]


# Overdue from the registration day


def test_it_does_not_count_a_test_day_before_the_registration_as_overdue(cast):
    # Day 1 (a test day) was yesterday; registered today, it is not overdue, even without a test.
    register(cast, "今日登记", registered_days_ago=0)
    register(cast, "昨日登记", registered_days_ago=1)
    overdue = worklists.lists_for(cast.grid_worker, cast.grid_a, at(9))["overdue"]
    assert [m.key_person.person.name for m in overdue] == ["昨日登记"]
    counts = dict(worklists.rollup(cast.community_officer, at(9)))[cast.grid_a]
    assert counts["overdue"] == 1


def test_it_does_not_show_a_contact_registered_today_as_overdue_on_the_page(cast):
    register(cast, "今日登记", registered_days_ago=0)
    html = cast.client_for(cast.grid_worker).get(TODAY_URL).content.decode()
    overdue = html.split('data-testid="overdue"')[1].split("</section>")[0]
    assert "今日登记" not in overdue
    assert html.split('data-testid="count-overdue">')[1].startswith("0<")


# Person and household pages


def test_it_shows_the_open_entry_and_the_household_zone_on_the_person_page(cast):
    entry = register(cast, "密接者", last_exposure=days_ago(2))  # 7 + 3 days from the exposure
    services.draw_zone(cast.grid_a, "medium", started_on=days_ago(1))
    html = cast.client_for(cast.grid_worker).get(entry.person.get_absolute_url()).content.decode()
    panel = html.split('data-testid="control-panel"')[1].split("</section>")[0]
    assert "Close contact" in panel and "Centralized isolation" in panel
    assert "8 days left" in panel  # the plan ends on day 10, i.e. 8 days after the exposure + 2
    assert entry.get_absolute_url() in panel
    assert "Medium-risk area" in panel and "第一网格" in panel
    assert 'data-testid="register-key-person"' not in panel


def test_it_shows_a_building_zone_only_on_that_buildings_households(cast):
    services.draw_zone(cast.grid_a, "high", started_on=TODAY, building=cast.building_a, unit="1")
    client = cast.client_for(cast.grid_worker)
    html = client.get(cast.household_a.get_absolute_url()).content.decode()
    assert "High-risk area" in html.split('data-testid="zones"')[1].split("</div>")[0]
    other = cast.community_officer
    html = cast.client_for(other).get(cast.household_b.get_absolute_url()).content.decode()
    assert "High-risk area" not in html


def test_it_offers_a_one_tap_registration_that_fills_in_the_person(cast):
    person = make_person(household=cast.household_a, name="待登记")
    client = cast.client_for(cast.grid_worker)
    html = client.get(person.get_absolute_url()).content.decode()
    url = f"/control/add/?person={person.pk}"
    assert f'href="{url}"' in html and 'data-testid="register-key-person"' in html
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["step"] == "form" and response.context["person"] == person


def test_it_shows_the_members_entries_and_register_buttons_on_the_household_page(cast):
    entry = register(cast, "户内密接")
    other = make_person(household=cast.household_a, name="户内家属")
    html = cast.client_for(cast.grid_worker).get(cast.household_a.get_absolute_url()).content.decode()
    panel = html.split('data-testid="control-panel"')[1].split("</section>")[0]
    assert entry.get_absolute_url() in panel and "Close contact" in panel
    assert f'href="/control/add/?person={other.pk}"' in panel
    assert f"person={entry.person_id}" not in panel


def test_it_says_only_under_control_for_an_entry_in_an_area_the_user_does_not_see(cast):
    # The person lives in grid A, but grid B is responsible for the entry (handed over).
    person = make_person(household=cast.household_a, name="异地管控")
    entry, _ = services.register_key_person(person, "close_contact", cast.grid_b, last_exposure=days_ago(2))
    html = cast.client_for(cast.grid_worker).get(person.get_absolute_url()).content.decode()
    panel = html.split('data-testid="control-panel"')[1].split("</section>")[0]
    assert "Under control" in panel and entry.get_absolute_url() not in panel
    assert 'data-testid="register-key-person"' not in panel


def test_it_shows_checkpoint_staff_only_the_register_button_and_samplers_no_person_page(cast):
    person = make_person(household=cast.household_a, name="某人")
    html = cast.client_for(cast.checkpoint).get(person.get_absolute_url()).content.decode()
    assert 'data-testid="register-key-person"' in html  # checkpoint staff may register, not view
    sampler = User.objects.create_user("sampler")
    Grant.objects.create(user=sampler, role="sampler", area=cast.community)
    # Samplers work at their point's desk and do not browse the registry (decision 0019).
    assert cast.client_for(sampler).get(person.get_absolute_url()).status_code == 404


# Landing page


@pytest.mark.parametrize(
    ("user", "landing"),
    [
        ("grid_worker", TODAY_URL),
        ("community_officer", TODAY_URL),
        ("commander", TODAY_URL),
        ("checkpoint", "/checkpoints/my-gate/"),  # their gate, or the list of their posts
        ("lab", "/transport/receive/"),  # a lab's staff receive boxes
    ],
)
def test_it_lands_each_role_where_it_works(cast, user, landing):
    response = cast.client_for(getattr(cast, user)).get("/")
    assert response.status_code == 302 and response["Location"] == landing


def test_it_lands_a_grid_worker_on_their_lists_and_a_commander_on_the_roll_up(cast):
    register(cast, "某人")
    worker = cast.client_for(cast.grid_worker).get("/", follow=True)
    assert 'data-testid="abnormal"' in worker.content.decode()
    commander = cast.client_for(cast.commander).get("/", follow=True)
    assert 'data-testid="rollup"' in commander.content.decode()


# Queries


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("user", ["grid_worker", "community_officer"])
def test_todays_page_answers_in_the_same_number_of_queries_with_abnormal_readings(cast, user):
    client = cast.client_for(getattr(cast, user))
    check_in(register(cast, "一号"), "38.0")
    client.get(TODAY_URL)  # session, content types
    few = _queries(client, TODAY_URL)
    for n in range(12):
        entry = register(cast, f"批量{n:02d}", grid=cast.grid_a if n % 2 else cast.grid_b)
        check_in(entry, "37.6" if n % 3 else "36.5", "咳嗽" if n % 4 == 0 else "")
    assert _queries(client, TODAY_URL) == few
    # More for the other modules' sections (core.panels.TODAY): antigen follow-ups, retest tasks,
    # isolation homecomings, checkpoint arrivals, assistance rows, overdue tracing.
    assert few <= 19, few


def test_the_person_and_household_pages_answer_in_a_fixed_number_of_queries(cast):
    client = cast.client_for(cast.grid_worker)
    first = register(cast, "一号")
    services.draw_zone(cast.grid_a, "high", started_on=TODAY)
    urls = [first.person.get_absolute_url(), cast.household_a.get_absolute_url()]
    for url in urls:
        client.get(url)
    before = [_queries(client, url) for url in urls]
    for n in range(6):
        register(cast, f"家属{n}")
        make_person(household=cast.household_a, name=f"同户{n}")
    services.draw_zone(cast.grid_a, "high", started_on=TODAY, building=cast.building_a)
    assert [_queries(client, url) for url in urls] == before


def test_it_handles_an_abnormal_reading_through_the_api_as_on_the_page(cast):
    from rest_framework.test import APIClient

    person = make_person(household=cast.household_a, name="发热乙")
    entry, _created = services.register_key_person(
        person, "close_contact", cast.grid_a, last_exposure=timezone.localdate() - datetime.timedelta(days=2)
    )
    fever = CheckIn.objects.create(
        measure=entry.measures.get(sequence=1), taken_at=timezone.now(), temperature="38.2"
    )
    normal = CheckIn.objects.create(
        measure=entry.measures.get(sequence=1), taken_at=timezone.now(), temperature="36.5"
    )
    api = APIClient()
    api.force_authenticate(cast.grid_worker)
    body = api.get(f"/api/v1/checkins/{fever.pk}/").json()
    assert (body["is_abnormal"], body["follow_up"]) == (True, "pending")
    refused = api.post(f"/api/v1/checkins/{normal.pk}/handle/", {"outcome": "reported", "note": "x"})
    assert refused.status_code == 400
    done = api.post(f"/api/v1/checkins/{fever.pk}/handle/", {"outcome": "fever_clinic", "note": "已送医"})
    assert done.status_code == 200 and done.json()["follow_up"] == "handled"
    assert done.json()["handled_by"] == cast.grid_worker.username
    again = api.post(f"/api/v1/checkins/{fever.pk}/handle/", {"outcome": "fever_clinic", "note": "再次"})
    assert again.status_code == 400
    outsider = APIClient()
    outsider.force_authenticate(cast.grid_worker_b)
    assert (
        outsider.post(
            f"/api/v1/checkins/{fever.pk}/handle/", {"outcome": "reported", "note": "x"}
        ).status_code
        == 404
    )


def test_the_entry_history_shows_what_was_done_about_a_reading(cast):
    person = make_person(household=cast.household_a, name="发热丙")
    entry, _created = services.register_key_person(
        person, "close_contact", cast.grid_a, last_exposure=timezone.localdate() - datetime.timedelta(days=2)
    )
    fever = CheckIn.objects.create(
        measure=entry.measures.get(sequence=1), taken_at=timezone.now(), temperature="38.4"
    )
    services.handle_abnormal(fever, "fever_clinic", "送区医院发热门诊", user=cast.grid_worker)
    html = cast.client_for(cast.grid_worker).get(entry.get_absolute_url()).content.decode()
    history_block = html[html.index('data-testid="history"') :]
    assert "38.4" in history_block and "送区医院发热门诊" in history_block

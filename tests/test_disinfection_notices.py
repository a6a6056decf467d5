"""The residents' notices of a terminal disinfection 终末消毒 as PDFs (before: 告知书, after: 公示): the
planned time set first, what each says, the address and never the case, the team leader's phone
masked unless the reader may reveal, refusals, scope, the audit row, the page and the API."""

import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from epigrid.audit.models import Action, ObjectChange
from epigrid.disinfection import services
from epigrid.disinfection.models import Terminal
from epigrid.tracing import services as tracing
from tests.disinfection_cast import disinfection
from tests.scoping import make_person
from tests.test_control_pdf import text_of

LEADER_PHONE = "+8613655556666"


@pytest.fixture
def d(cast):
    found = disinfection(cast)
    cast.leader.first_name, cast.leader.phone = "刘建华", LEADER_PHONE
    cast.leader.save()
    return found


@pytest.fixture
def case(cast):
    person = make_person(household=cast.household_a, name="欧阳秘密")
    found, _ = tracing.open_case(None, person, sampled_on=timezone.localdate(), positive_at=timezone.now())
    tracing.add_stop(
        None,
        found,
        date=timezone.localdate() - datetime.timedelta(days=1),
        place="惠民超市",
        address="九州大道12号",
    )
    return found


@pytest.fixture
def home(cast, d, case):
    terminals, _created = services.plan_terminal(cast.commander, case, team=d.team_a)
    return next(t for t in terminals if t.kind == "home")


PLANNED = timezone.make_aware(datetime.datetime(2030, 3, 4, 14, 30))


def _pdf(client, terminal, which):
    response = client.get(f"/disinfection/terminals/{terminal.pk}/notice-{which}.pdf")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    return response, PdfReader(io.BytesIO(response.content))


def _flat(text):
    return "".join(str(text).split())


def _no_case_in(text, case, terminal):
    """The notice is posted publicly: the case's person, number and label stay off it."""
    for secret in (case.person.name, case.person.doc_number, _flat(str(case)), _flat(terminal.case_label)):
        assert secret and secret not in text, secret


def _rows(terminal, action):
    return ObjectChange.objects.filter(object_id=terminal.pk, content_type__model="terminal", action=action)


def test_the_leader_plans_the_time_and_prints_the_notice_before(cast, d, case, home):
    home = services.schedule_terminal(
        cast.leader, home, planned_at=PLANNED, contact_minutes=60, ventilation_minutes=30
    )
    response, reader = _pdf(cast.client_for(cast.leader), home, "before")
    text = text_of(reader)
    for expected in (
        "终末消毒告知书",
        _flat(home.address),  # the address, as posted at the building
        "2030-03-0414:30",  # the planned time (whitespace dropped by the extraction)
        "消杀一队",
        "90",  # keep away: 60 minutes of contact and 30 of airing
        "刘建华",
        "136****6666",  # the leader's phone, masked: the leader holds no reveal right
        "九州社区",  # the issuing community
    ):
        assert expected in text, expected
    assert "13655556666" not in text and b"13655556666" not in response.content
    _no_case_in(text, case, home)
    assert len(reader.pages) == 1
    row = _rows(home, Action.EXPORT).get()
    assert row.user == cast.leader and row.postchange_data == {"document": "terminal_notice_before"}


def test_the_notice_after_says_what_was_done_and_how_long_to_air(cast, d, case, home):
    services.schedule_terminal(cast.leader, home, planned_at=PLANNED)
    services.notify(cast.leader, home)
    done = timezone.make_aware(datetime.datetime(2030, 3, 4, 15, 10))
    services.record_terminal(
        cast.leader,
        home,
        disinfectant="含氯消毒剂",
        concentration=1000,
        contact_minutes=60,
        area_treated_m2="85",
        at=done,
    )
    _response, reader = _pdf(cast.client_for(cast.leader), home, "after")
    text = text_of(reader)
    for expected in (
        "终末消毒完成公示",
        _flat(home.address),
        "2030-03-0415:10",
        "消杀一队",
        "含氯消毒剂1000mg/L",
        "85m²",
        "30",
    ):
        assert expected in text, expected
    _no_case_in(text, case, home)
    # Posted, it prints the same.
    services.post_notice(cast.leader, home)
    assert "2030-03-0415:10" in text_of(_pdf(cast.client_for(cast.leader), home, "after")[1])


def test_a_reader_with_the_reveal_right_gets_the_leaders_full_phone_logged_as_a_reveal(cast, d, home):
    services.schedule_terminal(cast.leader, home, planned_at=PLANNED)
    _response, reader = _pdf(cast.client_for(cast.community_officer), home, "before")
    assert "13655556666" in text_of(reader)
    row = _rows(home, Action.REVEAL).get()
    assert row.user == cast.community_officer and row.postchange_data["fields"] == ["team_leader_phone"]


def test_notices_are_refused_with_the_reason_until_there_is_something_to_say(cast, d, home):
    client = cast.client_for(cast.leader)
    en = {"HTTP_ACCEPT_LANGUAGE": "en"}
    url = f"/disinfection/terminals/{home.pk}/notice-"
    response = client.get(url + "before.pdf", **en)
    assert response.status_code == 302 and response.url == home.get_absolute_url()
    assert "Plan the time first" in client.get(response.url, **en).content.decode()
    services.schedule_terminal(cast.leader, home, planned_at=PLANNED)
    services.notify(cast.leader, home)
    response = client.get(url + "after.pdf", **en)
    assert response.status_code == 302
    assert "once the disinfection is recorded" in client.get(response.url, **en).content.decode()
    services.cancel_terminal(cast.leader, home, "病例地址有误")
    for which in ("before", "after"):
        response = client.get(url + f"{which}.pdf", **en)
        assert response.status_code == 302
    assert "was cancelled" in client.get(response.url, **en).content.decode()
    assert not _rows(home, Action.EXPORT).exists()


def test_outside_the_scope_the_notices_are_not_found(cast, d, home):
    services.schedule_terminal(cast.leader, home, planned_at=PLANNED)
    for user in (cast.other_leader, cast.grid_worker_b, cast.nobody):
        client = cast.client_for(user)
        assert client.get(f"/disinfection/terminals/{home.pk}/notice-before.pdf").status_code == 404
        assert client.get(f"/disinfection/terminals/{home.pk}/notice-after.pdf").status_code == 404
    assert (
        cast.client_for(cast.auditor).get(f"/disinfection/terminals/{home.pk}/notice-before.pdf").status_code
        == 200
    )


def test_planning_the_time_is_refused_once_done_and_to_another_team(cast, d, home):
    with pytest.raises(PermissionDenied):
        services.schedule_terminal(cast.other_leader, home, planned_at=PLANNED)
    with pytest.raises(ValidationError):
        services.schedule_terminal(cast.leader, home, planned_at=None)
    with pytest.raises(ValidationError):
        services.schedule_terminal(cast.leader, home, planned_at=PLANNED, contact_minutes=0)
    services.notify(cast.leader, home)
    services.record_terminal(
        cast.leader, home, disinfectant="过氧乙酸", concentration=2000, contact_minutes=60
    )
    with pytest.raises(ValidationError):
        services.schedule_terminal(cast.leader, home, planned_at=PLANNED)
    assert Terminal.objects.get(pk=home.pk).planned_at is None


def test_the_page_plans_the_time_and_offers_the_notices(cast, d, home):
    client = cast.client_for(cast.leader)
    page = client.get(home.get_absolute_url()).content.decode()
    assert 'data-testid="schedule-form"' in page and 'data-testid="notice-before"' not in page
    response = client.post(
        f"/disinfection/terminals/{home.pk}/schedule/",
        {"planned_at": "2030-03-04T14:30", "contact_minutes": "45", "ventilation_minutes": "20"},
    )
    assert response.status_code == 302
    home.refresh_from_db()
    assert (home.planned_at, home.contact_minutes, home.ventilation_minutes) == (PLANNED, 45, 20)
    page = client.get(home.get_absolute_url()).content.decode()
    assert f'href="/disinfection/terminals/{home.pk}/notice-before.pdf"' in page
    assert 'data-testid="notice-after"' not in page
    # A bad value changes nothing.
    client.post(
        f"/disinfection/terminals/{home.pk}/schedule/", {"planned_at": "", "ventilation_minutes": "20"}
    )
    home.refresh_from_db()
    assert home.planned_at == PLANNED
    # Nobody outside the team plans it.
    other = cast.client_for(cast.other_leader)
    assert (
        other.post(
            f"/disinfection/terminals/{home.pk}/schedule/", {"planned_at": "2030-03-05T09:00"}
        ).status_code
        == 404
    )


def test_the_api_plans_the_time(cast, d, home):
    api = APIClient()
    api.force_authenticate(cast.leader)
    response = api.post(
        f"/api/v1/disinfection-terminals/{home.pk}/schedule/",
        {"planned_at": PLANNED.isoformat(), "ventilation_minutes": 40},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["ventilation_minutes"] == 40 and response.json()["planned_at"]
    bad = api.post(f"/api/v1/disinfection-terminals/{home.pk}/schedule/", {}, format="json")
    assert bad.status_code == 400

"""Contact tracing over the API (issue 11): scoped like the pages, each move through its service,
a repeated move answers as the first, persons by id and name only."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.control.models import KeyPerson
from epigrid.tracing import services
from epigrid.tracing.models import Case, Cluster, Contact, Team
from tests.scoping import ScopedAPITests, assert_no_full_numbers
from tests.tracing_cast import tracing

TODAY = timezone.localdate


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def tr(cast):
    return tracing(cast)


class TestCaseAPI(ScopedAPITests):
    model = Case
    api_list_url = "/api/v1/tracing-cases/"
    viewer = "tracer_a"
    outsider = "tracer_b"
    unrevealing = "auditor"
    write_action = "mark"

    def make_object(self, cast, grid):
        return tracing(cast).case("b" if grid == cast.grid_b else "a")

    def write_data(self, cast, obj):
        return {"step": "reported"}


class TestContactAPI(ScopedAPITests):
    model = Contact
    api_list_url = "/api/v1/tracing-contacts/"
    viewer = "tracer_a"
    outsider = "tracer_b"
    unrevealing = "auditor"
    write_action = "confirm"

    def make_object(self, cast, grid):
        tr = tracing(cast)
        case = tr.case("b" if grid == cast.grid_b else "a")
        contact, _ = services.add_contact(
            None, case, tr.person(name="密接", phone="+8613912345678"), last_contact=TODAY()
        )
        return contact

    def write_data(self, cast, obj):
        return {"note": ""}


class TestClusterAPI(ScopedAPITests):
    model = Cluster
    api_list_url = "/api/v1/tracing-clusters/"
    viewer = "trace_official_a"
    outsider = "trace_official_b"
    unrevealing = "auditor"

    def make_object(self, cast, grid):
        tracing(cast)
        return Cluster.objects.create(name=f"{grid.name}面馆聚集", kind="restaurant", area=grid)

    def write_data(self, cast, obj):
        return {"place": "张掖路"}


class TestTeamAPI(ScopedAPITests):
    model = Team
    api_list_url = "/api/v1/tracing-teams/"
    viewer = "trace_official_a"
    outsider = "trace_official_b"
    unrevealing = "auditor"

    def make_object(self, cast, grid):
        tracing(cast)
        return Team.objects.create(name=f"{grid.name}流调队", area=grid)

    def write_data(self, cast, obj):
        return {"name": obj.name + "（二）"}


def test_a_tracer_opens_a_case_adds_a_stop_and_a_contact_and_confirms_it(cast, tr):
    client = api(tr.tracer_a)
    person = tr.person("a", name="病例甲")
    data = {
        "person": person.pk,
        "sampled_on": TODAY().isoformat(),
        "positive_at": timezone.now().isoformat(),
        "team": tr.team_a.pk,
    }
    response = client.post("/api/v1/tracing-cases/open/", data, format="json")
    assert response.status_code == 201, response.json()
    case_id = response.json()["id"]
    assert (
        client.post("/api/v1/tracing-cases/open/", data, format="json").status_code == 200
    )  # again: the same case
    assert Case.objects.count() == 1
    stop = client.post(
        f"/api/v1/tracing-cases/{case_id}/stops/",
        {
            "date": TODAY().isoformat(),
            "place": "超市",
            "transport": "train",
            "transport_number": "G1911",
            "carriage": "5",
            "seat": "12F",
        },
        format="json",
    )
    assert stop.status_code == 201, stop.json()
    contact_person = tr.person("b", name="同车")
    added = client.post(
        f"/api/v1/tracing-cases/{case_id}/contacts/",
        {"person": contact_person.pk, "setting": "vehicle", "last_contact": TODAY().isoformat()},
        format="json",
    )
    assert added.status_code == 201, added.json()
    contact_id = added.json()["id"]
    again = client.post(
        f"/api/v1/tracing-cases/{case_id}/contacts/",
        {"person": contact_person.pk, "last_contact": TODAY().isoformat()},
        format="json",
    )
    assert (again.status_code, again.json()["id"]) == (200, contact_id)
    first = client.post(f"/api/v1/tracing-contacts/{contact_id}/confirm/", {}, format="json")
    second = client.post(f"/api/v1/tracing-contacts/{contact_id}/confirm/", {}, format="json")
    assert first.status_code == second.status_code == 200
    assert first.json()["status"] == "confirmed" and first.json() == second.json()
    assert KeyPerson.objects.filter(person=contact_person).count() == 1
    listed = client.get(f"/api/v1/tracing-cases/{case_id}/contacts/").json()
    assert [c["person_name"] for c in listed] == ["同车"]
    assert_no_full_numbers(str(listed))


def test_refusals_are_400_with_the_reason(cast, tr):
    case = tr.case("a")
    response = api(tr.tracer_a).post(
        f"/api/v1/tracing-cases/{case.pk}/contacts/",
        {"person": tr.person().pk, "last_contact": (TODAY() - datetime.timedelta(days=30)).isoformat()},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "look-back window" in str(response.json())


def test_another_teams_case_is_not_found(cast, tr):
    case = tr.case("b")
    client = api(tr.tracer_a)
    assert client.get(f"/api/v1/tracing-cases/{case.pk}/").status_code == 404
    assert (
        client.post(
            f"/api/v1/tracing-cases/{case.pk}/stops/",
            {"date": TODAY().isoformat(), "place": "x"},
            format="json",
        ).status_code
        == 404
    )


def test_the_graph_action_answers_the_chain(cast, tr):
    first = tr.case("a")
    contact, _ = services.add_contact(None, first, tr.person("b", name="甲"), last_contact=TODAY())
    tr.case(person=contact.person, grid="b")
    graph = api(cast.commander).get("/api/v1/tracing-cases/graph/").json()
    assert graph["counts"] == {"cases": 2, "contacts": 1, "chains": 1, "from_contacts": 1, "new_chains": 1}
    mine = api(tr.tracer_b).get("/api/v1/tracing-cases/graph/").json()
    assert mine["counts"]["cases"] == 1


def test_a_dismissal_through_the_api_needs_a_note(cast, tr):
    case = tr.case("a")
    contact, _ = services.add_contact(None, case, tr.person(), last_contact=TODAY())
    client = api(tr.tracer_a)
    assert (
        client.post(
            f"/api/v1/tracing-contacts/{contact.pk}/dismiss/", {"note": ""}, format="json"
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/api/v1/tracing-contacts/{contact.pk}/dismiss/", {"note": "不在场"}, format="json"
        ).status_code
        == 200
    )


def test_a_contact_cannot_name_another_cases_stop(cast, tr):
    mine = tr.case("a")
    other = tr.case("a", person=tr.person(name="另一病例"))
    stop = services.add_stop(None, other, date=TODAY(), place="超市")
    response = api(tr.tracer_a).post(
        f"/api/v1/tracing-cases/{mine.pk}/contacts/",
        {"person": tr.person().pk, "last_contact": TODAY().isoformat(), "stop": stop.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and "another case" in str(response.json())
    assert not Contact.objects.exists()
    # Another team's stop is not even found.
    theirs = services.add_stop(None, tr.case("b"), date=TODAY(), place="菜场")
    response = api(tr.tracer_a).post(
        f"/api/v1/tracing-cases/{mine.pk}/contacts/",
        {"person": tr.person().pk, "last_contact": TODAY().isoformat(), "stop": theirs.pk},
        format="json",
    )
    assert response.status_code == 400 and not Contact.objects.exists()

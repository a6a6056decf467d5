"""The demo's tracing part (issue 11): two independent chains, one through a contact who became a
case; clocks overdue; the building rule's proposals waiting; the tracer sees their team's cases only."""

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from epigrid.accounts.models import User
from epigrid.control.models import KeyPerson
from epigrid.tracing import chains, services
from epigrid.tracing.models import Case, Contact


@pytest.fixture
def demo(db):
    out = io.StringIO()
    call_command("demo", residents=400, seed=7, json=True, stdout=out)
    return json.loads(out.getvalue())


def test_the_demo_has_two_chains_one_through_a_contact_who_became_a_case(demo):
    counts = demo["counts"]["tracing"]
    assert counts["cases"] == 3 and counts["from_contacts"] == 1
    graph = chains.build(Case.objects.all(), Contact.objects.all())
    assert graph["counts"]["chains"] == 2
    second = Case.objects.get(source_contact__isnull=False)
    assert second.source_contact.status == "confirmed"
    assert chains.chain_of(second) == {second.pk, second.source_contact.case_id}
    # Confirmed close contacts are in the ledger; the building rule's proposals wait.
    confirmed = Contact.objects.filter(status="confirmed", contact_class="close")
    assert confirmed.exists()
    assert all(KeyPerson.objects.filter(person=c.person).exists() for c in confirmed)
    assert Contact.objects.filter(proposed_by="building_rule", status="proposed").exists()
    assert counts["overdue_contacts"] >= 1
    assert services.overdue_cases(Case.objects.all()).exists()


def test_the_demo_tracer_sees_their_teams_cases(demo):
    tracer = User.objects.get(username="demo_tracer")
    client = Client()
    client.force_login(tracer)
    mine = set(Case.objects.restrict(tracer, "view").values_list("pk", flat=True))
    assert mine == set(Case.objects.filter(team__members=tracer).values_list("pk", flat=True))
    assert len(mine) == 2
    for case in Case.objects.all():
        assert client.get(case.get_absolute_url()).status_code == (200 if case.pk in mine else 404)
    assert client.get("/tracing/chains/data/").json()["counts"]["cases"] == 2


@pytest.mark.parametrize("username", ["demo_commander", "demo_street", "demo_community", "demo_auditor"])
def test_the_tracing_pages_answer_for_the_demo_roles(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    assert client.get("/tracing/").status_code == 200
    assert client.get("/tracing/contacts/").status_code == 200
    assert client.get("/tracing/chains/").status_code == 200

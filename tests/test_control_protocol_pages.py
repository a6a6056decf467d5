"""Protocol administration pages: list, readable rules, switching with a preview of every plan
that changes, and new versions checked by plans.validate_rules. System administrators only."""

import copy
import datetime
import html as htmllib
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from epigrid.accounts.models import User
from epigrid.control import services
from epigrid.control.models import ControlMeasure, KeyPerson, Protocol
from tests.scoping import make_person

TODAY = timezone.localdate()
LIST = "/control/protocols/"


@pytest.fixture(autouse=True)
def _english(settings):
    # Assertions read English messages; the zh_Hans catalogue may translate them any day.
    settings.LANGUAGE_CODE = "en"


def protocol(code):
    return Protocol.objects.get(code=code)


def url(name, p):
    return reverse(f"control:{name}", args=[p.pk])


def register(cast, category="close_contact", name="密接甲"):
    person = make_person(household=cast.household_a, name=name)
    entry, _created = services.register_key_person(
        person, category, cast.grid_a, last_exposure=TODAY - datetime.timedelta(days=2)
    )
    return entry


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def messages_of(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


def form_data(source, **overrides):
    rules = overrides.pop("rules", source.rules)
    return {
        "code": "v9-2",
        "name": source.name,
        "short_name": "第九版修订",
        "published": "2022-08-01",
        "rules": rules if isinstance(rules, str) else json.dumps(rules, ensure_ascii=False),
        **overrides,
    }


# Who


def test_it_lets_a_system_admin_and_a_superuser_in(cast):
    assert page(cast.client_for(cast.admin), LIST)
    root = User.objects.create_superuser("root", password="x")
    assert page(cast.client_for(root), url("protocol_detail", protocol("v9")))


@pytest.mark.parametrize("user", ["commander", "street_officer", "grid_worker", "auditor", "nobody"])
def test_it_forbids_protocol_pages_to_non_admins(cast, user):
    client = cast.client_for(getattr(cast, user))
    twenty = protocol("twenty")
    for path in (
        LIST,
        url("protocol_detail", twenty),
        url("protocol_activate", twenty),
        url("protocol_new_version", twenty),
        url("protocol_edit", twenty),
    ):
        assert client.get(path).status_code == 403, path
    assert client.post(url("protocol_activate", twenty)).status_code == 403
    assert client.post(url("protocol_new_version", twenty), form_data(twenty)).status_code == 403
    assert protocol("v9").is_active and Protocol.objects.count() == 3


def test_it_sends_anonymous_visitors_to_log_in(cast):
    assert Client().get(LIST).status_code == 302


def test_it_hides_the_protocols_link_from_non_admins(cast):
    assert 'href="/control/protocols/"' in page(cast.client_for(cast.admin), "/control/zones/")
    assert 'href="/control/protocols/"' not in page(cast.client_for(cast.commander), "/control/zones/")


# Reading


def test_it_lists_the_protocols_with_the_active_one_and_use_marked(cast):
    register(cast)
    response = cast.client_for(cast.admin).get(LIST)
    rows = {row.record.code: row for row in response.context["table"].rows}
    assert set(rows) == {"v8", "v9", "twenty"}
    assert [code for code, row in rows.items() if row.record.is_active] == ["v9"]
    assert [code for code, row in rows.items() if row.record.used] == ["v9"]
    assert "第九版" in response.content.decode() and "二十条" in response.content.decode()


def test_it_shows_the_rules_in_a_readable_table(cast):
    html = page(cast.client_for(cast.admin), url("protocol_detail", protocol("v9")))
    close = html[html.index("Close contact") : html.index("Secondary contact")]
    assert "Last exposure" in close
    assert "Centralized isolation" in close and "Home health monitoring" in close
    assert [">7<" in close, ">3<" in close, "day 5" in close] == [True, True, True]
    suspected = html[html.index("Suspected case") : html.index("Fever not ruled out")]
    assert "until ruled out" in suspected
    levels = html[html.index('data-testid="zone-levels"') :]
    assert "High-risk area" in levels and "Medium-risk area" in levels and "Low-risk area" in levels
    twenty = page(cast.client_for(cast.admin), url("protocol_detail", protocol("twenty")))
    assert "Not managed under this protocol." in twenty


# Switching


def test_it_previews_a_switch_and_replans_an_open_entry_on_confirm(cast):
    entry = register(cast)
    client = cast.client_for(cast.admin)
    twenty = protocol("twenty")
    response = client.get(url("protocol_activate", twenty))
    assert response.status_code == 200
    html = response.content.decode()
    assert "密接甲" in html and entry.person.doc_number not in html
    day_one = TODAY - datetime.timedelta(days=1)
    [change] = response.context["changes"]
    assert change["entry"] == entry
    assert [(s["start"], s["end"]) for s in change["old"]] == [
        (day_one, day_one + datetime.timedelta(days=6)),
        (day_one + datetime.timedelta(days=7), day_one + datetime.timedelta(days=9)),
    ]
    assert [(str(s["measure"]), s["end"]) for s in change["new"]] == [
        ("Centralized isolation", day_one + datetime.timedelta(days=4)),
        ("Home isolation", day_one + datetime.timedelta(days=7)),
    ]
    assert protocol("v9").is_active  # a preview changes nothing

    response = client.post(url("protocol_activate", twenty), follow=True)
    assert messages_of(response) == ["二十条 is now the active protocol; 1 open entries were re-planned."]
    twenty.refresh_from_db()
    entry.refresh_from_db()
    assert twenty.is_active and not protocol("v9").is_active
    assert entry.protocol == twenty
    open_steps = entry.measures.filter(status__in=ControlMeasure.OPEN).order_by("sequence")
    assert [(m.kind, m.planned_end) for m in open_steps] == [
        ("centralized", day_one + datetime.timedelta(days=4)),
        ("home_isolation", day_one + datetime.timedelta(days=7)),
    ]


def test_it_says_which_entries_a_switch_would_close(cast):
    entry = register(cast, category="secondary_contact", name="次密接乙")
    client = cast.client_for(cast.admin)
    html = page(client, url("protocol_activate", protocol("twenty")))
    assert "次密接乙" in html and "No longer managed: the entry is closed." in html
    client.post(url("protocol_activate", protocol("twenty")))
    entry.refresh_from_db()
    assert entry.status == KeyPerson.Status.CLOSED


def test_it_does_not_offer_to_activate_the_active_protocol(cast):
    client = cast.client_for(cast.admin)
    v9 = protocol("v9")
    html = page(client, url("protocol_detail", v9))
    assert 'data-testid="make-active"' not in html and 'data-testid="active"' in html
    response = client.post(url("protocol_activate", v9), follow=True)
    assert messages_of(response) == ["第九版 is already the active protocol."]


# New versions


def test_it_copies_a_protocol_into_the_new_version_form(cast):
    response = cast.client_for(cast.admin).get(url("protocol_new_version", protocol("v9")))
    form = response.context["form"]
    assert form.initial["code"] == "v9-2" and form.initial["short_name"] == "第九版"
    html = htmllib.unescape(response.content.decode())
    assert "新型冠状病毒肺炎防控方案（第九版）" in html  # Chinese as it is, not \\u escapes
    assert '"close_contact": {' in html  # indented JSON


def test_it_saves_a_new_version_without_touching_the_original(cast):
    v9 = protocol("v9")
    rules = copy.deepcopy(v9.rules)
    rules["categories"]["close_contact"]["chain"][0]["days"] = 10
    response = cast.client_for(cast.admin).post(url("protocol_new_version", v9), form_data(v9, rules=rules))
    new = Protocol.objects.get(code="v9-2")
    assert response.status_code == 302 and response["Location"] == url("protocol_detail", new)
    assert not new.is_active and new.short_name == "第九版修订"
    assert new.rules["categories"]["close_contact"]["chain"][0]["days"] == 10
    assert (new.rules["code"], new.rules["short_name"], new.rules["published"]) == (
        "v9-2",
        "第九版修订",
        "2022-08-01",
    )
    v9.refresh_from_db()
    assert v9.rules["categories"]["close_contact"]["chain"][0]["days"] == 7 and v9.is_active


def test_it_rejects_invalid_json(cast):
    v9 = protocol("v9")
    response = cast.client_for(cast.admin).post(
        url("protocol_new_version", v9), form_data(v9, rules='{"zones": ')
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"rules": ["Enter a valid JSON."]}
    assert '{"zones": ' in htmllib.unescape(response.content.decode())  # the input comes back to be fixed
    assert not Protocol.objects.filter(code="v9-2").exists()


def test_it_rejects_rules_the_validator_refuses_with_its_messages(cast):
    v9 = protocol("v9")
    rules = copy.deepcopy(v9.rules)
    rules["day_one_offset"] = 2
    rules["categories"]["close_contact"]["chain"][0]["measure"] = "quarantine_hotel"
    rules["categories"]["close_contact"]["chain"][0]["tests"] = [1, 9]
    rules["zones"]["downgrade"]["high"]["to"] = "orange"
    response = cast.client_for(cast.admin).post(url("protocol_new_version", v9), form_data(v9, rules=rules))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["rules"]
    assert errors["rules"] == [
        "day_one_offset must be 0 (the anchor date is day 1) or 1 (the day after).",
        "close_contact step 1: unknown measure.",
        "close_contact step 1: test days must fall within the step.",
        "Zone level high: downgrade refers to an unknown level.",
    ]
    assert not Protocol.objects.filter(code="v9-2").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: ["categories", "zones"], "The rules must be a JSON object."),
        (lambda r: {**r, "categories": []}, "'categories' must be an object with one entry per category."),
        (
            lambda r: {**r, "categories": {"close_contact": {"anchor": "last_exposure"}}},
            "close_contact: 'chain' must be a list of steps.",
        ),
        (
            lambda r: {**r, "zones": {"levels": ["high"]}},
            "'zones' must be an object with 'levels', 'downgrade' and 'lift_at'.",
        ),
        (
            lambda r: {**r, "zones": {**r["zones"], "levels": ["high", "orange"]}},
            "Unknown zone level orange; known levels: sealed, controlled, precaution, high, medium, low.",
        ),
        (
            lambda r: {
                **r,
                "zones": {**r["zones"], "downgrade": {"high": {"to": "low", "case_free_days": "7"}}},
            },
            "Zone level high: case_free_days must be a positive whole number or null.",
        ),
        (
            lambda r: {k: v for k, v in r.items() if k != "zones"},
            "'zones' must be an object with 'levels', 'downgrade' and 'lift_at'.",
        ),
    ],
)
def test_it_rejects_rules_of_the_wrong_shape(cast, change, message):
    v9 = protocol("v9")
    rules = change(copy.deepcopy(v9.rules))
    response = cast.client_for(cast.admin).post(url("protocol_new_version", v9), form_data(v9, rules=rules))
    assert response.status_code == 400
    assert message in response.context["form"].errors["rules"]
    assert not Protocol.objects.filter(code="v9-2").exists()


def test_it_refuses_a_code_already_taken(cast):
    v9 = protocol("v9")
    response = cast.client_for(cast.admin).post(url("protocol_new_version", v9), form_data(v9, code="v8"))
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["code"]


def test_it_edits_an_unused_protocol(cast):
    v8 = protocol("v8")
    client = cast.client_for(cast.admin)
    assert 'data-testid="edit"' in page(client, url("protocol_detail", v8))
    response = client.post(url("protocol_edit", v8), form_data(v8, code="v8", short_name="第八版（修）"))
    assert response.status_code == 302
    v8.refresh_from_db()
    assert v8.short_name == "第八版（修）" and Protocol.objects.count() == 3


@pytest.mark.parametrize("use", ["plan", "zone"])
def test_it_never_edits_a_protocol_in_use(cast, use):
    if use == "plan":
        register(cast)
    else:
        services.draw_zone(cast.grid_a, "high", started_on=TODAY)
    v9 = protocol("v9")
    client = cast.client_for(cast.admin)
    assert 'data-testid="edit"' not in page(client, url("protocol_detail", v9))
    rules = copy.deepcopy(v9.rules)
    rules["categories"]["close_contact"]["chain"][0]["days"] = 10
    response = client.post(url("protocol_edit", v9), form_data(v9, code="v9", rules=rules), follow=True)
    assert response.redirect_chain[-1][0] == url("protocol_new_version", v9)
    assert messages_of(response) == [
        "This protocol has been used for plans and cannot be edited; add a new version instead."
    ]
    v9.refresh_from_db()
    assert v9.rules["categories"]["close_contact"]["chain"][0]["days"] == 7

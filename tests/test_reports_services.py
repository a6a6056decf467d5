"""Daily reports: form validation, values, deadline and late, zero reports, live vs typed,
idempotent sending (reports.services, decision 0029)."""

import datetime
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import translation

from epigrid.audit.models import ObjectChange
from epigrid.control.models import KeyPerson
from epigrid.reports import live, schema, services
from epigrid.reports.models import ReportForm, Submission
from tests.reports_cast import DAY, at, reports
from tests.scoping import make_person

pytestmark = pytest.mark.django_db


def _errors(fields):
    with translation.override("en"):
        return schema.validate_fields(fields, live.names())


def test_it_ships_the_daily_and_zero_forms_valid():
    for code in ("community_daily", "community_zero"):
        form = ReportForm.objects.get(code=code)
        services.check_form(form)
    daily = ReportForm.objects.get(code="community_daily")
    assert {"new_arrivals", "persons_tested", "sweep_visits", "service_requests", "problems_found"} <= {
        f["key"] for f in daily.fields
    }
    assert ReportForm.objects.get(code="community_zero").kind == "zero"


def test_it_names_each_bad_field_of_a_field_list():
    errors = _errors(
        [
            {"key": "a", "label": {"zh": "甲"}, "type": "int", "min": 5, "max": 1},
            {"key": "a", "label": {"zh": "乙"}, "type": "text"},
            {"key": "Bad key", "label": {"en": "no zh"}, "type": "float"},
            {"key": "c", "label": {"zh": "丙"}, "type": "choice"},
            {"key": "d", "label": {"zh": "丁"}, "type": "int", "live": "nonsense"},
            {"key": "e", "label": {"zh": "戊"}, "type": "text", "event": True},
        ]
    )
    text = "\n".join(errors)
    assert "Field 1 (a): min is above max." in text
    assert "Field 2 (a): the key is used twice." in text
    assert "Field 3 (Bad key): the key must be" in text
    assert "Field 3 (Bad key): the label needs a Chinese text" in text
    assert "Field 3 (Bad key): the type must be one of" in text
    assert "Field 4 (c): a choice field needs a list of choices." in text
    assert "Field 5 (d): there is no live figure named “nonsense”." in text
    assert "Field 6 (e): only a number can be an event count." in text


def test_it_accepts_a_valid_field_list():
    assert (
        _errors([{"key": "x", "label": {"zh": "甲", "en": "A"}, "type": "decimal", "min": 0, "max": 9.5}])
        == []
    )
    assert _errors("not a list")


@pytest.mark.parametrize(
    ("field", "raw", "value", "error"),
    [
        ({"type": "int", "min": 0}, "12", 12, None),
        ({"type": "int", "min": 0}, "-1", "-1", "At least 0."),
        ({"type": "int"}, "1.5", "1.5", "Enter a whole number."),
        ({"type": "int"}, "abc", "abc", "Enter a number."),
        ({"type": "int", "required": True}, "", None, "This field is required."),
        ({"type": "int"}, "", None, None),
        ({"type": "decimal", "max": 10}, "2.25", "2.25", None),
        ({"type": "decimal"}, "2.255", "2.255", "At most two decimal places."),
        ({"type": "bool", "required": True}, None, False, "This must be confirmed."),
        ({"type": "bool"}, "true", True, None),
        ({"type": "choice", "choices": ["甲", "乙"]}, "丙", "丙", "Pick one of the listed choices."),
        ({"type": "text", "required": True}, "  说明 ", "说明", None),
    ],
)
def test_it_cleans_a_submitted_value_by_type(field, raw, value, error):
    with translation.override("en"):
        assert schema.clean_value({"key": "k", **field}, raw) == (value, error)


def test_it_marks_a_report_late_after_the_deadline_and_keeps_the_mark(cast):
    r = reports(cast)
    assert r.daily.deadline(DAY) == at(DAY, 16)
    on_time = r.send(hour=15)
    assert not on_time.late
    late = r.send(unit=r.community_2, hour=17)
    assert late.late
    # A correction sent later keeps the first sending's mark, either way.
    corrected = r.send(hour=20, problems_found=1)
    assert not corrected.late and corrected.revision == 2
    corrected = r.send(unit=r.community_2, day=DAY, hour=9, problems_found=2)
    assert corrected.late


def test_it_covers_the_24_hours_before_the_deadline(cast):
    form = reports(cast).daily
    assert form.window(DAY) == (at(DAY - datetime.timedelta(days=1), 16), at(DAY, 16))
    form.period = ReportForm.Period.DAY
    assert form.window(DAY) == (at(DAY, 0), at(DAY + datetime.timedelta(days=1), 0))


def test_it_sends_once_whatever_the_retries(cast):
    r = reports(cast)
    first = r.send()
    again = r.send()
    assert Submission.objects.count() == 1
    assert again.pk == first.pk and again.revision == 1  # an identical retry changes nothing
    changed = r.send(service_requests=3)
    assert changed.pk == first.pk and changed.revision == 2
    assert changed.values["service_requests"] == 3


def test_it_logs_every_change(cast):
    r = reports(cast)
    row = r.send()
    r.send(problems_found=4)
    changes = ObjectChange.objects.filter(object_id=str(row.pk), content_type__model="submission")
    assert changes.count() == 2
    assert changes.filter(action="update").exists()


def test_it_refuses_bad_values_with_an_error_per_field(cast):
    r = reports(cast)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        r.send(new_arrivals="many", problems_found=-1)
    assert exc.value.message_dict["new_arrivals"] == ["Enter a number."]
    assert exc.value.message_dict["problems_found"] == ["At least 0."]
    assert not Submission.objects.exists()


def test_it_asks_an_explanation_where_the_typed_figure_differs_from_the_live_one(cast):
    r = reports(cast)
    person = make_person(area=cast.grid_a)
    KeyPerson.objects.create(
        person=person,
        area=cast.grid_a,
        category="high_risk_arrival",
        protocol_id=_protocol_id(),
        identified_on=DAY,
        arrival=DAY,
    )
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        r.send(kp_high_risk_arrival=1, new_arrivals=0)
    assert exc.value.message_dict == {
        "new_arrivals": ["epigrid holds 1 for this figure: explain the difference."]
    }
    row = r.send(kp_high_risk_arrival=1, new_arrivals=0, explanations={"new_arrivals": "已转走，在外地隔离"})
    assert row.live["new_arrivals"] == 1 and row.values["new_arrivals"] == 0
    assert row.explanations == {"new_arrivals": "已转走，在外地隔离"}
    # An explanation where nothing differs is not kept.
    row = r.send(kp_high_risk_arrival=1, new_arrivals=1, explanations={"new_arrivals": "x"})
    assert row.explanations == {}


def _protocol_id():
    from epigrid.control.models import Protocol

    return Protocol.objects.get(is_active=True).pk


def test_it_stores_a_zero_report_apart_from_nothing_sent(cast):
    r = reports(cast)
    row = r.send(zero=True, service_requests=5, problems_found=3, new_arrivals=2)
    # The zero path sets the period's event counts to 0 whatever was typed.
    assert row.zero
    assert row.values["service_requests"] == 0 and row.values["problems_found"] == 0
    assert row.values["new_arrivals"] == 0
    rows = {x["area"].pk: x for x in services.rollup(r.daily, DAY, cast.street)}
    assert rows[cast.community.pk]["zero"] == 1 and rows[cast.community.pk]["received"] == 1
    assert rows[r.community_2.pk]["received"] == 0 and rows[r.community_2.pk]["missing"] == 1


def test_it_takes_the_zero_report_form_only_as_an_attestation(cast):
    r = reports(cast)
    attest = {"no_new_fever": True, "no_risk_arrivals": True, "no_new_contacts": True, "no_gatherings": True}
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        r.send(form=r.zero_form, **{**attest, "no_gatherings": False, "reporter": "王书记"})
    assert exc.value.message_dict == {"no_gatherings": ["This must be confirmed."]}
    row = r.send(form=r.zero_form, reporter="王书记", **attest)
    assert row.zero and row.values["no_new_fever"] is True


def test_it_refuses_an_attested_zero_that_the_ledger_contradicts(cast):
    r = reports(cast)
    KeyPerson.objects.create(
        person=make_person(area=cast.grid_a),
        area=cast.grid_a,
        category="close_contact",
        protocol_id=_protocol_id(),
        identified_on=DAY,
    )
    attest = {"no_new_fever": True, "no_risk_arrivals": True, "no_new_contacts": True, "no_gatherings": True}
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        r.send(form=r.zero_form, reporter="王书记", **attest)
    assert "no_new_contacts" in exc.value.message_dict


def test_it_refuses_a_unit_outside_the_senders_scope(cast):
    r = reports(cast)
    with pytest.raises(PermissionDenied):
        r.send(unit=r.community_2, user=cast.community_officer)
    with pytest.raises(PermissionDenied):
        r.send(user=cast.street_officer)  # streets follow, communities send
    assert r.send(user=cast.community_officer).submitted_by == cast.community_officer


def test_it_refuses_a_day_still_to_come(cast):
    r = reports(cast)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.submit(
            None, r.daily, cast.community, DAY + datetime.timedelta(days=1), r.typed(), now=at(DAY, 20)
        )
    assert exc.value.messages == ["A report cannot be sent for a day still to come."]


def test_it_refuses_a_unit_of_another_level(cast):
    r = reports(cast)
    with pytest.raises(ValidationError):
        r.send(unit=cast.grid_a)


def test_it_reloads_the_shipped_forms_without_duplicating(cast):
    before = ReportForm.objects.count()
    ReportForm.objects.filter(code="community_daily").update(name="改过的名字")
    assert services.load_shipped_forms() == ["community_daily", "community_zero"]
    assert ReportForm.objects.count() == before
    assert ReportForm.objects.get(code="community_daily").name == "社区日报告"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_taps_at_once_give_one_report(cast):
    r = reports(cast)
    barrier = threading.Barrier(3)
    outcomes = []

    def send(problems):
        from django.db import connection as conn

        try:
            barrier.wait(timeout=10)
            outcomes.append(r.send(user=cast.community_officer, problems_found=problems))
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(n,)) for n in (1, 1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == 3
    row = Submission.objects.get()
    assert {o.pk for o in outcomes} == {row.pk}
    assert row.revision in (2, 3) and not row.late  # the identical retry counts no revision

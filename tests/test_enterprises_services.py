"""Enterprises back to work, the services: the application end to end with refusals at every step
and the phase rule; the credit code; the roster's link to registry persons (a document not in the
registry refused with what to do); the card from the protocol version; days of cover; gate
temperatures by who measured; staff testing coverage; two reviewers at once (PostgreSQL)."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from epigrid.audit.models import ObjectChange
from epigrid.control.models import Protocol
from epigrid.enterprises import services
from epigrid.enterprises.models import (
    Application,
    Employee,
    EmployeeCard,
    Enterprise,
    clean_uscc,
    days_of_cover,
)
from tests.enterprises_cast import ANSWERS, USCC_A, works
from tests.scoping import make_person

S = Application.Status


@pytest.fixture
def w(cast):
    return works(cast)


def _en(fn, *args, **kwargs):
    with translation.override("en"):
        return fn(*args, **kwargs)


# -- the application --------------------------------------------------------------------------------


def test_it_takes_an_application_from_draft_to_permit(cast, w):
    w.ready()
    app = w.draft(planned=timezone.localdate())
    assert app.status == S.DRAFT
    app = services.submit(w.contact, app)
    assert app.status == S.SUBMITTED and app.staff_count == 1 and app.submitted_at
    app = services.approve(cast.community_officer, app, "食堂错峰就餐")
    assert app.status == S.CONDITIONAL and app.conditions == "食堂错峰就餐"
    app = services.pass_check(cast.street_officer, app, "五到位")
    assert app.status == S.CHECKED
    app = services.issue_permit(cast.street_officer, app)
    assert app.status == S.PERMITTED and app.permit_number and app.permitted_from == timezone.localdate()
    history = [
        (h.source, h.target) for h in __import__("epigrid.audit.services", fromlist=["x"]).history(app)
    ]
    assert ("checked", "permitted") in history


@pytest.mark.parametrize("step", [S.SUBMITTED, S.CONDITIONAL, S.CHECKED])
def test_it_refuses_at_every_step_with_the_reason(cast, w, step):
    app = w.at(step)
    app = services.refuse(cast.community_officer, app, "应急预案缺少隔离室位置")
    assert app.status == S.REFUSED and app.refused_in == step
    assert app.refusal_reason == "应急预案缺少隔离室位置"
    # A refused application is closed: a new one may start.
    assert w.draft().status == S.DRAFT


def test_a_refusal_needs_a_reason(cast, w):
    app = w.at(S.SUBMITTED)
    with pytest.raises(ValidationError):
        services.refuse(cast.community_officer, app, " . ")


def test_a_permitted_application_cannot_be_refused(cast, w):
    app = w.at(S.PERMITTED)
    with pytest.raises(ValidationError):
        services.refuse(cast.community_officer, app, "事后发现问题")


def test_a_second_open_application_is_refused(cast, w):
    w.draft()
    with pytest.raises(ValidationError, match="open application"):
        _en(w.draft)


def test_it_will_not_submit_without_roster_plans_and_commitment(cast, w):
    app = w.draft(prevention_plan="", commitment=False)
    with pytest.raises(ValidationError) as exc:
        _en(services.submit, w.contact, app)
    text = str(exc.value)
    assert "staff roster" in text and "prevention plan" in text and "commitment" in text


def test_the_phase_refuses_a_planned_date_before_its_earliest_day(cast, w):
    phase = w.phase(days_ahead=10)
    w.a.phase = phase
    w.a.save()
    w.ready()
    app = w.draft(planned=timezone.localdate())
    with pytest.raises(ValidationError) as exc:
        _en(services.submit, w.contact, app)
    assert phase.earliest_on.isoformat() in str(exc.value) and "at the earliest" in str(exc.value)
    app = services.update_draft(w.contact, app, planned_start=phase.earliest_on)
    assert services.submit(w.contact, app).status == S.SUBMITTED


def test_the_phase_refuses_a_permit_before_its_earliest_day(cast, w):
    app = w.at(S.CHECKED)
    phase = w.phase(days_ahead=5)
    Enterprise.objects.filter(pk=w.a.pk).update(phase=phase)
    with pytest.raises(ValidationError, match="at the earliest"):
        _en(services.issue_permit, cast.community_officer, app, timezone.localdate())
    app = services.issue_permit(cast.community_officer, app, phase.earliest_on)
    assert app.permitted_from == phase.earliest_on


def test_the_on_site_check_needs_cards_and_three_days_of_ppe(cast, w):
    w.employee()
    app = w.draft()
    app = services.approve(cast.community_officer, services.submit(w.contact, app))
    with pytest.raises(ValidationError) as exc:
        _en(services.pass_check, cast.community_officer, app)
    assert "no card" in str(exc.value) and "No PPE" in str(exc.value)
    services.fill_card(w.contact, Employee.objects.get(), ANSWERS)
    services.set_ppe(w.contact, w.a, "mask", 5, 2)  # 5 ÷ (1 × 2) = 2.5 days
    with pytest.raises(ValidationError, match="less than the 3 days"):
        _en(services.pass_check, cast.community_officer, app)
    services.set_ppe(w.contact, w.a, "mask", 6, 2)
    assert services.pass_check(cast.community_officer, app).status == S.CHECKED


def test_only_reviewers_over_the_enterprise_review(cast, w):
    app = w.at(S.SUBMITTED)
    for user in (w.contact, cast.grid_worker, cast.auditor):
        with pytest.raises(PermissionDenied):
            services.approve(user, app)
    # The contact of another enterprise cannot even submit this one's.
    app2 = w.draft(w.b)
    with pytest.raises(PermissionDenied):
        services.submit(w.contact, app2)


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_at_once_move_the_application_once(cast, w):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    app = w.at(S.SUBMITTED)
    outcomes = []

    def act(fn, user, *args):
        try:
            fn(user, Application.objects.get(pk=app.pk), *args)
            outcomes.append("ok")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(services.approve, cast.community_officer, "社区意见")),
        threading.Thread(target=act, args=(services.approve, cast.street_officer, "街道意见")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Application.objects.get(pk=app.pk).status == S.CONDITIONAL
    from epigrid.audit.services import history

    assert [h.target for h in history(app)].count("conditional") == 1


# -- the credit code --------------------------------------------------------------------------------


def test_a_valid_credit_code_is_kept_compact_and_upper_case():
    assert clean_uscc(" 9111 0000 6000 3734 1l ") == USCC_A


@pytest.mark.parametrize("code", ["91110000600037341X", "9111000060003734", "ABCDEFGHIJKLMNOPQR", ""])
def test_an_invalid_credit_code_is_refused(code):
    with pytest.raises(ValidationError):
        clean_uscc(code)


def test_the_enterprise_form_rules_refuse_a_bad_code(cast):
    enterprise = Enterprise(name="坏码公司", uscc="91110000600037341X", area=cast.grid_a)
    with pytest.raises(ValidationError) as exc:
        enterprise.full_clean()
    assert "uscc" in exc.value.message_dict


# -- the roster -------------------------------------------------------------------------------------


def test_an_employee_is_a_registry_person_found_by_document(cast, w):
    employee, created = services.add_employee(w.contact, w.a, "111", w.worker.doc_number.lower(), "仓库")
    assert created and employee.person == w.worker and employee.department == "仓库"
    again, created = services.add_employee(w.contact, w.a, "111", w.worker.doc_number)
    assert again == employee and not created
    rows = services.roster(w.a)
    assert rows[0]["name"] == "张工" and rows[0]["household"] == "1号楼 1单元 101"
    assert rows[0]["grid"].endswith("第一网格")
    assert rows[0]["doc"] == w.worker.masked_doc_number and rows[0]["phone"] == "138****2222"


def test_a_document_not_in_the_registry_is_refused_with_what_to_do(cast, w):
    from epigrid.core.identity import make_resident_id

    number = make_resident_id("620102", datetime.date(1990, 1, 1), 999)
    with pytest.raises(ValidationError) as exc:
        _en(services.add_employee, w.contact, w.a, "111", number)
    message = str(exc.value)
    assert "not in the resident registry" in message and "register them first" in message
    assert number not in message  # masked
    assert not Employee.objects.exists()


def test_the_lookup_of_a_contact_without_reveal_is_charged(cast, w):
    services.add_employee(w.contact, w.a, "111", w.worker.doc_number)
    assert ObjectChange.objects.filter(action="lookup", user=w.contact).exists()


def test_the_roster_shows_key_person_status_and_latest_test(cast, w):
    from epigrid.control.services import register_key_person

    w.employee()
    register_key_person(w.worker, "low_risk_arrival", cast.grid_a, arrival=timezone.localdate())
    row = services.roster(w.a)[0]
    assert row["key_person"]["category"] == "low_risk_arrival"
    assert row["test"] is None


# -- the card ---------------------------------------------------------------------------------------


def test_the_card_asks_the_questions_of_the_protocol_in_force(cast, w):
    protocol, questions = services.card_questions()
    assert protocol.code == "v9" and {q["key"] for q in questions} >= {"risk_area", "symptoms"}
    employee = w.employee()
    card = services.fill_card(w.contact, employee, {**ANSWERS, "risk_area": "yes"})
    assert card.protocol == protocol and card.answers["risk_area"] == "yes"
    assert "近14天是否到过中高风险区所在县（市、区、旗）" in services.flagged_answers(questions, card.answers)


def test_a_card_with_a_missing_or_wrong_answer_is_refused(cast, w):
    employee = w.employee()
    answers = {**ANSWERS, "symptoms": "maybe"}
    answers.pop("places")
    with pytest.raises(ValidationError) as exc:
        _en(services.fill_card, w.contact, employee, answers)
    assert len(exc.value.messages) == 2


def test_a_new_protocol_version_asks_again_and_keeps_the_old_answers(cast, w):
    employee = w.employee()
    old = services.fill_card(w.contact, employee, ANSWERS)
    v9 = Protocol.objects.get(code="v9")
    rules = {
        **v9.rules,
        "code": "v10",
        "employee_card": [{"key": "vaccinated", "label": "是否完成疫苗接种", "type": "yes_no"}],
    }
    Protocol.objects.filter(is_active=True).update(is_active=False)
    Protocol.objects.create(
        code="v10",
        name="第十版",
        short_name="第十版",
        published=datetime.date(2023, 1, 7),
        rules=rules,
        is_active=True,
    )
    assert services.roster(w.a)[0]["card"] is False  # not answered under the version in force
    new = services.fill_card(w.contact, employee, {"vaccinated": "yes"})
    assert new.pk != old.pk and EmployeeCard.objects.get(pk=old.pk).answers == old.answers


# -- PPE --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stock", "staff", "use", "days"),
    [
        (600, 100, 2, Decimal("3.0")),
        (500, 100, 2, Decimal("2.5")),
        (10, 0, 2, None),
        (7, 3, Decimal("0.5"), Decimal("4.7")),
    ],
)
def test_days_of_cover_are_stock_over_staff_times_daily_use(stock, staff, use, days):
    assert days_of_cover(stock, staff, use) == days


def test_an_item_below_three_days_is_flagged_and_filtered(cast, w):
    w.employee()
    services.set_ppe(w.contact, w.a, "mask", 5, 2)
    services.set_ppe(w.contact, w.a, "disinfectant", 10, Decimal("0.1"))
    cover = {c["stock"].item: c for c in services.ppe_cover(w.a)}
    assert cover["mask"]["short"] and cover["mask"]["days"] == Decimal("2.5")
    assert not cover["disinfectant"]["short"]
    assert list(Enterprise.objects.filter(services.ppe_short_q())) == [w.a]
    services.set_ppe(w.contact, w.a, "mask", 50, 2)  # counted again: replaces the figure
    assert not Enterprise.objects.filter(services.ppe_short_q()).exists()


# -- gate temperatures ------------------------------------------------------------------------------


def test_a_gate_temperature_is_recorded_as_measured_by_the_logged_in_user(cast, w):
    employee = w.employee()
    reading = services.record_temperature(w.contact, employee, "36.6")
    assert reading.measured_by == w.contact and reading.temperature == Decimal("36.6") and not reading.fever
    fever = services.record_temperature(cast.community_officer, employee, "37.3℃")
    assert fever.fever and fever.measured_by == cast.community_officer
    assert services.roster(w.a)[0]["fever"]


def test_a_temperature_without_a_measurer_or_out_of_range_is_refused(cast, w):
    employee = w.employee()
    with pytest.raises(ValidationError):
        services.record_temperature(None, employee, "36.5")
    for value in ("45", "abc", ""):
        with pytest.raises(ValidationError):
            services.record_temperature(w.contact, employee, value)


def test_the_contact_of_another_enterprise_cannot_measure_here(cast, w):
    employee = w.employee()
    with pytest.raises(PermissionDenied):
        services.record_temperature(w.contact_b, employee, "36.5")


# -- testing coverage -------------------------------------------------------------------------------


def test_staff_coverage_counts_the_rounds_covering_the_staff(cast, w):
    from django.utils import timezone

    from epigrid.testing.models import Campaign

    w.employee()
    w.employee(person=make_person(household=cast.household_a, name="赵工"))
    now = timezone.now()
    campaign = Campaign.objects.create(
        name="第3轮全员核酸", area=cast.district, starts_at=now, ends_at=now + datetime.timedelta(hours=12)
    )
    campaign.areas.add(cast.community)
    rows = services.testing_coverage(w.a)
    assert rows[0]["name"] == "第3轮全员核酸"
    assert rows[0]["expected"] == 2 and rows[0]["sampled"] == 0 and rows[0]["coverage"] == 0


# -- the daily report (reports' sender kinds, decision 0033) ----------------------------------------


def test_a_permitted_enterprise_sends_the_daily_report_and_completeness_counts_it(cast, w):
    from django.utils import timezone

    from epigrid.enterprises import daily
    from epigrid.reports import services as reports

    form = daily.daily_form()
    assert form is not None and form.sender_kind == "enterprise"
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    app = w.at(S.CHECKED)
    services.issue_permit(cast.community_officer, app, yesterday)
    assert list(daily.expected(yesterday)) == [w.a]
    assert not daily.expected(yesterday - datetime.timedelta(days=1)).exists()
    services.record_temperature(w.contact, Employee.objects.get(), "36.5", measured_at=timezone.now() - datetime.timedelta(days=1))
    live = daily.live(form, w.a, yesterday)
    assert live["staff_on_roster"] == 1 and live["temperatures_taken"] == 1 and live["fevers"] == 0
    raw = {"staff_on_roster": 1, "staff_on_duty": 1, "temperatures_taken": 1, "fevers": 0, "from_risk_areas": 0,
           "disinfections": 3, "mask_days": live["mask_days"], "isolation_room_ready": True}
    reports.submit(cast.community_officer, form, None, yesterday, raw, sender=w.a)
    row = daily.completeness([w.a.pk, w.b.pk])
    # Due: the days from the permit on whose deadline has passed — yesterday's, and today's once
    # the clock is past today's deadline (the test runs at any hour).
    now = timezone.now()
    due = sum(1 for day in (yesterday, timezone.localdate()) if form.deadline(day) <= now)
    assert row[w.a.pk]["expected"] == due and row[w.a.pk]["received"] == 1
    assert row[w.b.pk]["expected"] == 0  # no permit: nothing due

"""Shops and markets through their services: the daily report sent through the report forms and
its alerts (spike against yesterday and the baseline, short stock, cleared by a correction, raised
once however often it is evaluated, also under concurrent sending on PostgreSQL), baselines from
a reference period, the closure workflow with re-inspection, the staff ledger's link to registry
persons with their test and key-person status, the wildlife ledger."""

import threading
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from epigrid.audit.models import Transition
from epigrid.markets import services
from epigrid.markets.models import Closure, Commodity, Outlet, PriceAlert, ShopStaff, WildlifeCheck
from epigrid.reports.models import Submission
from tests.markets_cast import PORK_NORMAL, day, markets, prices
from tests.scoping import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def m(cast):
    return markets(cast)


def open_alerts(outlet, **filters):
    return sorted(
        PriceAlert.objects.filter(outlet=outlet, status="open", **filters).values_list(
            "commodity__code", "kind"
        )
    )


# The daily report and its alerts


def test_it_sends_the_report_through_the_report_forms(m):
    m.send(m.supermarket, day(1), PORK_NORMAL)
    row = Submission.objects.get(form=m.form, sender_id=m.supermarket.pk, day=day(1))
    assert row.unit == m.supermarket.area
    assert row.values["pork_price"] == "14.00"


def test_it_raises_a_spike_against_yesterday(m):
    m.send(m.supermarket, day(2), PORK_NORMAL)
    m.send(m.supermarket, day(1), prices(pork=(500, "16.00", 5), eggs=(300, "5.00", 4)))
    assert open_alerts(m.supermarket) == [("pork", "day_spike")]
    alert = PriceAlert.objects.get(outlet=m.supermarket)
    assert (alert.value, alert.reference, alert.change_pct) == (D("16.00"), D("14.00"), D("14.3"))


def test_it_raises_a_spike_against_the_baseline_of_an_area_above(m, cast):
    services.set_baseline(cast.commander, m.pork, cast.district, price=D("12.00"))
    m.send(m.supermarket, day(1), PORK_NORMAL)
    assert open_alerts(m.supermarket) == [("pork", "baseline_spike")]
    assert PriceAlert.objects.get(outlet=m.supermarket).change_pct == D("16.7")


def test_the_nearest_baseline_up_the_tree_wins(m, cast):
    services.set_baseline(cast.commander, m.pork, cast.district, price=D("12.00"))
    services.set_baseline(cast.admin, m.pork, cast.community, price=D("14.00"))
    assert services.baselines_for(cast.grid_a)["pork"] == D("14.00")
    m.send(m.supermarket, day(1), PORK_NORMAL)
    assert open_alerts(m.supermarket) == []


def test_it_raises_short_stock_below_the_items_minimum(m):
    m.send(m.supermarket, day(1), prices(pork=(500, "14.00", "2.5"), eggs=(300, "5.00", 4)))
    assert open_alerts(m.supermarket) == [("pork", "short_stock")]


def test_the_threshold_is_the_catalogues(m):
    Commodity.objects.filter(code="pork").update(spike_percent=D("20"))
    m.send(m.supermarket, day(2), PORK_NORMAL)
    m.send(m.supermarket, day(1), prices(pork=(500, "16.00", 5)))
    assert open_alerts(m.supermarket) == []


def test_a_corrected_report_clears_the_alert_and_a_second_correction_raises_it_again(m):
    m.send(m.supermarket, day(2), PORK_NORMAL)
    m.send(m.supermarket, day(1), prices(pork=(500, "16.00", 5)))
    m.send(m.supermarket, day(1), prices(pork=(500, "14.20", 5)))
    alert = PriceAlert.objects.get(outlet=m.supermarket)
    assert alert.status == "cleared"
    m.send(m.supermarket, day(1), prices(pork=(500, "17.00", 5)))
    alert.refresh_from_db()
    assert (alert.status, alert.value) == ("open", D("17.00"))
    assert PriceAlert.objects.filter(outlet=m.supermarket).count() == 1


def test_a_report_sent_through_the_reports_pages_raises_its_alerts_once_committed(
    m, cast, django_capture_on_commit_callbacks
):
    from epigrid.reports import services as reports

    with django_capture_on_commit_callbacks(execute=True):
        reports.submit(
            cast.community_officer, m.form, None, day(1), prices(pork=(500, "14.00", 1)), sender=m.supermarket
        )
    assert open_alerts(m.supermarket) == [("pork", "short_stock")]


def test_evaluating_twice_changes_nothing(m):
    m.send(m.supermarket, day(1), prices(pork=(500, "14.00", 1)))
    before = list(PriceAlert.objects.values_list("pk", "status", "value"))
    services.evaluate(m.supermarket, day(1))
    assert services.evaluate_day(day(1)) == 1
    assert list(PriceAlert.objects.values_list("pk", "status", "value")) == before


def test_a_handled_alert_stays_handled_with_what_was_done(m, cast):
    m.send(m.supermarket, day(1), prices(pork=(500, "14.00", 1)))
    alert = PriceAlert.objects.get()
    services.handle_alert(cast.community_officer, alert, "已电话督促补货")
    alert.refresh_from_db()
    assert (alert.status, alert.action_taken, alert.handled_by) == (
        "handled",
        "已电话督促补货",
        cast.community_officer,
    )
    services.evaluate(m.supermarket, day(1))
    alert.refresh_from_db()
    assert alert.status == "handled"
    assert Transition.objects.filter(object_id=alert.pk, target="handled").exists()


def test_handling_needs_a_note_and_the_right(m, cast):
    m.send(m.supermarket, day(1), prices(pork=(500, "14.00", 1)))
    alert = PriceAlert.objects.get()
    with pytest.raises(ValidationError):
        services.handle_alert(cast.community_officer, alert, " ")
    with pytest.raises(PermissionDenied):
        services.handle_alert(cast.grid_worker_b, alert, "看过了")


def test_only_those_who_may_send_for_the_outlet_send(m, cast):
    with pytest.raises(PermissionDenied):
        m.send(m.supermarket, day(1), PORK_NORMAL, user=cast.grid_worker_b)


def test_the_baseline_can_be_the_mean_of_a_reference_period(m, cast):
    m.send(m.supermarket, day(3), prices(pork=(1, "12.00", 5)))
    m.send(m.market, day(3), prices(pork=(1, "13.00", 5)))
    m.send(m.supermarket, day(2), prices(pork=(1, "14.00", 5)))
    row = services.set_baseline(cast.commander, m.pork, cast.community, period_from=day(3), period_to=day(2))
    assert row.price == D("13.00")
    with pytest.raises(ValidationError):
        services.set_baseline(cast.commander, m.pork, cast.community, period_from=day(30), period_to=day(29))


def test_history_and_trend(m, cast):
    m.send(m.supermarket, day(2), PORK_NORMAL)
    m.send(m.supermarket, day(1), prices(pork=(500, "15.40", 5)))
    m.send(m.market, day(1), prices(pork=(500, "14.60", 5)))
    rows = services.history(m.supermarket, days=3, until=day(0))
    assert [r["reported"] for r in rows] == [False, True, True]
    assert rows[1]["changes"]["pork"].day_pct == D("10.0")
    points = services.price_trend(Outlet.objects.all(), m.pork, days=3, until=day(0))
    assert [(p[0], p[1], p[4]) for p in points] == [(day(2), D("14.00"), 1), (day(1), D("15.00"), 2)]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_two_senders_at_once_raise_one_alert(cast):
    m = markets(cast)
    m.send(m.supermarket, day(2), PORK_NORMAL)
    errors = []

    def send():
        try:
            m.send(m.supermarket, day(1), prices(pork=(500, "20.00", 5)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert PriceAlert.objects.filter(outlet=m.supermarket, day=day(1)).count() == 1
    assert Submission.objects.filter(sender_id=m.supermarket.pk, day=day(1)).count() == 1


# Closures with re-inspection


def test_a_closure_is_reinspected_then_kept_closed_then_reopened(m):
    closure = services.close_outlet(
        m.inspector, m.poultry, "活禽交易点按要求关停", closed_on=day(6), reinspect_due=day(3)
    )
    m.poultry.refresh_from_db()
    assert not m.poultry.is_open
    closure = services.reinspect(
        m.inspector, closure, "笼舍未清洗消毒", reopen=False, reason="消毒不到位", on=day(3), next_due=day(1)
    )
    assert (closure.status, closure.reinspections, closure.reinspect_due) == ("kept_closed", 1, day(1))
    closure = services.reinspect(
        m.inspector, closure, "已全面消毒，检测阴性", reopen=True, reason="符合复市条件", on=day(1)
    )
    m.poultry.refresh_from_db()
    assert (closure.status, closure.reopened_on, closure.reinspections) == ("reopened", day(1), 2)
    assert m.poultry.is_open
    moves = list(
        Transition.objects.filter(object_id=closure.pk).order_by("pk").values_list("source", "target")
    )
    assert moves == [
        ("closed", "reinspected"),
        ("reinspected", "kept_closed"),
        ("kept_closed", "reinspected"),
        ("reinspected", "reopened"),
    ]


def test_keeping_closed_needs_a_reason_and_findings(m):
    closure = services.close_outlet(m.inspector, m.poultry, "关停")
    with pytest.raises(ValidationError):
        services.reinspect(m.inspector, closure, "", reopen=True)
    with pytest.raises(ValidationError):
        services.reinspect(m.inspector, closure, "仍有活禽", reopen=False, reason="")
    closure.refresh_from_db()
    assert closure.status == "closed"


def test_a_closed_outlet_cannot_be_closed_twice_nor_a_reopened_one_reinspected(m):
    closure = services.close_outlet(m.inspector, m.poultry, "关停")
    with pytest.raises(ValidationError):
        services.close_outlet(m.inspector, m.poultry, "再次关停")
    closure = services.reinspect(m.inspector, closure, "合格", reopen=True)
    with pytest.raises(ValidationError):
        services.reinspect(m.inspector, closure, "合格", reopen=True)
    assert Closure.objects.count() == 1


def test_an_inspection_with_result_closed_closes_the_outlet(m):
    inspection = services.record_inspection(
        m.inspector, m.poultry, "closed", findings="违规宰杀活禽", reinspect_due=day(0)
    )
    closure = Closure.objects.get(outlet=m.poultry)
    assert (closure.reason, closure.closed_on, closure.closed_by) == (
        "违规宰杀活禽",
        inspection.inspected_on,
        m.inspector,
    )


def test_an_inspector_elsewhere_may_not_close(m, cast):
    with pytest.raises(PermissionDenied):
        services.close_outlet(cast.grid_worker_b, m.poultry, "关停")


# Staff linked to registry persons


def test_staff_are_registry_persons_found_by_document(m, cast):
    person = make_person(household=cast.household_a, name="李收银", phone="+8613912345678")
    row, created = services.add_staff(
        cast.community_officer, m.supermarket, person.doc_type, person.doc_number, position="收银员"
    )
    assert created and row.person == person
    again, created = services.add_staff(
        cast.community_officer, m.supermarket, person.doc_type, person.doc_number
    )
    assert not created and again == row


def test_a_person_not_in_the_registry_is_refused(m, cast):
    with pytest.raises(ValidationError) as exc:
        services.add_staff(cast.community_officer, m.supermarket, "111", "11010519491231002X")
    assert "doc_number" in exc.value.message_dict
    assert not ShopStaff.objects.exists()


def test_staff_carry_the_latest_test_and_key_person_status(m, cast):
    from epigrid.control.services import register_key_person

    person = make_person(household=cast.household_a, name="赵售货")
    row, _ = services.add_staff(cast.community_officer, m.supermarket, person.doc_type, person.doc_number)
    annotated = services.staff_with_status(ShopStaff.objects.filter(pk=row.pk)).get()
    assert services.describe_status(annotated) == ("", False, "")
    register_key_person(person, "close_contact", cast.grid_a)
    annotated = services.staff_with_status(ShopStaff.objects.filter(pk=row.pk)).get()
    assert services.describe_status(annotated)[2] != ""


# Outlets and wildlife


def test_the_same_outlet_name_in_an_area_is_the_same_outlet(m, cast):
    outlet, created = services.save_outlet(
        cast.community_officer, name=" 九州大润发超市 ", area=cast.grid_a, kind="supermarket"
    )
    assert not created and outlet == m.supermarket


def test_a_wildlife_check_is_recorded_once(m, cast):
    fields = {
        "area": cast.grid_a,
        "site": "九州养殖场",
        "species": "孔雀",
        "count": 12,
        "check_date": day(1),
        "checker": "李四",
    }
    row, created = services.record_wildlife(m.inspector, **fields)
    again, created_again = services.record_wildlife(m.inspector, **fields)
    assert created and not created_again and row == again
    assert WildlifeCheck.objects.count() == 1

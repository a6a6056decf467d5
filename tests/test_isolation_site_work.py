"""The site's daily work beyond temperatures (decision 0024, addendum): the protocol's tests of
the day recorded into control, fees per stay and per payer with their export, and medical-waste
handovers with both signatures (pages, API, export), each scoped to the site's staff."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from epigrid.control import models as control_models
from epigrid.control import services as control_services
from epigrid.isolation import services
from epigrid.isolation.models import Site, Stay, WasteHandover
from tests.isolation_cast import isolation
from tests.scoping import ScopedAPITests
from tests.test_isolation_ledger import sheet

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def iso(cast):
    return isolation(cast)


def in_isolation(iso, cast, day_of_step, name="隔离人", room="101"):
    """A close contact (第九版: tests on days 1, 2, 3, 5 and 7) checked in on `day_of_step` today."""
    person = iso.person(name=name)
    entry, _created = control_services.register_key_person(
        person, "close_contact", cast.grid_a, last_exposure=TODAY - day_of_step * DAY
    )
    stay = services.allocate(iso.staff_a, person, iso.room(number=room), entry=entry)
    return services.check_in(iso.staff_a, stay, now=timezone.now() - datetime.timedelta(hours=1))


# -- tests on the protocol's days ------------------------------------------------------------------


def test_the_phone_page_lists_todays_tests_and_records_them_into_control(cast, iso):
    due = in_isolation(iso, cast, day_of_step=5, name="今天检测")
    in_isolation(iso, cast, day_of_step=4, name="今天不检", room="102")
    client = cast.client_for(iso.staff_a)
    page = client.get(reverse("isolation:checks", args=[due.site_id])).content.decode()
    section = page[page.index('data-testid="tests-today"') :]
    section = section[: section.index("</section>")]
    assert "今天检测" in section and "今天不检" not in section
    url = reverse("isolation:record_test", args=[due.pk])
    client.post(url, {"result": "pending", "back": "checks"})
    record = control_models.TestRecord.objects.get(measure=due.measure, day=TODAY)
    assert (record.result, record.recorded_by) == ("pending", iso.staff_a)
    client.post(url, {"result": "negative"})  # the result arrives: the same record
    assert control_models.TestRecord.objects.get(measure=due.measure).result == "negative"


def test_a_person_without_a_test_today_is_refused(cast, iso):
    stay = in_isolation(iso, cast, day_of_step=4)
    with pytest.raises(Exception) as refused:
        services.record_test(iso.staff_a, stay, "pending")
    assert refused.value.code == "day"
    assert not control_models.TestRecord.objects.exists()


def test_tests_due_today_are_counted_on_the_site_list_and_page(cast, iso):
    stay = in_isolation(iso, cast, day_of_step=1)
    in_isolation(iso, cast, day_of_step=3, name="二号", room="102")
    in_isolation(iso, cast, day_of_step=4, name="三号", room="103")
    client = cast.client_for(cast.commander)
    listing = client.get("/isolation/").content.decode()
    assert 'data-testid="site-tests-due">2<' in listing
    page = client.get(stay.site.get_absolute_url()).content.decode()
    assert 'data-testid="count-tests-today">2<' in page
    assert page.count('data-testid="stay-test-due"') == 2


def test_another_sites_staff_cannot_record_a_test(cast, iso):
    stay = in_isolation(iso, cast, day_of_step=1)
    iso.site(cast.grid_b)
    response = cast.client_for(iso.staff_b).post(
        reverse("isolation:record_test", args=[stay.pk]), {"result": "pending"}
    )
    assert response.status_code == 404
    assert not control_models.TestRecord.objects.exists()


# -- fees ---------------------------------------------------------------------------------------------


def at(day, hour=15):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def test_nights_count_the_day_of_arrival_and_not_the_day_of_leaving():
    assert services.nights(at(TODAY - 7 * DAY), at(TODAY, 10)) == 7
    assert services.nights(at(TODAY, 9), at(TODAY, 18)) == 0
    assert services.nights(None, None) == 0
    assert services.fee(7, Decimal("180.00")) == Decimal("1260.00")
    assert services.fee(7, None) is None


def test_an_employer_payer_needs_the_employers_name(cast, iso):
    stay = services.allocate(iso.staff_a, iso.person(), iso.room())
    with pytest.raises(Exception) as refused:
        services.set_payer(iso.staff_a, stay, "employer", "")
    assert refused.value.code == "employer"
    stay = services.set_payer(iso.staff_a, stay, "employer", "兰州某建筑公司")
    assert (stay.payer, stay.employer) == ("employer", "兰州某建筑公司")
    assert services.set_payer(iso.staff_a, stay, "self").employer == ""


def stayed(iso, name, room, nights, payer="government", employer=""):
    stay = services.allocate(iso.staff_a, iso.person(name=name), iso.room(number=room))
    stay = services.check_in(iso.staff_a, stay, now=at(TODAY - nights * DAY))
    return services.set_payer(iso.staff_a, stay, payer, employer)


def test_the_site_page_sums_the_fees_per_payer(cast, iso):
    site = iso.site(rooms=4)
    Site.objects.filter(pk=site.pk).update(daily_rate=Decimal("150.00"))
    stayed(iso, "甲", "101", 3)
    stayed(iso, "乙", "102", 2)
    stayed(iso, "丙", "103", 4, "self")
    stayed(iso, "丁", "104", 5, "employer", "兰州某建筑公司")
    page = (
        cast.client_for(iso.staff_a).get(site.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    fees = page[page.index('data-testid="fees"') :]
    assert fees.index("Government") < fees.index("Self-paid") < fees.index("兰州某建筑公司")
    for amount in ("¥750.00", "¥600.00", "¥750.00"):
        assert amount in fees
    assert fees.count('data-testid="fee-row"') == 3


def test_the_stay_page_shows_the_fee_and_sets_the_payer(cast, iso):
    stay = stayed(iso, "甲", "101", 3)
    Site.objects.filter(pk=stay.site_id).update(daily_rate=Decimal("120.50"))
    client = cast.client_for(iso.staff_a)
    page = client.get(stay.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "¥361.50" in page
    client.post(reverse("isolation:set_payer", args=[stay.pk]), {"payer": "employer", "employer": "某公司"})
    assert Stay.objects.get(pk=stay.pk).employer == "某公司"
    # Read-only roles see the fee but cannot change who pays.
    auditor = cast.client_for(cast.auditor)
    assert auditor.post(reverse("isolation:set_payer", args=[stay.pk]), {"payer": "self"}).status_code == 403


def test_the_fee_export_has_one_row_per_stay_with_nights_fee_and_payer(
    cast, iso, django_capture_on_commit_callbacks
):
    site = iso.site(rooms=2)
    Site.objects.filter(pk=site.pk).update(daily_rate=Decimal("100"))
    stay = stayed(iso, "甲", "101", 3, "employer", "某公司")
    services.allocate(iso.staff_a, iso.person(name="未到"), iso.room(number="102"))  # never came: no fee
    client = cast.client_for(iso.staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/jobs/export/isolation-fees/", {"query": f"site={site.pk}"})
    from epigrid.jobs.models import Job

    _header, rows, _data = sheet(client, Job.objects.get(user=iso.staff_a))
    assert len(rows) == 1
    row = rows[0]
    assert (row["姓名"], row["晚数"], row["费用"], row["付费方"], row["付费单位"]) == (
        "甲",
        3,
        300,
        "单位",
        "某公司",
    )
    assert row["身份证"] == stay.person.masked_doc_number  # site staff: masked


# -- medical-waste handovers ---------------------------------------------------------------------------


def handover(iso, grid=None, **fields):
    site = iso.site(grid)
    staff = iso.staff_b if grid is not None and grid == iso.cast.grid_b else iso.staff_a
    values = {
        "bags": 6,
        "weight_kg": Decimal("12.5"),
        "company": "兰州医废处置公司",
        "collector_name": "王师傅",
    }
    return services.record_waste(staff, site, **{**values, **fields})


def test_staff_record_a_handover_and_the_collector_signs_once(cast, iso):
    site = iso.site()
    client = cast.client_for(iso.staff_a)
    url = reverse("isolation:site_waste", args=[site.pk])
    response = client.post(
        url, {"bags": "4", "weight_kg": "8.20", "company": "兰州医废处置公司", "collector_name": "王师傅"}
    )
    assert response.status_code == 302
    handover_ = WasteHandover.objects.get()
    assert (handover_.bags, handover_.weight_kg, handover_.handed_over_by) == (
        4,
        Decimal("8.20"),
        iso.staff_a,
    )
    assert handover_.staff_signed_at is not None and handover_.collector_signed_at is None
    assert 'data-testid="waste-sign"' in client.get(url).content.decode()
    client.post(reverse("isolation:waste_sign", args=[handover_.pk]))
    signed = WasteHandover.objects.get().collector_signed_at
    assert signed is not None
    client.post(reverse("isolation:waste_sign", args=[handover_.pk]))
    assert WasteHandover.objects.get().collector_signed_at == signed


def test_a_bad_handover_comes_back_with_the_errors(cast, iso):
    site = iso.site()
    response = cast.client_for(iso.staff_a).post(
        reverse("isolation:site_waste", args=[site.pk]),
        {"bags": "0", "weight_kg": "", "company": "x", "collector_name": "y"},
    )
    assert response.status_code == 200 and not WasteHandover.objects.exists()


def test_handovers_are_the_sites_staffs_and_read_only_for_auditors(cast, iso):
    mine = handover(iso)
    iso.site(cast.grid_b)
    other = cast.client_for(iso.staff_b)
    assert other.get(reverse("isolation:site_waste", args=[mine.site_id])).status_code == 404
    assert other.post(reverse("isolation:waste_sign", args=[mine.pk])).status_code == 404
    auditor = cast.client_for(cast.auditor)
    assert auditor.get(reverse("isolation:site_waste", args=[mine.site_id])).status_code == 200
    assert auditor.post(reverse("isolation:waste_sign", args=[mine.pk])).status_code == 403
    refused = auditor.post(
        reverse("isolation:site_waste", args=[mine.site_id]),
        {"bags": "1", "weight_kg": "1", "company": "x", "collector_name": "y"},
    )
    assert refused.status_code == 403


def test_the_waste_export_has_both_signatures(cast, iso, django_capture_on_commit_callbacks):
    mine = handover(iso)
    services.collector_signs(iso.staff_a, mine)
    client = cast.client_for(iso.staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/jobs/export/isolation-waste/", {"query": ""})
    from epigrid.jobs.models import Job

    _header, rows, _data = sheet(client, Job.objects.get(user=iso.staff_a))
    assert [(r["袋数"], r["重量(kg)"], r["收运人"], r["移交人"]) for r in rows] == [
        (6, 12.5, "王师傅", "iso_a")
    ]
    assert rows[0]["收运人签字时间"]


class TestWasteHandoverAPI(ScopedAPITests):
    model = WasteHandover
    api_list_url = "/api/v1/isolation-waste-handovers/"
    viewer = "staff_a"
    outsider = "staff_b"
    unrevealing = "staff_a"
    write_action = "sign"

    def make_object(self, cast, grid):
        iso = isolation(cast)
        iso.site(cast.grid_b)
        return handover(iso, grid)

    def write_data(self, cast, obj):
        return {}


def test_the_api_records_a_handover_signed_by_the_caller(cast, iso):
    site = iso.site()
    client = APIClient()
    client.force_authenticate(iso.staff_a)
    answer = client.post(
        "/api/v1/isolation-waste-handovers/",
        {"site": site.pk, "bags": 3, "weight_kg": "5.40", "company": "医废公司", "collector_name": "李师傅"},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["handed_over_by"] == "iso_a" and answer.json()["collector_signed_at"] is None
    signed = client.post(f"/api/v1/isolation-waste-handovers/{answer.json()['id']}/sign/", {}, format="json")
    assert signed.status_code == 200 and signed.json()["collector_signed_at"]

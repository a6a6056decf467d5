"""The door-to-door sweep: the missed list and its one-tap outcomes, exemptions (pages and
ledger), pre-formed groups (ledger and page), unregistered finds, home-sampling tasks, the masked
missed-list export; scope through the generic mixins."""

import datetime
import io
import re

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Household
from epigrid.core.identity import make_resident_id
from epigrid.core.imports import run_import
from epigrid.jobs.models import Job, Status
from epigrid.people.models import Person
from epigrid.testing import services
from epigrid.testing.imports import ExemptionResource, GroupResource
from epigrid.testing.models import (
    Exemption,
    ExemptionReason,
    Find,
    Group,
    HomeTask,
    SampledPerson,
    SamplingPoint,
    SweepVisit,
)
from tests.scoping import ScopedViewTests, assert_no_full_numbers, make_person
from tests.testing_cast import Round, new_tube


@pytest.fixture
def rnd(cast):
    return Round(cast)


def missed_url(rnd, **params):
    from django.utils.http import urlencode

    return f"{reverse('testing:missed', args=[rnd.campaign.pk])}?{urlencode(params)}"


def xlsx(header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["第一轮全员核酸 名单"])
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer


def run(resource_class, user, area, fileobj, dry_run=False):
    with translation.override("en"):
        return run_import(resource_class(user, area), fileobj, "名单.xlsx", dry_run=dry_run)


# -- the missed list ------------------------------------------------------------------------------


@pytest.fixture
def street(cast, rnd):
    """Grid A: 1号楼 1-101 (3 persons), 1号楼 2-102 (1), 2号楼 1-301 (2); one sampled, one exempt."""
    from epigrid.areas.models import Building

    b2 = Building.objects.create(area=cast.grid_a, name="2号楼")
    h2 = Household.objects.create(building=b2, unit="1", room="301")
    h3 = Household.objects.create(building=cast.building_a, unit="2", room="102")
    persons = {
        "wang": make_person(household=h2, name="王五", phone="+8613812345678"),
        "li": make_person(household=cast.household_a, name="李四"),
        "zhang": make_person(household=cast.household_a, name="张三", phone="+8613900001111"),
        "an": make_person(household=cast.household_a, name="安宁"),
        "zhao": make_person(household=h3, name="赵六"),
        "qian": make_person(household=h2, name="钱七"),
        "other": make_person(household=cast.household_b, name="孙八"),
    }
    services.ingest(rnd.sampler, [rnd.scan(persons["an"], new_tube())])
    services.exempt(cast.admin, rnd.campaign, persons["qian"], ExemptionReason.INFANT)
    return persons


def test_the_missed_list_is_in_address_order_and_masked(cast, rnd, street):
    client = cast.client_for(cast.grid_worker)
    response = client.get(missed_url(rnd, area=cast.grid_a.code))
    assert response.status_code == 200
    names = [row.record.name for row in response.context["table"].rows]
    # 1号楼 1单元 101 (李四, 张三 in pinyin order), 1号楼 2单元 102, then 2号楼.
    assert names == ["李四", "张三", "赵六", "王五"]
    body = response.content.decode()
    assert_no_full_numbers(body)
    assert "138****5678" in body and "1980" in body and "101" in body
    # A building narrows it.
    response = client.get(missed_url(rnd, area=cast.grid_a.code, building=cast.building_a.pk))
    assert [row.record.name for row in response.context["table"].rows] == ["李四", "张三", "赵六"]


def test_sweep_outcomes_exempt_or_keep_the_person_on_the_list(cast, rnd, street):
    client = cast.client_for(cast.grid_worker)
    campaign = rnd.campaign

    def tap(person, outcome, note="", **extra):
        url = reverse("testing:sweep_record", args=[campaign.pk, person.pk])
        return client.post(url, {"outcome": outcome, "note": note, **extra}, HTTP_HX_REQUEST="true")

    response = tap(street["li"], "not_home", "敲门无人")
    assert response.status_code == 200 and "已记录" in response.content.decode()
    assert not Exemption.objects.filter(person=street["li"]).exists()
    assert tap(street["zhang"], "moved").status_code == 200
    assert tap(street["zhao"], "hospital").status_code == 200
    assert "免检" in tap(street["wang"], "exempt").content.decode()  # no reason: refused, said why
    assert not Exemption.objects.filter(person=street["wang"]).exists()
    tap(street["wang"], "exempt", "精神障碍，另行安排")
    reasons = dict(Exemption.objects.filter(campaign=campaign).values_list("person__name", "reason"))
    assert reasons == {"张三": "moved", "赵六": "hospital", "王五": "other", "钱七": "infant"}
    assert SweepVisit.objects.filter(campaign=campaign).count() == 4
    rows = client.get(missed_url(rnd, area=cast.grid_a.code)).context["table"].page.object_list
    assert [r.record.name for r in rows] == ["李四"]
    assert rows[0].record.last_outcome == "not_home"
    # Without htmx the tap goes back to the list with a message.
    response = client.post(
        reverse("testing:sweep_record", args=[campaign.pk, street["li"].pk]), {"outcome": "away"}
    )
    assert response.status_code == 302
    # Another grid's worker cannot record for grid A's residents.
    other = cast.client_for(cast.grid_worker_b)
    url = reverse("testing:sweep_record", args=[campaign.pk, street["li"].pk])
    assert other.post(url, {"outcome": "moved"}).status_code == 404


def test_home_sampling_goes_to_the_home_team_and_its_samplers(cast, rnd, street):
    team = SamplingPoint.objects.create(
        campaign=rnd.campaign, name="上门采样队", area=cast.grid_a, is_home_team=True
    )
    home_sampler = User.objects.create_user("home_sampler", password="x")
    Grant.objects.create(user=home_sampler, role="sampler", area=cast.community)
    team.staff.add(home_sampler)
    client = cast.client_for(cast.grid_worker)
    url = reverse("testing:sweep_record", args=[rnd.campaign.pk, street["li"].pk])
    client.post(url, {"outcome": "sampled_home", "team": team.pk, "note": "卧床"})
    task = HomeTask.objects.get(person=street["li"])
    assert (task.team, task.status) == (team, HomeTask.Status.OPEN)
    lists = reverse("testing:hometask_list")
    assert "李四" in client.get(lists).content.decode()
    assert "李四" in cast.client_for(home_sampler).get(lists).content.decode()
    assert "李四" not in cast.client_for(rnd.sampler).get(lists).content.decode()
    assert "李四" not in cast.client_for(cast.grid_worker_b).get(lists).content.decode()
    # Cancel and reopen.
    cancel = reverse("testing:hometask_status", args=[task.pk, "cancel"])
    assert client.post(cancel, {"note": "已自行到点采样"}).status_code == 302
    task.refresh_from_db()
    assert task.status == HomeTask.Status.CANCELLED
    client.post(reverse("testing:hometask_status", args=[task.pk, "reopen"]))
    task.refresh_from_db()
    assert task.status == HomeTask.Status.OPEN
    assert cast.client_for(cast.grid_worker_b).post(cancel).status_code == 404
    # Reopening a task while another is open for the person says so instead of failing.
    client.post(cancel)
    client.post(url, {"outcome": "sampled_home", "team": team.pk})
    response = client.post(reverse("testing:hometask_status", args=[task.pk, "reopen"]), follow=True)
    assert response.status_code == 200 and "上门采样任务" in response.content.decode()
    task = HomeTask.objects.get(person=street["li"], status=HomeTask.Status.OPEN)
    # The home team samples the person with the desk flow: the task closes.
    desk = team.desks.create(name="1号")
    services.ingest(home_sampler, [rnd.scan(street["li"], new_tube(), desk=desk)])
    task.refresh_from_db()
    assert task.status == HomeTask.Status.DONE


def test_the_missed_export_is_masked(cast, rnd, street, django_capture_on_commit_callbacks):
    client = cast.client_for(cast.grid_worker)
    query = f"campaign={rnd.campaign.pk}&area={cast.grid_a.code}"
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/jobs/export/missed/", {"query": query})
    job = Job.objects.filter(user=cast.grid_worker).order_by("-created").first()
    assert job.status == Status.SUCCEEDED, job.message
    data = b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert [r[4] for r in rows[1:]] == ["李四", "张三", "赵六", "王五"]
    text = repr(rows)
    assert_no_full_numbers(text)
    assert "138****5678" in text
    # Another grid's worker gets nothing of grid A.
    with django_capture_on_commit_callbacks(execute=True):
        cast.client_for(cast.grid_worker_b).post("/jobs/export/missed/", {"query": query})
    job = Job.objects.filter(user=cast.grid_worker_b).order_by("-created").first()
    data = b"".join(cast.client_for(cast.grid_worker_b).get(f"/jobs/{job.pk}/download/").streaming_content)
    assert len(list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows())) == 1


# -- exemptions -----------------------------------------------------------------------------------


class TestExemptionPages(ScopedViewTests):
    model = Exemption
    list_url = "/testing/exemptions/"

    def make_object(self, cast, grid):
        rnd = Round(cast)
        person = make_person(area=grid, name="免检人", phone="+8613812345678")
        return services.exempt(cast.admin, rnd.campaign, person, ExemptionReason.BEDRIDDEN, "卧床")

    def edit_data(self, cast, obj):
        return {"reason": "infant", "note": "改"}

    def list_text(self, obj):
        return obj.person.name


def test_an_exemption_is_added_through_the_page(cast, rnd, street):
    client = cast.client_for(cast.grid_worker)
    response = client.post(
        reverse("testing:exemption_add"),
        {"campaign": rnd.campaign.pk, "person": street["li"].pk, "reason": "bedridden", "note": "卧床"},
    )
    assert response.status_code == 302
    exemption = Exemption.objects.get(person=street["li"])
    assert (exemption.reason, exemption.recorded_by) == ("bedridden", cast.grid_worker)
    # Another grid's resident is not in the worker's choices.
    response = client.post(
        reverse("testing:exemption_add"),
        {"campaign": rnd.campaign.pk, "person": street["other"].pk, "reason": "bedridden"},
    )
    assert response.status_code == 200 and not Exemption.objects.filter(person=street["other"]).exists()
    assert "免检" in client.get("/testing/exemptions/").content.decode()


EXEMPTION_HEADER = ["证件号码", "姓名", "免检原因", "备注"]


def test_the_exemption_ledger_imports_good_rows_reports_bad_ones_and_is_idempotent(cast, rnd, street):
    unknown = make_resident_id("620102", datetime.date(1970, 1, 1), 4321)
    rows = [
        [street["li"].doc_number, "李四", "卧床", "上门"],
        [street["zhang"].doc_number, "张三", "外出", ""],
        [street["zhao"].doc_number, "赵六", "不知道", ""],  # row 5: unknown reason
        [unknown, "某人", "住院", ""],  # row 6: not registered
        [street["other"].doc_number, "孙八", "住院", ""],  # row 7: grid B, out of scope
        [street["wang"].doc_number, "王小五", "住院", ""],  # row 8: another name in the registry
    ]
    result = run(ExemptionResource, cast.grid_worker, cast.grid_a, xlsx(EXEMPTION_HEADER, rows))
    assert (result.created, result.rejected) == (2, 4)
    errors = {e["row"]: e["message"] for e in result.errors}
    assert sorted(errors) == [5, 6, 7, 8]
    assert "not a known reason" in errors[5]
    assert "Not in the registry" in errors[6]
    assert "another area" in errors[7] and "孙八" not in errors[7]
    assert "王五" in errors[8]
    assert dict(Exemption.objects.values_list("person__name", "reason")) == {
        "李四": "bedridden",
        "张三": "away",
        "钱七": "infant",
    }
    assert_no_full_numbers(repr(result.rows))
    again = run(ExemptionResource, cast.grid_worker, cast.grid_a, xlsx(EXEMPTION_HEADER, rows[:2]))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = run(
        ExemptionResource,
        cast.grid_worker,
        cast.grid_a,
        xlsx(EXEMPTION_HEADER, [[*rows[0][:2], "住院", "转院"]]),
    )
    assert changed.updated == 1
    assert Exemption.objects.get(person=street["li"]).reason == "hospital"


def test_the_exemption_ledger_asks_for_the_round_when_several_are_open(cast, rnd, street):
    from epigrid.testing.models import Campaign

    second = Campaign.objects.create(
        name="第二轮", area=cast.district, starts_at=rnd.campaign.starts_at, ends_at=rnd.campaign.ends_at
    )
    second.areas.set([cast.community])
    rows = [[street["li"].doc_number, "李四", "卧床", ""]]
    result = run(ExemptionResource, cast.grid_worker, cast.grid_a, xlsx(EXEMPTION_HEADER, rows))
    assert result.rejected == 1 and "round" in result.errors[0]["message"]
    result = run(
        ExemptionResource,
        cast.grid_worker,
        cast.grid_a,
        xlsx([*EXEMPTION_HEADER, "轮次"], [[*rows[0], "第二轮"]]),
    )
    assert result.created == 1 and Exemption.objects.get(person=street["li"]).campaign == second


def test_the_exemption_ledger_is_offered_on_the_import_page(cast, rnd):
    client = cast.client_for(cast.grid_worker)
    assert client.get("/jobs/import/exemptions/").status_code == 200
    assert client.get("/jobs/import/exemptions/template.xlsx").status_code == 200
    assert cast.client_for(cast.auditor).get("/jobs/import/exemptions/").status_code == 403


# -- pre-formed groups ----------------------------------------------------------------------------

GROUP_HEADER = ["组号", "证件号码", "姓名"]


def test_the_group_ledger_forms_groups_up_to_the_tube_size(cast):
    rnd = Round(cast, pooling=5)
    grid_a = [make_person(household=cast.household_a, name=f"甲{i}") for i in range(7)]
    grid_b = make_person(household=cast.household_b, name="乙")
    rows = [["G1", p.doc_number, p.name] for p in grid_a[:6]]  # row 8: the sixth is one too many
    rows.append(["G2", grid_a[6].doc_number, grid_a[6].name])
    rows.append(["G2", grid_b.doc_number, "乙"])  # row 10: out of scope for a grid A importer
    officer = User.objects.create_user("officer_a", password="x")
    Grant.objects.create(user=officer, role="community_officer", area=cast.grid_a)
    result = run(GroupResource, officer, cast.grid_a, xlsx(GROUP_HEADER, rows))
    assert (result.created, result.rejected) == (6, 2)
    errors = {e["row"]: e["message"] for e in result.errors}
    assert "more than 5" in errors[8]
    assert "another area" in errors[10] and "乙" not in errors[10]
    g1 = Group.objects.get(campaign=rnd.campaign, code="G1")
    assert g1.area == cast.grid_a and g1.members.count() == 5
    assert [p.pk for p in services.group_members(rnd.campaign, "g1")] == sorted(p.pk for p in grid_a[:5])
    again = run(GroupResource, officer, cast.grid_a, xlsx(GROUP_HEADER, rows[:5]))
    assert (again.created, again.unchanged) == (0, 5)
    moved = run(
        GroupResource, officer, cast.grid_a, xlsx(GROUP_HEADER, [["G3", grid_a[0].doc_number, "甲0"]])
    )
    assert moved.rejected == 1 and "G1" in moved.errors[0]["message"]
    body = cast.client_for(cast.grid_worker).get("/testing/groups/").content.decode()
    # As a word: a page's random CSRF token may hold the letters "G1".
    group_g1 = re.compile(r"(?<![A-Za-z0-9])G1(?![A-Za-z0-9])")
    assert group_g1.search(body) and "甲0" in body
    assert not group_g1.search(cast.client_for(cast.grid_worker_b).get("/testing/groups/").content.decode())


# -- finds ----------------------------------------------------------------------------------------


@pytest.fixture
def find(cast, rnd):
    number = make_resident_id("620102", datetime.date(1992, 3, 4), 8888)
    services.ingest(
        rnd.sampler, [rnd.scan(number=number, tube=new_tube(), name="新来的", phone="13700001234")]
    )
    return Find.objects.get(doc_number=number)


def test_a_find_is_registered_without_the_full_number_on_the_page(cast, rnd, find):
    client = cast.client_for(cast.grid_worker)
    body = client.get(reverse("testing:find_list")).content.decode()
    assert "新来的" in body and find.doc_number not in body
    page = client.get(find.get_absolute_url()).content.decode()
    assert find.doc_number not in page and "+8613700001234" not in page and "13700001234" not in page
    assert "1992" in page
    response = client.post(
        find.get_absolute_url(),
        {
            "action": "register",
            "name": "新来的",
            "phone": find.masked_phone,
            "household": cast.household_a.pk,
            "residence_type": "migrant",
        },
    )
    assert response.status_code == 302
    person = Person.objects.get(doc_number=find.doc_number)
    assert (person.household, person.phone) == (cast.household_a, "+8613700001234")
    find.refresh_from_db()
    assert (find.status, find.person) == (Find.Status.REGISTERED, person)
    assert SampledPerson.objects.filter(campaign=rnd.campaign, person=person).exists()
    assert cast.client_for(cast.grid_worker_b).get(find.get_absolute_url()).status_code == 404


def test_a_find_registered_meanwhile_is_linked_and_another_is_rejected(cast, rnd, find):
    person = make_person(household=cast.household_a, name="新来的", doc_number=find.doc_number)
    client = cast.client_for(cast.grid_worker)
    page = client.get(find.get_absolute_url()).content.decode()
    assert person.get_absolute_url() in page
    client.post(find.get_absolute_url(), {"action": "link"})
    find.refresh_from_db()
    assert find.person == person
    number = make_resident_id("620102", datetime.date(1993, 3, 4), 7777)
    services.ingest(rnd.sampler, [rnd.scan(number=number, tube=new_tube())])
    other = Find.objects.get(doc_number=number)
    assert client.post(other.get_absolute_url(), {"action": "reject", "reason": ""}).status_code == 400
    client.post(other.get_absolute_url(), {"action": "reject", "reason": "外来务工已离开"})
    other.refresh_from_db()
    assert other.status == Find.Status.REJECTED
    # Pending first.
    services.ingest(
        rnd.sampler,
        [rnd.scan(number=make_resident_id("620102", datetime.date(1994, 1, 1), 6666), tube=new_tube())],
    )
    rows = client.get(reverse("testing:find_list")).context["table"].rows
    assert rows[0].record.status == Find.Status.PENDING
    assert cast.client_for(cast.auditor).post(other.get_absolute_url(), {"action": "link"}).status_code == 403


def test_the_sweep_pages_render_in_chinese(cast, rnd, street, find):
    client = cast.client_for(cast.grid_worker)
    assert "不在家" in client.get(missed_url(rnd, area=cast.grid_a.code)).content.decode()
    assert "未登记" in client.get(reverse("testing:find_list")).content.decode()
    assert "免检" in client.get(reverse("testing:exemption_list")).content.decode()

"""Pages that say plainly what they mean, in Chinese: the protocol in force readable by every
role that sees control data, a readable audit log (names, local times, Chinese labels, masks
kept), grids named with their community, the building filter by name, the temperature message,
and a zone without a case."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from epigrid.accounts.models import Grant, User
from epigrid.areas.models import Area, Building, Household, Level
from epigrid.control import services
from epigrid.control.forms import CheckInForm
from epigrid.control.models import CheckIn, Protocol
from epigrid.core.context import change_context
from tests.scoping import PASSWORD, make_person

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def _chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def entry_in(cast, name="密接甲"):
    person = make_person(household=cast.household_a, name=name, phone="+8613812345678")
    entry, _created = services.register_key_person(
        person, "close_contact", cast.grid_a, last_exposure=TODAY - DAY
    )
    return entry


def protocol_url(code):
    return reverse("control:protocol_detail", args=[Protocol.objects.get(code=code).pk])


# -- the protocol in force ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "user", ["commander", "street_officer", "community_officer", "grid_worker", "auditor"]
)
def test_it_shows_the_active_protocol_read_only_to_roles_that_see_control_data(cast, user):
    html = page(cast.client_for(getattr(cast, user)), protocol_url("v9"))
    assert "第九版" in html and 'data-testid="categories"' in html and 'data-testid="zone-levels"' in html
    for admin_only in ("make-active", "new-version", 'data-testid="edit"', 'href="/control/protocols/"'):
        assert admin_only not in html


def test_it_shows_the_isolation_staff_the_protocol_too(cast):
    staff = User.objects.create_user("isolation", password=PASSWORD)
    Grant.objects.create(user=staff, role="isolation_staff", area=cast.community)
    assert page(cast.client_for(staff), protocol_url("v9"))


def test_it_keeps_the_protocol_from_roles_without_control_data(cast):
    for user in (cast.lab, cast.nobody, cast.checkpoint):
        assert cast.client_for(user).get(protocol_url("v9")).status_code == 403


def test_it_keeps_an_unused_draft_for_the_administrators(cast):
    assert cast.client_for(cast.commander).get(protocol_url("twenty")).status_code == 403
    assert page(cast.client_for(cast.admin), protocol_url("twenty"))


def test_it_shows_a_protocol_still_followed_by_plans_as_no_longer_in_force(cast):
    entry_in(cast)
    services.activate(Protocol.objects.get(code="twenty"))
    html = page(cast.client_for(cast.commander), protocol_url("v9"))
    assert "已停止执行" in html and "make-active" not in html


def test_it_links_the_entrys_protocol_to_its_rules(cast):
    entry = entry_in(cast)
    html = page(cast.client_for(cast.commander), reverse("control:keyperson_detail", args=[entry.pk]))
    assert f'href="{protocol_url("v9")}"' in html


def test_it_still_shows_the_administrators_the_counts_and_actions(cast):
    entry_in(cast)
    html = page(cast.client_for(cast.admin), protocol_url("v9"))
    assert 'data-testid="new-version"' in html and "1条在管记录" in html
    assert "条在管记录" not in page(cast.client_for(cast.commander), protocol_url("v9"))


# -- the audit log ------------------------------------------------------------------------------


def audit_rows(client, **query):
    html = page(
        client,
        reverse("audit:objectchange_list")
        + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
    )
    return html[html.index("<tbody") : html.index("</tbody>")]


def test_it_names_object_types_sources_and_fields_in_chinese(cast):
    entry = entry_in(cast)
    with change_context(user=cast.grid_worker, source="web"):
        CheckIn.objects.create(
            measure=entry.measures.get(sequence=1), taken_at=timezone.now(), temperature="36.5"
        )
    rows = audit_rows(cast.client_for(cast.auditor))
    assert "健康打卡" in rows and "Control |" not in rows and "People |" not in rows
    assert "网页" in rows and ">web<" not in rows and "系统" in rows
    assert "体温（°C）: 36.5" in rows and "temperature" not in rows
    assert "管控措施: 集中隔离医学观察" in rows and "measure_id" not in rows


def test_it_shows_sources_of_imports_jobs_commands_and_the_api(cast):
    for source, label in (("import", "导入"), ("job", "后台任务"), ("command", "命令"), ("api", "接口")):
        with change_context(user=cast.admin, source=source):
            Building.objects.create(area=cast.grid_a, name=f"{source}楼")
        row = audit_rows(cast.client_for(cast.auditor), action="create")
        assert f'来源">{label}<' in row, source


def test_it_names_foreign_keys_and_shows_choices_and_local_times(cast):
    entry = entry_in(cast)
    rows = audit_rows(cast.client_for(cast.auditor))
    assert "责任区域: 九州社区·第一网格" in rows and "人员: 密接甲" in rows
    assert "人员类别: 密切接触者" in rows and "close_contact" not in rows
    moment = datetime.datetime(2022, 7, 1, 1, 30, tzinfo=datetime.UTC)
    with change_context(user=cast.grid_worker, source="web"):
        entry.assistance_received_at = moment
        entry.save()
    rows = audit_rows(cast.client_for(cast.auditor), action="update")
    assert "2022-07-01 09:30" in rows and "+00:00" not in rows


def test_it_shows_an_update_as_before_and_after(cast):
    person = make_person(household=cast.household_a, name="张三")
    other = Household.objects.create(building=cast.building_a, unit="2", room="202")
    with change_context(user=cast.grid_worker, source="web"):
        person.household = other
        person.name = "张叁"
        person.save()
    rows = audit_rows(cast.client_for(cast.auditor), action="update")
    assert "姓名: 张三 → 张叁" in rows
    assert "户: 1号楼 1单元 101 → 1号楼 2单元 202" in rows


def test_it_keeps_personal_data_masked(cast):
    person = make_person(household=cast.household_a, name="钱七", phone="+8613912345678")
    with change_context(user=cast.grid_worker, source="web"):
        person.phone = "+8613712345678"
        person.save()
    html = page(cast.client_for(cast.auditor), reverse("audit:objectchange_list"))
    assert person.doc_number not in html and person.masked_doc_number in html
    assert "13912345678" not in html and "139****5678" in html and "137****5678" in html


def test_it_leaves_out_of_scope_objects_unnamed(cast):
    outside = make_person(household=cast.household_b, name="外人")
    household = cast.household_a
    with change_context(user=cast.admin, source="web"):
        household.contact_person = outside
        household.save()
    worker = User.objects.create_user("auditor_a", password=PASSWORD)
    Grant.objects.create(user=worker, role="auditor", area=cast.grid_a)
    rows = audit_rows(cast.client_for(worker), action="update")
    assert f"#{outside.pk}" in rows and "外人" not in rows


def test_it_names_areas_anywhere_their_names_being_public(cast):
    with change_context(user=cast.admin, source="web"):
        cast.building_a.area = cast.grid_b
        cast.building_a.save()
    auditor_b = User.objects.create_user("auditor_b", password=PASSWORD)
    Grant.objects.create(user=auditor_b, role="auditor", area=cast.grid_b)  # grid A is outside
    rows = audit_rows(cast.client_for(auditor_b), action="update")
    assert "网格: 九州社区·第一网格 → 九州社区·第二网格" in rows


def test_it_names_object_types_in_the_filter(cast):
    html = page(cast.client_for(cast.auditor), reverse("audit:objectchange_list"))
    person_type = ContentType.objects.get(app_label="people", model="person")
    assert f'<option value="{person_type.pk}">人员</option>' in html
    assert "Accounts |" not in html and "Areas |" not in html and "People |" not in html


def test_it_reads_a_page_of_changes_in_a_constant_number_of_queries(cast):
    client = cast.client_for(cast.auditor)
    persons = ContentType.objects.get(app_label="people", model="person").pk

    def count():
        with CaptureQueriesContext(connection) as queries:
            page(client, f"{reverse('audit:objectchange_list')}?content_type={persons}")
        return len(queries)

    entry_in(cast)
    count()
    few = count()
    for n in range(8):
        entry_in(cast, name=f"密接{n}")
        make_person(household=cast.household_b, name=f"乙{n}")
    assert count() == few


# -- grids with their community -----------------------------------------------------------------


def test_it_labels_grids_with_their_community(cast):
    assert cast.grid_a.full_label() == "九州社区·第一网格"
    assert cast.community.full_label() == "九州社区"


def test_it_tells_same_named_grids_apart_in_the_area_picker(cast):
    other = Area.objects.create(
        code="620102001002", name="金港社区", level=Level.COMMUNITY, parent=cast.street
    )
    Area.objects.create(code="620102001002001", name="第一网格", level=Level.GRID, parent=other)
    html = page(cast.client_for(cast.commander), "/options/areas.area/?term=第一网格&key=code")
    assert "九州社区·第一网格（620102001001001）" in html and "金港社区·第一网格（620102001002001）" in html
    html = page(cast.client_for(cast.commander), "/options/areas.area/?term=金港 第一网格&key=code")
    assert "金港社区·第一网格" in html and "九州社区·第一网格" not in html


def test_it_offers_area_options_in_one_query_whatever_their_number(cast):
    client = cast.client_for(cast.commander)
    page(client, "/options/areas.area/?term=网格")
    with CaptureQueriesContext(connection) as queries:
        page(client, "/options/areas.area/?term=网格")
    few = len(queries)
    for n in range(3, 9):
        Area.objects.create(
            code=f"62010200100100{n}", name=f"第{n}网格", level=Level.GRID, parent=cast.community
        )
    with CaptureQueriesContext(connection) as queries:
        page(client, "/options/areas.area/?term=网格")
    assert len(queries) == few


def test_it_titles_zones_with_the_grids_community(cast):
    zone = services.draw_zone(cast.grid_a, "high", started_on=TODAY, building=cast.building_a)
    client = cast.client_for(cast.grid_worker)
    assert "九州社区·第一网格 / 1号楼" in page(client, zone.get_absolute_url())
    assert "九州社区·第一网格 / 1号楼" in page(client, reverse("control:zone_list"))


# -- the building filter ------------------------------------------------------------------------


def test_it_filters_households_by_building_name_not_id(cast):
    client = cast.client_for(cast.commander)
    html = page(client, f"{reverse('areas:household_list')}?building=9号楼")
    assert "2单元" in html and "1单元" not in html
    html = page(client, f"{reverse('areas:household_list')}?building={cast.building_a.pk}")
    assert "1号楼 1单元 101" not in html and "2单元" not in html


def test_it_filters_households_by_building_name_through_the_api(cast):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(cast.commander)
    rows = client.get("/api/v1/households/", {"building": "1号楼"}).json()["results"]
    assert [row["id"] for row in rows] == [cast.household_a.pk]


# -- the temperature ----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["366", "33.9", "43.1"])
def test_it_says_where_a_body_temperature_lies(typed):
    form = CheckInForm(data={"temperature": typed, "symptoms": ""})
    assert form.errors["temperature"] == ["体温应在34.0至43.0 °C之间。"]


def test_it_asks_for_one_decimal(db):
    form = CheckInForm(data={"temperature": "36.55", "symptoms": ""})
    assert form.errors["temperature"] == ["体温保留一位小数，如 36.5。"]


def test_it_says_so_on_the_entry_page(cast):
    entry = entry_in(cast)
    response = cast.client_for(cast.grid_worker).post(
        reverse("control:keyperson_checkin", args=[entry.pk]), {"temperature": "366", "symptoms": ""}
    )
    assert "体温应在34.0至43.0 °C之间。" in response.content.decode()


# -- a zone without a case ----------------------------------------------------------------------


def test_it_says_a_zone_without_a_case_has_none_and_counts_from_its_start(cast):
    zone = services.draw_zone(cast.grid_a, "high", started_on=TODAY - 3 * DAY)
    html = page(cast.client_for(cast.grid_worker), zone.get_absolute_url())
    last_case = html[html.index('data-testid="last-case"') :]
    assert last_case.split(">", 1)[1].startswith("无病例记录")
    free = html[html.index('data-testid="case-free-days"') :].split(">", 1)[1].split("<", 1)[0]
    assert free == f"3（自 {TODAY - 3 * DAY:%Y-%m-%d} 划定之日起算）"


def test_it_counts_from_the_last_case_when_there_is_one(cast):
    zone = services.draw_zone(cast.grid_a, "high", started_on=TODAY - 9 * DAY, last_case_on=TODAY - 2 * DAY)
    html = page(cast.client_for(cast.grid_worker), zone.get_absolute_url())
    assert html[html.index('data-testid="case-free-days"') :].split(">", 1)[1].startswith("2<")


def test_the_rollup_names_each_grid_with_its_community(cast):
    import datetime

    from epigrid.control import services
    from tests.scoping import make_person

    person = make_person(household=cast.household_a, name="密接甲")
    services.register_key_person(
        person, "close_contact", cast.grid_a, last_exposure=timezone.localdate() - datetime.timedelta(days=2)
    )
    html = cast.client_for(cast.community_officer).get("/control/today/").content.decode()
    assert "九州社区·第一网格" in html

"""Disinfection pages and API through the generic scope mixins (tests/scoping.py), a team leader
bound to their team (the same mixins with two leaders), the phone page, the photo served only in
scope, the site ledger's import with bad rows and the exports."""

import io
from decimal import Decimal

import pytest
from django.utils import timezone
from django.utils.translation import override
from openpyxl import Workbook

from epigrid.core.imports import run_import
from epigrid.disinfection import services
from epigrid.disinfection.imports import SiteResource
from epigrid.disinfection.models import Round, Rule, Site, Task, Team, Terminal, Trip, Vehicle
from epigrid.jobs.exports import EXPORTS
from tests.disinfection_cast import disinfection, png
from tests.scoping import ScopedAPITests, ScopedViewTests
from tests.test_disinfection_services import _case

API = "/api/v1/"


@pytest.fixture
def d(cast):
    return disinfection(cast)


# -- the ledgers: pages and API ------------------------------------------------------------------


class TestTeamPages(ScopedViewTests):
    model = Team
    list_url = "/disinfection/teams/"

    def make_object(self, cast, grid):
        return Team.objects.create(area=grid, name=f"{grid.name}消杀队")

    def edit_data(self, cast, obj):
        return {"area": obj.area_id, "name": obj.name, "members": 5, "active": "on", "leader_login": ""}


class TestTeamAPI(ScopedAPITests):
    model = Team
    api_list_url = f"{API}disinfection-teams/"
    make_object = TestTeamPages.make_object

    def write_data(self, cast, obj):
        return {"members": 9}


class TestSitePages(ScopedViewTests):
    model = Site
    list_url = "/disinfection/sites/"

    def make_object(self, cast, grid):
        return Site.objects.create(
            area=grid, name=f"{grid.name}垃圾收集点", site_type="bin", size_m2=Decimal(12)
        )

    def edit_data(self, cast, obj):
        return {"area": obj.area_id, "name": obj.name, "site_type": "toilet", "size_m2": "40", "active": "on"}


class TestSiteAPI(ScopedAPITests):
    model = Site
    api_list_url = f"{API}disinfection-sites/"
    make_object = TestSitePages.make_object

    def write_data(self, cast, obj):
        return {"size_m2": "20.0"}


class TestRulePages(ScopedViewTests):
    model = Rule
    list_url = "/disinfection/rules/"

    def make_object(self, cast, grid):
        return Rule.objects.create(area=grid, site_type="bin", disinfectant=f"过氧乙酸{grid.code[-1]}")

    def list_text(self, obj):
        return obj.disinfectant

    def edit_data(self, cast, obj):
        return {"area": obj.area_id, "site_type": "bin", "zone_level": "", "per_day": 2, "active": "on"}


class TestRuleAPI(ScopedAPITests):
    model = Rule
    api_list_url = f"{API}disinfection-rules/"
    make_object = TestRulePages.make_object

    def write_data(self, cast, obj):
        return {"per_day": 3}


class TestVehiclePages(ScopedViewTests):
    model = Vehicle
    list_url = "/disinfection/vehicles/"

    def make_object(self, cast, grid):
        return Vehicle.objects.create(area=grid, plate=f"甘A1234{grid.code[-1]}", kind="spray")

    def edit_data(self, cast, obj):
        return {"area": obj.area_id, "plate": obj.plate, "kind": "road", "active": "on"}


class TestVehicleAPI(ScopedAPITests):
    model = Vehicle
    api_list_url = f"{API}disinfection-vehicles/"
    make_object = TestVehiclePages.make_object

    def write_data(self, cast, obj):
        return {"kind": "road"}


# -- rounds, tasks, trips, terminal disinfections: the API, as area roles and as team leaders ----


def _task(cast, grid):
    return disinfection(cast).task(grid)


class TestRoundAPI(ScopedAPITests):
    model = Round
    api_list_url = f"{API}disinfection-rounds/"
    read_only = True

    def make_object(self, cast, grid):
        return _task(cast, grid).round

    def write_data(self, cast, obj):
        return {"period": 3}


class TestTaskAPI(ScopedAPITests):
    model = Task
    api_list_url = f"{API}disinfection-tasks/"
    write_action = "complete"

    def make_object(self, cast, grid):
        return _task(cast, grid)

    def write_data(self, cast, obj):
        return {}


class TestTaskAPIAsTeamLeaders(TestTaskAPI):
    """The same probes with two leaders of the same community: each sees only their team's."""

    viewer = "leader"
    outsider = "other_leader"
    unrevealing = "leader"


class TestRoundAPIAsTeamLeaders(TestRoundAPI):
    viewer = "leader"
    outsider = "other_leader"
    unrevealing = "leader"


def _trip(cast, grid):
    d = disinfection(cast)
    vehicle = Vehicle.objects.create(
        area=grid, plate=f"甘A5432{grid.code[-1]}", kind="garbage_large", team=d.team_a
    )
    return services.record_trip(None, vehicle, started_at=timezone.now(), waste_kind="household", tonnage="3")


class TestTripAPI(ScopedAPITests):
    model = Trip
    api_list_url = f"{API}disinfection-trips/"
    write_action = "hand-over"

    def make_object(self, cast, grid):
        return _trip(cast, grid)

    def write_data(self, cast, obj):
        return {"received_by": "李明"}


class TestTripAPIAsTeamLeaders(TestTripAPI):
    viewer = "leader"
    outsider = "other_leader"
    unrevealing = "leader"


def _terminal(cast, grid):
    d = disinfection(cast)
    return Terminal.objects.create(kind="place", area=grid, address=f"{grid.name}菜市场", team=d.team_a)


class TestTerminalAPI(ScopedAPITests):
    model = Terminal
    api_list_url = f"{API}disinfection-terminals/"
    write_action = "notify"

    def make_object(self, cast, grid):
        return _terminal(cast, grid)

    def write_data(self, cast, obj):
        return {}


class TestTerminalAPIAsTeamLeaders(TestTerminalAPI):
    viewer = "leader"
    outsider = "other_leader"
    unrevealing = "leader"


# -- pages of rounds, tasks and the phone page ----------------------------------------------------


def test_the_round_list_shows_live_coverage(cast, d):
    for _n in range(2):
        d.site(cast.grid_a)
    d.rule(site_type="bin")
    (rnd,), _n = d.generate()
    d.complete(rnd.tasks.first())
    body = cast.client_for(cast.community_officer).get("/disinfection/").content.decode()
    assert "1 / 2" in body and "50%" in body
    page = cast.client_for(cast.community_officer).get(rnd.get_absolute_url())
    assert page.status_code == 200 and page.context["total"]["pct"] == 50.0


def test_an_officer_generates_rounds_from_the_page_and_again_adds_nothing(cast, d):
    d.site(cast.grid_a)
    d.rule(site_type="bin", per_day=2)
    client = cast.client_for(cast.community_officer)
    data = {"area": cast.community.code, "date": timezone.localdate().isoformat()}
    assert client.post("/disinfection/generate/", data).status_code == 302
    assert client.post("/disinfection/generate/", data).status_code == 302
    assert Round.objects.count() == 2 and Task.objects.count() == 2
    assert cast.client_for(cast.grid_worker).post("/disinfection/generate/", data).status_code == 403


def test_a_leader_sees_only_their_teams_rounds_and_tasks_on_the_pages(cast, d):
    mine, theirs = d.task(cast.grid_a, team="a"), d.task(cast.grid_b, team="b")
    client = cast.client_for(cast.leader)
    rounds = client.get("/disinfection/").context["table"].data.data
    assert [r.pk for r in rounds] == [mine.round_id]
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(theirs.round.get_absolute_url()).status_code == 404
    assert client.post(f"/disinfection/tasks/{theirs.pk}/complete/", {}).status_code == 404
    phone = client.get("/disinfection/my/")
    assert [t.pk for t in phone.context["due"]] == [mine.pk]


def test_the_leader_completes_a_site_from_the_phone_page_with_a_photo(cast, d):
    task = d.task()
    client = cast.client_for(cast.leader)
    page = client.get(f"{task.get_absolute_url()}?back=my")
    assert 'capture="environment"' in page.content.decode()
    data = {
        "disinfectant": "含氯消毒剂",
        "concentration": "1000",
        "contact_minutes": "30",
        "area_treated_m2": "12",
        "photo": png(),
        "latitude": "36.0611",
        "longitude": "103.8342",
        "back": "my",
    }
    response = client.post(f"/disinfection/tasks/{task.pk}/complete/", data)
    assert response.status_code == 302 and response["Location"] == "/disinfection/my/"
    task.refresh_from_db()
    assert task.status == "done" and task.operator == cast.leader and task.latitude == Decimal("36.061100")
    photo = client.get(f"/disinfection/tasks/{task.pk}/photo/")
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"
    assert cast.client_for(cast.other_leader).get(f"/disinfection/tasks/{task.pk}/photo/").status_code == 404
    assert cast.client_for(cast.grid_worker_b).get(f"/disinfection/tasks/{task.pk}/photo/").status_code == 404


def test_completion_without_a_photo_is_refused_on_the_page(cast, d):
    task = d.task()
    data = {"disinfectant": "含氯消毒剂", "concentration": "1000", "contact_minutes": "30"}
    cast.client_for(cast.leader).post(f"/disinfection/tasks/{task.pk}/complete/", data)
    task.refresh_from_db()
    assert task.status == "due"


def test_the_api_completes_a_task_with_a_photo_and_serves_coverage(cast, d):
    task = d.task()
    client = TestTaskAPI().api_client(cast.leader)
    data = {"disinfectant": "含氯消毒剂", "concentration": 1000, "contact_minutes": 30, "photo": png()}
    response = client.post(f"{API}disinfection-tasks/{task.pk}/complete/", data, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"
    coverage = client.get(f"{API}disinfection-rounds/{task.round_id}/coverage/").json()
    assert coverage["total"]["done"] == 1 and coverage["total"]["due"] == 1


def test_the_api_generates_rounds_idempotently(cast, d):
    d.site(cast.grid_a)
    d.rule(site_type="bin")
    client = TestTaskAPI().api_client(cast.community_officer)
    data = {"area": cast.community.code, "date": timezone.localdate().isoformat()}
    first = client.post(f"{API}disinfection-rounds/generate/", data, format="json").json()
    again = client.post(f"{API}disinfection-rounds/generate/", data, format="json").json()
    assert (first["created_tasks"], again["created_tasks"]) == (1, 0)


def test_terminal_disinfection_is_planned_from_a_case_on_the_page(cast, d):
    case = _case(cast)
    client = cast.client_for(cast.commander)
    response = client.post("/disinfection/terminals/plan/", {"case": case.pk, "team": d.team_a.pk})
    assert response.status_code == 302 and Terminal.objects.filter(case=case).count() == 2
    home = Terminal.objects.get(case=case, kind="home")
    leader = cast.client_for(cast.leader)
    assert leader.post(f"/disinfection/terminals/{home.pk}/notify/").status_code == 302
    home.refresh_from_db()
    assert home.status == "notified" and home.notified_by == cast.leader
    planned = {"planned_at": "2030-03-04T14:30", "ventilation_minutes": "30"}
    assert leader.post(f"/disinfection/terminals/{home.pk}/schedule/", planned).status_code == 302
    notice = leader.get(f"/disinfection/terminals/{home.pk}/notice-before.pdf")
    assert notice.status_code == 200 and notice["Content-Type"] == "application/pdf"


def test_a_trip_is_recorded_and_handed_over_on_the_pages(cast, d):
    vehicle = Vehicle.objects.create(area=cast.community, plate="甘A88888", kind="medical", team=d.team_a)
    client = cast.client_for(cast.leader)
    data = {
        "vehicle": vehicle.pk,
        "started_at": "2026-12-07T07:30",
        "waste_kind": "medical",
        "tonnage": "0.4",
    }
    response = client.post("/disinfection/trips/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    trip = Trip.objects.get()
    client.post(
        f"/disinfection/trips/{trip.pk}/hand-over/", {"received_by": "王建国", "received_unit": "处置中心"}
    )
    trip.refresh_from_db()
    assert trip.handed_by == cast.leader and trip.received_by == "王建国"


# -- the site ledger: import and exports ------------------------------------------------------------


def _xlsx(rows):
    book = Workbook()
    sheet = book.active
    sheet.append(["区域编码", "点位名称", "类型", "楼栋", "面积(㎡)"])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def test_the_site_ledger_imports_good_rows_and_reports_bad_ones_row_by_row(cast):
    rows = [
        [cast.grid_a.code, "1号楼垃圾收集点", "垃圾收集点", "1号楼", "12"],
        [cast.grid_b.code, "二网格公厕", "公厕", "", "40"],
        ["999999", "不存在的网格", "道路", "", "10"],
        [cast.grid_a.code, "坏类型", "游泳池", "", "10"],
        [cast.grid_a.code, "坏面积", "道路", "", "很大"],
        [cast.grid_a.code, "无此楼", "垃圾收集点", "77号楼", "5"],
    ]
    with override("en"):
        result = run_import(
            SiteResource(cast.community_officer, cast.community), _xlsx(rows), "sites.xlsx", dry_run=False
        )
    # The valid rows are written together; each bad row is reported with the sheet's row number.
    assert (result.created, result.rejected) == (2, 4)
    assert sorted({e["row"] for e in result.errors}) == [4, 5, 6, 7]
    site = Site.objects.get(name="1号楼垃圾收集点")
    assert site.building == cast.building_a and site.site_type == "bin" and site.size_m2 == 12
    again = run_import(
        SiteResource(cast.community_officer, cast.community), _xlsx(rows[:2]), "sites.xlsx", dry_run=False
    )
    assert (again.created, again.unchanged) == (0, 2)


def test_the_site_export_re_imports_unchanged(cast, d):
    d.site(cast.grid_a, name="1号楼垃圾收集点", building=cast.building_a)
    export = EXPORTS["disinfection-sites"](cast.community_officer)
    rows = list(export.rows(export.queryset("")))
    assert rows == [[cast.grid_a.code, "1号楼垃圾收集点", "垃圾收集点", "1号楼", Decimal("12.0")]]
    result = run_import(
        SiteResource(cast.community_officer, cast.community), _xlsx(rows), "sites.xlsx", dry_run=False
    )
    assert (result.created, result.unchanged) == (0, 1)


def test_the_exports_list_only_what_the_user_sees(cast, d):
    mine, theirs = d.task(cast.grid_a, team="a"), d.task(cast.grid_b, team="b")
    d.complete(mine)
    export = EXPORTS["disinfection-tasks"](cast.leader)
    rows = list(export.rows(export.queryset("")))
    assert len(rows) == 1 and rows[0][3] == mine.site.name and rows[0][5] == "已完成"
    assert theirs.site.name not in str(rows)
    for name in ("disinfection-trips", "disinfection-terminals"):
        export = EXPORTS[name](cast.grid_worker_b)
        assert list(export.rows(export.queryset(""))) == []

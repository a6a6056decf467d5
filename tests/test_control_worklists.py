"""Today's work lists (control/worklists.py): what each list holds, the time-of-day rule for
temperature checks, the roll-up one level below the user's scope (streets for a district,
communities for a street, grids for a community) with its drill-down to a grid's lists, and query
counts that do not grow with the rows or the areas."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from epigrid.control import services, worklists
from epigrid.control.models import CheckIn, ControlMeasure, KeyPerson
from tests.scoping import make_person

TODAY = timezone.localdate()


def at(hour, minute=0, day=None):
    day = day or TODAY
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def days_ago(n):
    return TODAY - datetime.timedelta(days=n)


def register(cast, name, category="close_contact", grid=None, **dates):
    grid = grid or cast.grid_a
    household = cast.household_a if grid == cast.grid_a else cast.household_b
    dates = dates or {"last_exposure": days_ago(2)}
    entry, _ = services.register_key_person(
        make_person(household=household, name=name), category, grid, **dates
    )
    # Registered a few days ago: a day before the registration never counts as overdue.
    KeyPerson.objects.filter(pk=entry.pk).update(created=timezone.now() - datetime.timedelta(days=3))
    return entry


def names(rows):
    return sorted({m.key_person.person.name for m in rows})


def lists(cast, now, user=None, area=None):
    return worklists.lists_for(user or cast.grid_worker, area or cast.grid_a, now)


def check_in(entry, when, temperature="36.5"):
    step = entry.measures.get(sequence=1)
    return CheckIn.objects.create(measure=step, taken_at=when, temperature=temperature)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.mark.parametrize(
    ("temps", "hour", "due", "late"),
    [
        (2, 0, 1, 0),
        (2, 11, 1, 0),
        (2, 12, 2, 1),
        (2, 19, 2, 1),
        (2, 20, 2, 2),
        (2, 23, 2, 2),
        (1, 8, 1, 0),
        (1, 12, 1, 1),
        (3, 9, 1, 0),
        (3, 10, 2, 1),
        (3, 15, 3, 2),
        (3, 21, 3, 3),
    ],
)
def test_it_says_how_many_checks_are_due_and_late_by_the_hour(temps, hour, due, late):
    assert worklists.checks_due(temps, at(hour)) == due
    assert worklists.checks_late(temps, at(hour)) == late


def test_it_reads_the_hour_in_local_time():
    utc_0330 = datetime.datetime.combine(
        TODAY, datetime.time(4, 30), tzinfo=datetime.UTC
    )  # 12:30 in Shanghai
    assert worklists.checks_due(2, utc_0330) == 2


def test_it_lists_who_needs_a_temperature_check_now(cast):
    checked = register(cast, "已测温")
    unchecked = register(cast, "未测温")
    check_in(checked, at(8))
    morning = lists(cast, at(9))["needs_check"]
    assert names(morning) == ["未测温"]
    assert (morning[0].done_today, morning[0].due_now, morning[0].late_now) == (0, 1, 0)
    # From noon the second check is due: both again, the unchecked one late for the first.
    afternoon = {m.key_person.person.name: m for m in lists(cast, at(13))["needs_check"]}
    assert sorted(afternoon) == ["已测温", "未测温"]
    assert (afternoon["未测温"].done_today, afternoon["未测温"].late_now) == (0, 1)
    check_in(checked, at(13))
    check_in(unchecked, at(13, 30))
    assert names(lists(cast, at(14))["needs_check"]) == ["未测温"]
    assert unchecked.pk


def test_it_leaves_out_steps_not_started_without_checks_or_in_hospital(cast):
    future = register(cast, "未开始", last_exposure=TODAY)  # day 1 is tomorrow
    no_temps = register(cast, "无需测温")
    ControlMeasure.objects.filter(key_person=no_temps).update(temps_per_day=0)
    hospital = register(cast, "住院")
    hospital.measures.get(sequence=1).transition("hospitalized")
    released = register(cast, "已解除", last_exposure=days_ago(11))
    services.release(released)
    assert future.pk and names(lists(cast, at(9))["needs_check"]) == []


def test_it_lists_tests_due_today(cast):
    register(cast, "第一天", last_exposure=days_ago(1))  # day 1 (a test day) is today
    register(cast, "第四天", last_exposure=days_ago(4))  # day 4: no test under 第九版
    register(cast, "第五天", last_exposure=days_ago(5))  # day 5: test
    assert names(lists(cast, at(9))["tests_due"]) == ["第一天", "第五天"]


def test_it_lists_overdue_steps_and_test_days_without_a_recorded_test(cast):
    register(cast, "逾期", last_exposure=days_ago(12))  # both steps ended, never released
    missed = register(cast, "昨日漏检", last_exposure=days_ago(2))  # day 1 (test) was yesterday
    tested = register(cast, "昨日已检", last_exposure=days_ago(2))
    services.record_test(tested.measures.get(sequence=1), days_ago(1), "negative")
    register(cast, "正常", last_exposure=days_ago(4))  # yesterday was day 3, a test day... see below
    overdue = lists(cast, at(9))["overdue"]
    by_name = {}
    for m in overdue:
        by_name.setdefault(m.key_person.person.name, []).append(m.ended)
    assert by_name == {"逾期": [True, True], "昨日漏检": [False], "正常": [False]}
    assert missed.pk


def test_it_lists_who_is_due_for_release_today(cast):
    register(cast, "今日期满", category="low_risk_arrival", arrival=days_ago(3))  # 3 days: ends today
    register(cast, "第一步今日结束", last_exposure=days_ago(7))  # step 1 ends today, step 2 follows
    register(cast, "明日期满", category="low_risk_arrival", arrival=days_ago(2))
    assert names(lists(cast, at(9))["due_release"]) == ["今日期满"]


def test_it_counts_an_extended_chain_by_its_new_last_step(cast):
    entry = register(cast, "延期", category="low_risk_arrival", arrival=days_ago(3))
    services.extend(entry.measures.get(sequence=1), 2, "复核")
    assert names(lists(cast, at(9))["due_release"]) == []


def test_it_keeps_each_grid_to_its_own_lists(cast):
    register(cast, "甲网格")
    register(cast, "乙网格", grid=cast.grid_b)
    assert names(lists(cast, at(9))["needs_check"]) == ["甲网格"]
    assert names(worklists.lists_for(cast.grid_worker, None, at(9))["needs_check"]) == ["甲网格"]
    assert names(lists(cast, at(9), user=cast.grid_worker_b, area=cast.community)["needs_check"]) == [
        "乙网格"
    ]


def test_it_rolls_up_per_grid_with_counts(cast):
    register(cast, "甲一")
    register(cast, "甲二", last_exposure=days_ago(1))
    register(cast, "乙一", grid=cast.grid_b, last_exposure=days_ago(12))
    rows = {area.name: counts for area, counts in worklists.rollup(cast.community_officer, at(9))}
    assert rows == {
        "第一网格": {"abnormal": 0, "needs_check": 2, "tests_due": 2, "overdue": 1, "due_release": 0},
        "第二网格": {"abnormal": 0, "needs_check": 0, "tests_due": 0, "overdue": 1, "due_release": 0},
    }


def add_branch(cast, street="620102002000", community="620102002001", grids=("620102002001001",)):
    """Another street (or the cast's own) with a community and grids, each grid with a household."""
    from epigrid.areas.models import Area, Building, Household, Level

    street_area = Area.objects.get_or_create(
        code=street, defaults={"name": f"街道{street[-4:]}", "level": Level.STREET, "parent": cast.district}
    )[0]
    community_area = Area.objects.get_or_create(
        code=community,
        defaults={"name": f"社区{community[-3:]}", "level": Level.COMMUNITY, "parent": street_area},
    )[0]
    households = []
    for code in grids:
        grid = Area.objects.create(
            code=code, name=f"网格{code[12:]}", level=Level.GRID, parent=community_area
        )
        building = Building.objects.create(area=grid, name="1号楼")
        households.append(Household.objects.create(building=building, unit="1", room="101"))
    return community_area, households


def register_in(household, name, **dates):
    entry, _ = services.register_key_person(
        make_person(household=household, name=name),
        "close_contact",
        household.area,
        **(dates or {"last_exposure": days_ago(2)}),
    )
    KeyPerson.objects.filter(pk=entry.pk).update(created=timezone.now() - datetime.timedelta(days=3))
    return entry


def by_name(rows):
    return {area.name: counts for area, counts in rows}


def test_it_rolls_up_one_level_below_each_scope(cast):
    register(cast, "甲一")
    register(cast, "甲二", last_exposure=days_ago(1))
    register(cast, "乙一", grid=cast.grid_b, last_exposure=days_ago(12))  # both steps overdue
    _community, (far,) = add_branch(cast)
    register_in(far, "远一")
    none = dict.fromkeys(worklists.ALL_LISTS, 0)
    street = {**none, "needs_check": 2, "tests_due": 2, "overdue": 2}  # 乙一 once, not per step
    assert by_name(worklists.rollup(cast.commander, at(9))) == {
        "九州街道": street,
        "街道2000": {**none, "needs_check": 1, "tests_due": 1, "overdue": 1},
    }
    assert by_name(worklists.rollup(cast.street_officer, at(9))) == {"九州社区": street}
    assert by_name(worklists.rollup(cast.community_officer, at(9))) == {
        "第一网格": {**none, "needs_check": 2, "tests_due": 2, "overdue": 1},
        "第二网格": {**none, "overdue": 1},
    }
    # A chosen area is rolled up one level below it, whatever the user's scope.
    assert by_name(worklists.rollup(cast.commander, at(9), cast.street)) == {"九州社区": street}
    assert by_name(worklists.rollup(cast.commander, at(9), cast.community)) == by_name(
        worklists.rollup(cast.community_officer, at(9))
    )


def test_it_counts_the_check_ins_of_today_per_step_in_the_roll_up(cast):
    once = register(cast, "测过一次")
    twice = register(cast, "测过两次")
    register(cast, "未测")
    check_in(once, at(8))
    check_in(once, at(7, day=days_ago(1)))  # yesterday's check is not today's
    check_in(twice, at(8))
    check_in(twice, at(13))

    def needing(now):
        return {a.name: c["needs_check"] for a, c in worklists.rollup(cast.community_officer, now)}

    assert needing(at(9)) == {"第一网格": 1}  # one check due in the morning
    assert needing(at(14)) == {"第一网格": 2}  # two from noon: 测过一次 needs its second
    assert names(lists(cast, at(14))["needs_check"]) == ["未测", "测过一次"]


def test_it_groups_grids_whose_codes_differ_in_length(cast):
    community, (short, long_) = add_branch(
        cast, street="620102001000", community="620102001009", grids=("6201020010094", "6201020010090012")
    )
    register_in(short, "短码")
    register_in(long_, "长码")
    register_in(long_, "长码二")
    rows = worklists.rollup(cast.commander, at(9), community)
    assert {a.code: c["needs_check"] for a, c in rows} == {"6201020010090012": 2, "6201020010094": 1}
    assert by_name(worklists.rollup(cast.street_officer, at(9)))["社区009"]["needs_check"] == 3


def test_it_counts_an_entry_a_community_holds_itself_in_the_communitys_own_row(cast):
    entry = register(cast, "社区直管")
    services.hand_over(entry, cast.community, "搬家")
    register(cast, "网格内")
    rows = worklists.rollup(cast.community_officer, at(9))
    assert [(a.name, a.rollup_base, c["needs_check"]) for a, c in rows] == [
        ("九州社区", True, 1),
        ("第一网格", False, 1),
    ]
    assert by_name(worklists.rollup(cast.commander, at(9)))["九州街道"]["needs_check"] == 2
    client = cast.client_for(cast.community_officer)
    html = client.get("/control/today/").content.decode()
    assert "九州社区 itself" in html and f"?area={cast.community.code}&amp;own=1" in html
    html = client.get(f"/control/today/?area={cast.community.code}&own=1").content.decode()
    assert 'data-testid="needs_check"' in html and "社区直管" in html and "网格内" not in html


def test_it_rolls_up_the_roots_for_a_scope_everywhere(cast):
    from epigrid.accounts.models import User

    register(cast, "某人")
    root = User.objects.create_superuser("root", password="x")
    assert by_name(worklists.rollup(root, at(9))) == {
        "城关区": {**dict.fromkeys(worklists.ALL_LISTS, 0), "needs_check": 1, "tests_due": 1, "overdue": 1}
    }


# The page


def test_it_shows_a_grid_worker_the_lists_of_their_grid(cast):
    entry = register(cast, "待测温")
    register(cast, "别的网格", grid=cast.grid_b)
    html = cast.client_for(cast.grid_worker).get("/control/today/").content.decode()
    assert 'data-testid="needs_check"' in html and 'data-testid="rollup"' not in html
    assert "待测温" in html and "别的网格" not in html
    assert f"/control/{entry.pk}/?next=/control/today/" in html


def test_it_shows_a_community_officer_the_roll_up_then_a_grids_lists(cast):
    register(cast, "待测温")
    register(cast, "别的网格", grid=cast.grid_b)
    client = cast.client_for(cast.community_officer)
    html = client.get("/control/today/").content.decode()
    assert 'data-testid="rollup"' in html and "待测温" not in html
    assert f"?area={cast.grid_a.code}" in html and f"?area={cast.grid_b.code}" in html
    html = client.get(f"/control/today/?area={cast.grid_b.code}").content.decode()
    assert "别的网格" in html and "待测温" not in html


def test_it_lets_a_commander_drill_down_from_streets_to_a_grids_lists(cast):
    register(cast, "待测温")
    register(cast, "别的网格", grid=cast.grid_b)
    _community, (far,) = add_branch(cast)
    register_in(far, "远处")
    client = cast.client_for(cast.commander)
    html = client.get("/control/today/").content.decode()
    assert html.count('data-testid="rollup-row"') == 2
    assert f"?area={cast.street.code}" in html and "?area=620102002000" in html
    assert cast.grid_a.code not in html and "待测温" not in html
    assert 'data-testid="trail"' not in html
    assert html.split('data-testid="total-abnormal">')[1].startswith("0<")

    html = client.get(f"/control/today/?area={cast.street.code}").content.decode()
    assert html.count('data-testid="rollup-row"') == 1 and f"?area={cast.community.code}" in html
    assert "620102002001" not in html  # the other street's community is not on this level
    trail = html.split('data-testid="trail"')[1].split("</ol>")[0]
    assert "九州街道" in trail and f"?area={cast.district.code}" not in trail  # the scope is the top

    html = client.get(f"/control/today/?area={cast.community.code}").content.decode()
    assert html.count('data-testid="rollup-row"') == 2
    assert "九州社区·第一网格" in html and f"?area={cast.grid_a.code}" in html
    trail = html.split('data-testid="trail"')[1].split("</ol>")[0]
    assert f"?area={cast.street.code}" in trail

    html = client.get(f"/control/today/?area={cast.grid_a.code}").content.decode()
    assert 'data-testid="rollup"' not in html and 'data-testid="needs_check"' in html
    assert "待测温" in html and "别的网格" not in html and "远处" not in html
    trail = html.split('data-testid="trail"')[1].split("</ol>")[0]
    assert f"?area={cast.street.code}" in trail and f"?area={cast.community.code}" in trail


def test_it_shows_a_street_officer_the_communities(cast):
    register(cast, "待测温")
    html = cast.client_for(cast.street_officer).get("/control/today/").content.decode()
    assert html.count('data-testid="rollup-row"') == 1
    assert f"?area={cast.community.code}" in html and f"?area={cast.grid_a.code}" not in html


def test_it_refuses_an_area_outside_the_scope_and_users_without_the_module(cast):
    assert (
        cast.client_for(cast.grid_worker).get(f"/control/today/?area={cast.grid_b.code}").status_code == 404
    )
    assert cast.client_for(cast.lab).get("/control/today/").status_code == 403


@pytest.mark.parametrize("user", ["grid_worker", "community_officer"])
def test_it_answers_in_the_same_number_of_queries_however_many_rows(cast, user):
    client = cast.client_for(getattr(cast, user))

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/control/today/").status_code == 200
        return len(queries)

    register(cast, "一号")
    client.get("/control/today/")  # session, content types
    few = count()
    for n in range(15):
        entry = register(cast, f"批量{n:02d}", grid=cast.grid_a if n % 2 else cast.grid_b)
        if n % 3 == 0:
            check_in(entry, timezone.now())
    register(cast, "期满", last_exposure=days_ago(12))
    assert count() == few
    # One query per list (abnormal readings, the four step lists); on PostgreSQL a savepoint, its
    # release and SET LOCAL jit = off add three statements.
    # More, one or two each, for the sections other modules add (core.panels.TODAY): antigen follow-ups,
    # retest tasks, isolation homecomings, checkpoint arrivals, assistance rows, overdue tracing.
    assert few <= 18, few


@pytest.mark.parametrize("url", ["/control/today/", "/control/today/?area=620102001000"])
def test_the_commanders_roll_up_answers_in_the_same_number_of_queries_however_many_areas(cast, url):
    client = cast.client_for(cast.commander)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    register(cast, "一号")
    client.get(url)  # session, content types
    few = count()
    households = [add_branch(cast)[1][0]]
    households += add_branch(cast, community="620102001002", grids=("620102001002001", "620102001002002"))[1]
    households += add_branch(
        cast, street="620102003000", community="620102003001", grids=("620102003001001",)
    )[1]
    for n, household in enumerate(households * 3):
        entry = register_in(household, f"批量{n:02d}")
        if n % 2:
            check_in(entry, timezone.now(), temperature="38.2")
    register(cast, "期满", last_exposure=days_ago(12))
    assert count() == few
    # The user's grants, the roll-up (one statement; on PostgreSQL with a savepoint, its release
    # and SET LOCAL jit = off) and the areas' names; with ?area= the area and its ancestors.
    assert few <= 17, few  # and the other modules' sections (core.panels.TODAY), as above


def test_it_drops_a_test_from_todays_list_once_it_is_recorded(cast):
    entry = register(cast, "今日检测", last_exposure=days_ago(1))  # today is day 1, a test day
    assert names(lists(cast, at(9))["tests_due"]) == ["今日检测"]
    services.record_test(entry.measures.get(sequence=1), timezone.localdate(), "pending")
    assert names(lists(cast, at(9))["tests_due"]) == []

"""Today's work lists for grid workers (/control/today/).

Each list is one query over the user's scoped measures, whatever the number of rows, and the
roll-up per area is one grouped query over them all: no per-row queries and no Python loop over all
open measures (the lead benchmarks this with 50,000 open measures on PostgreSQL).

What the lists mean:

- **Abnormal readings** (first on the page): every check-in with a fever (37.3 °C or more) or a
  symptom that nobody has handled yet (`CheckIn.follow_up` pending), whatever has happened to
  the step or the entry since: it stays until someone records what was done
  (`control.services.handle_abnormal`). One row per reading; the roll-up counts key persons.
- A step is *running* when it is planned or active (a person transferred to hospital is looked
  after by the hospital) and its key person is still under control.
- **Needs a temperature check now**: a running step that covers today (start <= today and no end
  or end >= today) with `temps_per_day` > 0 whose check-ins today are fewer than
  `checks_due(temps_per_day, now)`. A check is due from the moment its window opens and is
  *late* after its deadline (`CHECK_DEADLINES`): twice a day means one by 12:00 and one by
  20:00 local time, so from midnight one check is due and from 12:00 two are.
- **Test due today**: a running step whose test days include today and whose test of today is
  not recorded yet (a TestRecord).
- **Overdue**: (a) a running step whose planned end is before today (it should have been
  completed by the release, extended or released early), and (b) a running step that had a
  test day yesterday with no test recorded for it, if the entry was registered before today:
  a day before the registration is nobody's miss (a contact traced today whose day 1 was
  yesterday starts with today's work, not with an overdue mark).
  Only yesterday: a missed test further back is the testing module's business once test
  results are recorded, and a list that re-flagged every older day would never empty.
- **Due for release today**: the key person's last step (the highest step that is not
  cancelled) ends today.
"""

import contextlib
import datetime

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, StrIndex, Substr
from django.db.models.lookups import Contains
from django.utils import timezone

from epigrid.areas.models import PATH_SEPARATOR
from epigrid.control.models import ABNORMAL, CheckIn, ControlMeasure, KeyPerson, TestRecord

RUNNING = ("planned", "active")
# Deadlines (local hour) of the daily temperature checks, by the number of checks a day.
CHECK_DEADLINES = {1: (12,), 2: (12, 20), 3: (10, 15, 20)}
MAX_ROWS = 200  # rows per list on one page; a bigger area is seen through its roll-up

LISTS = ("needs_check", "tests_due", "overdue", "due_release")  # lists of running steps
ALL_LISTS = ("abnormal", *LISTS)  # as the page shows them: abnormal readings first


def checks_due(temps_per_day, at):
    """How many checks should be recorded by local time `at` on that day: the checks whose window
    has opened. Check n's window opens at check n-1's deadline (the first at midnight)."""
    deadlines = CHECK_DEADLINES.get(temps_per_day)
    if deadlines is None:
        return temps_per_day
    hour = timezone.localtime(at).hour
    return 1 + sum(1 for deadline in deadlines[:-1] if hour >= deadline)


def checks_late(temps_per_day, at):
    """How many checks should be done already: those whose deadline has passed at `at`."""
    deadlines = CHECK_DEADLINES.get(temps_per_day, ())
    hour = timezone.localtime(at).hour
    return sum(1 for deadline in deadlines if hour >= deadline)


def current_step(measures, today):
    """The step a key person is in today: the latest open step that has started, else the next
    one to start (None when nothing is open). `measures` are already loaded."""
    open_steps = [m for m in measures if m.status in ControlMeasure.OPEN]
    started = [m for m in open_steps if m.start <= today]
    if started:
        return max(started, key=lambda m: m.sequence)
    return min(open_steps, key=lambda m: m.sequence, default=None)


def day_range(day):
    """[start, end) of a local calendar day as aware datetimes."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
    return start, end


def running_measures(user, area=None):
    """Running steps of open entries that `user` may see, optionally within `area`'s subtree."""
    queryset = ControlMeasure.objects.restrict(user, "view").filter(
        status__in=RUNNING, key_person__status=KeyPerson.Status.OPEN
    )
    if area is not None:
        queryset = queryset.filter(key_person__area__path__startswith=area.path)
    return queryset


def abnormal_readings(user, area=None):
    """Abnormal check-ins still to handle that `user` may see, optionally within `area`'s subtree."""
    queryset = CheckIn.objects.restrict(user, "view").filter(ABNORMAL, follow_up=CheckIn.FollowUp.PENDING)
    if area is not None:
        queryset = queryset.filter(measure__key_person__area__path__startswith=area.path)
    return queryset


@contextlib.contextmanager
def _without_jit(using=DEFAULT_DB_ALIAS, work_mem=None):
    """Run the list queries with PostgreSQL's JIT off (`SET LOCAL`, so only for them): the
    planner's cost estimate of a district-wide list or roll-up is large enough to trigger JIT
    compilation, which costs more than the query itself (tens of ms to 0.4 s) on a query that
    reads only index pages and a few small tables. `work_mem` (in MB) keeps the roll-up's
    per-key-person aggregate of a district's 50,000 entries in memory instead of on disk."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            if work_mem:
                cursor.execute(f"SET LOCAL work_mem = '{int(work_mem)}MB'")
        yield


def _test_day(db, day):
    """Condition: the step's JSON list of test days holds `day` (`@>` on PostgreSQL, the JSON
    text elsewhere)."""
    iso = day.isoformat()
    if connections[db].vendor == "postgresql":
        return Q(test_dates__contains=[iso])
    return Contains(Cast("test_dates", TextField()), f'"{iso}"')


def _checked_today(now):
    """Today's check-ins of a step, as a relation to join (and count) once per query."""
    start, end = day_range(timezone.localdate(now))
    return FilteredRelation(
        "checkins", condition=Q(checkins__taken_at__gte=start, checkins__taken_at__lt=end)
    )


def _per_temps(function, now):
    return Case(
        *[When(temps_per_day=temps, then=Value(function(temps, now))) for temps in CHECK_DEADLINES],
        default=F("temps_per_day"),
        output_field=IntegerField(),
    )


def _tested_on(day):
    return TestRecord.objects.filter(measure=OuterRef("pk"), day=day)


def conditions(db, now):
    """{list name: condition on a running step}: what puts a step on each list. For
    "needs_check" it is the step being checked today at all; the check-ins done today, fewer
    than `checks_due`, are counted over a join to them (`needs_check`, `rollup`)."""
    today = timezone.localdate(now)
    yesterday = today - datetime.timedelta(days=1)
    registered_before_today = Q(key_person__created__lt=day_range(today)[0]) | Q(
        key_person__created__isnull=True
    )
    later = ControlMeasure.objects.filter(
        key_person=OuterRef("key_person"), sequence__gt=OuterRef("sequence")
    ).exclude(status=ControlMeasure.Status.CANCELLED)
    return {
        "needs_check": Q(temps_per_day__gt=0, start__lte=today)
        & (Q(planned_end__isnull=True) | Q(planned_end__gte=today)),
        "tests_due": Q(_test_day(db, today)) & ~Q(Exists(_tested_on(today))),
        "overdue": Q(planned_end__lt=today)
        | (Q(_test_day(db, yesterday)) & ~Q(Exists(_tested_on(yesterday))) & registered_before_today),
        "due_release": Q(planned_end=today) & ~Q(Exists(later)),
    }


def needs_check(queryset, now):
    return (
        queryset.alias(checked_today=_checked_today(now))
        .filter(conditions(queryset.db, now)["needs_check"])
        .annotate(
            done_today=Count("checked_today"),
            due_now=_per_temps(checks_due, now),
            late_now=_per_temps(checks_late, now),
        )
        .filter(done_today__lt=F("due_now"))
    )


def tests_due(queryset, now):
    return queryset.filter(conditions(queryset.db, now)["tests_due"])


def overdue(queryset, now):
    today = timezone.localdate(now)
    return queryset.filter(conditions(queryset.db, now)["overdue"]).annotate(
        ended=Case(When(planned_end__lt=today, then=Value(True)), default=Value(False))
    )


def due_release(queryset, now):
    return queryset.filter(conditions(queryset.db, now)["due_release"])


BUILDERS = {
    "needs_check": needs_check,
    "tests_due": tests_due,
    "overdue": overdue,
    "due_release": due_release,
}


def lists_for(user, area, now=None, limit=MAX_ROWS, held_here=False):
    """{list name: [measures]} for `area` (None: the whole scope; `held_here`: only the entries
    `area` itself is responsible for, not those of the areas below it), and under "abnormal" the
    readings to handle (check-ins, oldest first); each list one query, at most `limit` rows (one
    more is fetched so a page can say there are more)."""
    now = now or timezone.now()
    base = running_measures(user, area).select_related(
        "key_person__person__household__building", "key_person__area"
    )
    readings = abnormal_readings(user, area).select_related(
        "measure__key_person__person__household__building", "measure__key_person__area"
    )
    if held_here and area is not None:
        base = base.filter(key_person__area=area)
        readings = readings.filter(measure__key_person__area=area)
    out = {}
    with _without_jit(base.db):
        out["abnormal"] = list(readings.order_by("taken_at", "pk")[: limit + 1])
        for name, build in BUILDERS.items():
            rows = build(base, now).order_by("key_person__area__path", "key_person__person__name", "sequence")
            out[name] = list(rows[: limit + 1])
    return out


# -- the roll-up ---------------------------------------------------------------------------------


def rollup_bases(user, area=None):
    """The paths a roll-up counts below: `area`'s, else the user's scope (its root areas when the
    scope is everywhere)."""
    from epigrid.areas.models import Area

    if area is not None:
        return [area.path]
    paths = user.scope_paths("control.view_controlmeasure")
    if paths is None:
        paths = list(Area.objects.filter(parent__isnull=True).values_list("path", flat=True))
    return sorted(paths)


def child_path(field, bases):
    """SQL expression: the path of the area one level below the base that `field` (an area path)
    lies under, i.e. the path up to the separator after that base's (the area itself when it is a
    base, or at that level). Codes differ in length (a grid's 13–16 digits), so the segment ends
    at the next separator rather than at a fixed length."""

    def below(base):
        rest = Substr(field, len(base) + 1)
        return Substr(field, 1, Value(len(base)) + StrIndex(rest, Value(PATH_SEPARATOR)))

    if len(bases) == 1:
        return below(bases[0])
    return Case(
        *[When(**{f"{field}__startswith": base}, then=below(base)) for base in bases],
        output_field=CharField(),
    )


def _flag(condition):
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def _sql(queryset):
    return queryset.query.get_compiler(using=queryset.db).as_sql()


def rollup(user, now=None, area=None):
    """[(area, {list name (ALL_LISTS): count of key persons})] one level below `area` (None: below
    each area of the user's scope): the district's streets, a street's communities, a community's
    grids, each with work today, in tree order. Entries an area itself is responsible for (a
    community's own) count in that area's own row (`area.rollup_base` is True). A key person is
    in one area, so the rows add up to the scope's totals.

    One statement: the running steps with their list flags, joined to today's check-ins counted
    per step (a grouped derived table, not a subquery per step), and the abnormal readings; then
    one row per key person (a key person counts once per list, however many of its steps are on
    it), summed per responsible area, and per ancestor one level below the base: the areas'
    paths cut after the next segment (`child_path`), computed once per area. One more query
    reads the rows' areas."""
    from epigrid.areas.models import Area

    now = now or timezone.now()
    bases = rollup_bases(user, area)
    if not bases:
        return []
    steps = running_measures(user, area)
    when = conditions(steps.db, now)
    steps = steps.order_by().values(
        step=F("pk"),
        area=F("key_person__area_id"),
        kp=F("key_person_id"),
        due=Case(When(when["needs_check"], then=_per_temps(checks_due, now)), default=Value(0)),
        **{name: _flag(when[name]) for name in LISTS if name != "needs_check"},
    )
    start, end = day_range(timezone.localdate(now))
    checked = (
        CheckIn.objects.filter(taken_at__gte=start, taken_at__lt=end)
        .order_by()
        .values(m=F("measure"))
        .annotate(n=Count("pk"))
    )
    readings = (
        abnormal_readings(user, area)
        .order_by()
        .values(area=F("measure__key_person__area_id"), kp=F("measure__key_person_id"))
    )
    under = Q()
    for base in bases:
        under |= Q(path__startswith=base)
    ancestors = Area.objects.filter(under).order_by().values(a=F("pk"), g=child_path("path", bases))
    try:
        parts = [_sql(steps), _sql(checked), _sql(readings), _sql(ancestors)]
    except EmptyResultSet:  # no scope
        return []
    sums = ", ".join(f"SUM({name}) AS {name}" for name in ALL_LISTS)
    sql = f"""SELECT t.g, {", ".join(f"SUM(p.{name})" for name in ALL_LISTS)}
        FROM (
            SELECT area, {sums}
            FROM (
                SELECT area, kp, {", ".join(f"MAX({name}) AS {name}" for name in ALL_LISTS)}
                FROM (
                    SELECT s.area, s.kp, 0 AS abnormal,
                        CASE WHEN s.due > COALESCE(c.n, 0) THEN 1 ELSE 0 END AS needs_check,
                        s.tests_due, s.overdue, s.due_release
                    FROM ({parts[0][0]}) s LEFT JOIN ({parts[1][0]}) c ON c.m = s.step
                    UNION ALL
                    SELECT r.area, r.kp, 1, 0, 0, 0, 0 FROM ({parts[2][0]}) r
                ) work
                GROUP BY area, kp
            ) persons
            GROUP BY area
        ) p
        JOIN ({parts[3][0]}) t ON t.a = p.area
        GROUP BY t.g"""
    params = [param for part in parts for param in part[1]]
    counts = {}
    with _without_jit(steps.db, work_mem=16), connections[steps.db].cursor() as cursor:
        cursor.execute(sql, params)
        for path, *numbers in cursor.fetchall():
            if any(numbers):
                counts[path] = dict(zip(ALL_LISTS, (int(n) for n in numbers), strict=True))
    areas = list(Area.objects.filter(path__in=counts).select_related("parent").order_by("path"))
    for a in areas:
        a.rollup_base = a.path in bases  # the row of the entries the base area holds itself
    return [(a, counts[a.path]) for a in areas]

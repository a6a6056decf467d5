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

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import Contains, LessThan
from django.utils import timezone

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
def _without_jit(using=DEFAULT_DB_ALIAS):
    """Run the list queries with PostgreSQL's JIT off (`SET LOCAL`, so only for them): the
    per-step check-in count makes the planner's cost estimate of a district-wide list large
    enough to trigger JIT compilation, which costs more than the query itself (tens of ms to
    0.4 s) on a query that reads only index pages."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def _test_day(db, day):
    """Condition: the step's JSON list of test days holds `day` (`@>` on PostgreSQL, the JSON
    text elsewhere)."""
    iso = day.isoformat()
    if connections[db].vendor == "postgresql":
        return Q(test_dates__contains=[iso])
    return Contains(Cast("test_dates", TextField()), f'"{iso}"')


def _checkins_on(day):
    start, end = day_range(day)
    return CheckIn.objects.filter(measure=OuterRef("pk"), taken_at__gte=start, taken_at__lt=end)


def _per_temps(function, now):
    return Case(
        *[When(temps_per_day=temps, then=Value(function(temps, now))) for temps in CHECK_DEADLINES],
        default=F("temps_per_day"),
        output_field=IntegerField(),
    )


def _done_today(now):
    today = timezone.localdate(now)
    done = _checkins_on(today).order_by().values("measure").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(done, output_field=IntegerField()), 0)


def _tested_on(day):
    return TestRecord.objects.filter(measure=OuterRef("pk"), day=day)


def conditions(db, now):
    """{list name: condition on a running step}: what puts a step on each list. The builders
    filter by them; the roll-up counts all four in one pass."""
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
        & (Q(planned_end__isnull=True) | Q(planned_end__gte=today))
        & Q(LessThan(_done_today(now), _per_temps(checks_due, now))),
        "tests_due": Q(_test_day(db, today)) & ~Q(Exists(_tested_on(today))),
        "overdue": Q(planned_end__lt=today)
        | (Q(_test_day(db, yesterday)) & ~Q(Exists(_tested_on(yesterday))) & registered_before_today),
        "due_release": Q(planned_end=today) & ~Q(Exists(later)),
    }


def needs_check(queryset, now):
    return queryset.filter(conditions(queryset.db, now)["needs_check"]).annotate(
        done_today=_done_today(now),
        due_now=_per_temps(checks_due, now),
        late_now=_per_temps(checks_late, now),
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


def lists_for(user, area, now=None, limit=MAX_ROWS):
    """{list name: [measures]} for `area` (None: the whole scope), and under "abnormal" the
    readings to handle (check-ins, oldest first); each list one query, at most `limit` rows (one
    more is fetched so a page can say there are more)."""
    now = now or timezone.now()
    base = running_measures(user, area).select_related(
        "key_person__person__household__building", "key_person__area"
    )
    readings = abnormal_readings(user, area).select_related(
        "measure__key_person__person__household__building", "measure__key_person__area"
    )
    out = {}
    with _without_jit(base.db):
        out["abnormal"] = list(readings.order_by("taken_at", "pk")[: limit + 1])
        for name, build in BUILDERS.items():
            rows = build(base, now).order_by("key_person__area__path", "key_person__person__name", "sequence")
            out[name] = list(rows[: limit + 1])
    return out


def rollup(user, now=None):
    """[(area, {list name (ALL_LISTS): count of key persons})] for every responsible area with work today,
    in tree order: one grouped query counting the step lists in one pass over the running steps,
    one counting the key persons with abnormal readings to handle, one for the areas' names."""
    from epigrid.areas.models import Area

    now = now or timezone.now()
    base = running_measures(user)
    when = conditions(base.db, now)
    grouped = (
        base.order_by()
        .values("key_person__area")
        .annotate(**{name: Count("key_person", distinct=True, filter=when[name]) for name in LISTS})
        .values_list("key_person__area", *LISTS)
    )
    abnormal = (
        abnormal_readings(user)
        .order_by()
        .values("measure__key_person__area")
        .annotate(persons=Count("measure__key_person", distinct=True))
        .values_list("measure__key_person__area", "persons")
    )
    counts = {}
    with _without_jit(base.db):
        for area_id, *numbers in grouped:
            if any(numbers):
                counts[area_id] = dict(zip(ALL_LISTS, [0, *numbers], strict=True))
        for area_id, persons in abnormal:
            counts.setdefault(area_id, dict.fromkeys(ALL_LISTS, 0))["abnormal"] = persons
    areas = Area.objects.filter(pk__in=counts).select_related("parent").order_by("path")
    return [(area, counts[area.pk]) for area in areas]

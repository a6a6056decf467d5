"""Today's work lists for grid workers (/control/today/).

Each list is one query over the user's scoped measures, whatever the number of rows, and the
roll-up per area is one grouped query per list: no per-row queries and no Python loop over all
open measures (the lead benchmarks this with 50,000 open measures on PostgreSQL).

What the lists mean:

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
  test day yesterday with no test recorded for it.
  Only yesterday: a missed test further back is the testing module's business once test
  results are recorded, and a list that re-flagged every older day would never empty.
- **Due for release today**: the key person's last step (the highest step that is not
  cancelled) ends today.
"""

import datetime

from django.db import connections
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
from django.utils import timezone

from epigrid.control.models import CheckIn, ControlMeasure, KeyPerson, TestRecord

RUNNING = ("planned", "active")
# Deadlines (local hour) of the daily temperature checks, by the number of checks a day.
CHECK_DEADLINES = {1: (12,), 2: (12, 20), 3: (10, 15, 20)}
MAX_ROWS = 200  # rows per list on one page; a bigger area is seen through its roll-up

LISTS = ("needs_check", "tests_due", "overdue", "due_release")


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


def _tests_on(queryset, day):
    """Steps whose JSON list of test days holds `day`: `@>` on PostgreSQL, the JSON text elsewhere."""
    iso = day.isoformat()
    if connections[queryset.db].vendor == "postgresql":
        return queryset.filter(test_dates__contains=[iso])
    return queryset.alias(test_days_text=Cast("test_dates", TextField())).filter(
        test_days_text__contains=f'"{iso}"'
    )


def _checkins_on(day):
    start, end = day_range(day)
    return CheckIn.objects.filter(measure=OuterRef("pk"), taken_at__gte=start, taken_at__lt=end)


def _per_temps(function, now):
    return Case(
        *[When(temps_per_day=temps, then=Value(function(temps, now))) for temps in CHECK_DEADLINES],
        default=F("temps_per_day"),
        output_field=IntegerField(),
    )


def needs_check(queryset, now):
    today = timezone.localdate(now)
    done = _checkins_on(today).order_by().values("measure").annotate(n=Count("pk")).values("n")
    return (
        queryset.filter(temps_per_day__gt=0, start__lte=today)
        .filter(Q(planned_end__isnull=True) | Q(planned_end__gte=today))
        .annotate(
            done_today=Coalesce(Subquery(done, output_field=IntegerField()), 0),
            due_now=_per_temps(checks_due, now),
            late_now=_per_temps(checks_late, now),
        )
        .filter(done_today__lt=F("due_now"))
    )


def _tested_on(day):
    return TestRecord.objects.filter(measure=OuterRef("pk"), day=day)


def tests_due(queryset, now):
    today = timezone.localdate(now)
    return _tests_on(queryset, today).filter(~Exists(_tested_on(today)))


def overdue(queryset, now):
    today = timezone.localdate(now)
    yesterday = today - datetime.timedelta(days=1)
    missed_test = _tests_on(queryset, yesterday).filter(~Exists(_tested_on(yesterday))).values("pk")
    return queryset.filter(Q(planned_end__lt=today) | Q(pk__in=missed_test)).annotate(
        ended=Case(When(planned_end__lt=today, then=Value(True)), default=Value(False))
    )


def due_release(queryset, now):
    today = timezone.localdate(now)
    later = ControlMeasure.objects.filter(
        key_person=OuterRef("key_person"), sequence__gt=OuterRef("sequence")
    ).exclude(status=ControlMeasure.Status.CANCELLED)
    return queryset.filter(planned_end=today).filter(~Exists(later))


BUILDERS = {
    "needs_check": needs_check,
    "tests_due": tests_due,
    "overdue": overdue,
    "due_release": due_release,
}


def lists_for(user, area, now=None, limit=MAX_ROWS):
    """{list name: [measures]} for `area` (None: the whole scope); each list one query, at most
    `limit` rows (one more is fetched so a page can say there are more)."""
    now = now or timezone.now()
    base = running_measures(user, area).select_related(
        "key_person__person__household__building", "key_person__area"
    )
    out = {}
    for name, build in BUILDERS.items():
        rows = build(base, now).order_by("key_person__area__path", "key_person__person__name", "sequence")
        out[name] = list(rows[: limit + 1])
    return out


def rollup(user, now=None):
    """[(area, {list name: count of key persons})] for every responsible area with work today,
    in tree order: one grouped query per list, one for the areas' names."""
    from epigrid.areas.models import Area

    now = now or timezone.now()
    base = running_measures(user)
    counts = {}
    for name, build in BUILDERS.items():
        grouped = (
            build(base, now)
            .order_by()
            .values("key_person__area")
            .annotate(n=Count("key_person", distinct=True))
            .values_list("key_person__area", "n")
        )
        for area_id, n in grouped:
            counts.setdefault(area_id, dict.fromkeys(LISTS, 0))[name] = n
    areas = Area.objects.filter(pk__in=counts).order_by("path")
    return [(area, counts[area.pk]) for area in areas]

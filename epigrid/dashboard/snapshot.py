"""The tiles' counts per area, taken for the whole city every few seconds (decision 0032,
addendum 2).

At a million residents a district commander's 40 tiles counted live cost a second of database
time per request (the residents tile alone scans a million rows). Each tile is instead counted
once for the whole city, grouped by the area its rows are filed under (the model's scope lookup),
by the very queryset its list uses (`services.tile_queryset` as a superuser sees it); a user's
figure is then the sum over the areas of their scope (and of the drilled-into area): a few
thousand additions in Python, whatever the size of the city.

Tiles that cannot be summed that way are still counted live, per request: a bound role's (a
sampler sees their points' rows, not an area's), a model that reaches upward (zones filed above
the user), a list reaching rows through another model's scope (follow-ups through their tasks), and the counters that are not lists of rows (the daily reports' roll-up).

The snapshot is one row (`TileSnapshot`), taken again when it is older than
DASHBOARD_SNAPSHOT_SECONDS (default 15; 0: every tile live) or of another day: by `epigrid
dashboard_snapshot --every N` running beside the server, or failing that by the first request that
finds it stale, one process at a time (the others keep reading the previous one). Each tile shows
the time its count was taken."""

import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from epigrid.dashboard.models import TileSnapshot
from epigrid.dashboard.tiles import TILES

SNAPSHOT_SECONDS = 15
ROW = 1  # the one snapshot row


def snapshot_seconds():
    return getattr(settings, "DASHBOARD_SNAPSHOT_SECONDS", SNAPSHOT_SECONDS)


def summable(tile):
    """Whether the tile's rows can be counted once per area and summed for anyone's scope."""
    return (
        tile.counter is None
        # Rows reached otherwise than by their own area are not summed by area.
        and tile.rows is None
        and not getattr(tile.model, "scope_upward", False)
        # "area__path" / "point__area__path": the path of the area a row is filed under.
        and tile.model.scope_lookup.endswith("__path")
    )


def summable_for(tile, user):
    return summable(tile) and model_summable_for(tile.model, tile.perm, user)


def model_summable_for(model, perm, user):
    # A bound role's grant reaches only the rows of the user's posts, and an upward-reaching model
    # rows filed above the user: both counted live.
    if getattr(model, "scope_upward", False):
        return False
    return not (getattr(model, "scope_binding", None) and user.scope_paths(perm, bound=True))


def paths_for(model, perm, user):
    """The user's subtrees for `perm` as restrict() reads them for a model summed from here."""
    return user.scope_paths(perm, bound=False if getattr(model, "scope_binding", None) else None)


def _everyone():
    """A user standing for the whole city (never saved): restrict() gives every row."""
    from epigrid.accounts.models import User

    return User(username="dashboard-snapshot", is_superuser=True, is_active=True)


def take(today):
    """(counts, trends, coverage) of the whole city: {tile key: {area path: count}} for every
    summable tile, each grouped as its list counts; the trend series per area path and day; the
    grid counts of the running rounds and the last finished one."""
    return _tiles(today), _trends(today), _coverage()


def _tiles(today):
    from epigrid.dashboard.services import request_for, tile_queryset

    request = request_for(_everyone())
    counts = {}
    for tile in TILES:
        if not summable(tile):
            continue
        queryset = tile_queryset(request, tile, today).order_by()
        lookup = tile.model.scope_lookup
        if queryset.query.distinct:
            # A filter across a many-valued relation repeats rows: count each row once per area.
            queryset = queryset._chain()
            queryset.query.distinct = False
            measure = Count("pk", distinct=True)
        else:
            measure = Count("pk")
        counts[tile.key] = {r[lookup]: r["n"] for r in queryset.values(lookup).annotate(n=measure)}
    return counts


def _trends(today):
    from epigrid.dashboard.services import TREND_SPECS, trend_days

    days = trend_days(today)
    out = {}
    for key, model, lookup, field_name, is_date, extra in TREND_SPECS:
        out[key] = _by_path_and_day(model, lookup, field_name, is_date, extra, days)
    return out


def _by_path_and_day(model, lookup, field_name, is_date, extra, days):
    """{area path: {day iso: n}}: one GROUP BY (area, day) over the window."""
    import datetime

    from django.db.models import DateField
    from django.db.models.functions import Trunc

    queryset = model.objects.filter(extra)
    if is_date:
        queryset = queryset.filter(**{f"{field_name}__gte": days[0], f"{field_name}__lte": days[-1]})
        day = field_name
        rows = queryset.values(lookup, field_name)
    else:
        start = timezone.make_aware(datetime.datetime.combine(days[0], datetime.time.min))
        end = timezone.make_aware(
            datetime.datetime.combine(days[-1] + datetime.timedelta(days=1), datetime.time.min)
        )
        tz = timezone.get_current_timezone()
        rows = (
            queryset.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
            .annotate(day=Trunc(field_name, "day", output_field=DateField(), tzinfo=tz))
            .values(lookup, "day")
        )
        day = "day"
    out = {}
    for r in rows.annotate(n=Count("pk")).order_by():
        out.setdefault(r[lookup], {})[r[day].isoformat()] = r["n"]
    return out


def _coverage():
    from epigrid.testing import services as testing_services
    from epigrid.testing.models import Campaign

    rounds = list(Campaign.objects.filter(status=Campaign.Status.RUNNING).values_list("pk", flat=True))
    last = (
        Campaign.objects.filter(status=Campaign.Status.FINISHED)
        .order_by("-starts_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    out = {}
    for campaign in Campaign.objects.filter(pk__in=[*rounds, last]):
        grids = testing_services.scope_grids(campaign)
        out[str(campaign.pk)] = {
            str(g): list(v) for g, v in testing_services.grid_counts(campaign, grids).items()
        }
    return out


def refresh(now=None):
    """Take the snapshot now and store it (the command's and a stale page's path)."""
    now = now or timezone.now()
    start = time.perf_counter()
    counts, trends, coverage = take(timezone.localdate(now))
    row = TileSnapshot(
        pk=ROW,
        day=timezone.localdate(now),
        taken_at=now,
        seconds=time.perf_counter() - start,
        counts=counts,
        trends=trends,
        coverage=coverage,
    )
    row.save()
    return row


def current(now, parts=("counts",)):
    """The snapshot to read for `now`, taken again if stale; None: count every tile live (the
    snapshot is off, or another process is taking today's first one). Only `parts` of it are
    read (the tiles need the counts, the charts the trends and coverage)."""
    seconds = snapshot_seconds()
    if not seconds:
        return None
    today = timezone.localdate(now)
    row = TileSnapshot.objects.only("day", "taken_at", "seconds", *parts).filter(pk=ROW).first()
    if row is not None and row.day == today and (now - row.taken_at).total_seconds() < seconds:
        return row
    if row is None:
        try:
            with transaction.atomic():
                TileSnapshot.objects.create(pk=ROW, day=today, taken_at=now, counts={}, seconds=0)
        except IntegrityError:
            pass  # another process created it first
    with transaction.atomic():
        # One process takes it; the others read the previous one meanwhile (PostgreSQL).
        locked = TileSnapshot.objects.select_for_update(skip_locked=True).filter(pk=ROW).first()
        if locked is None:
            return row if row is not None and row.day == today and row.seconds else None
        if locked.day == today and locked.seconds and (now - locked.taken_at).total_seconds() < seconds:
            return locked  # taken by another process while this one waited
        return refresh(now)


def figure(row, tile, paths, area=None):
    """The sum of the tile's per-area counts over `paths` (None: everywhere), within `area`."""
    counted = row.counts.get(tile.key)
    if counted is None:
        return None
    prefixes = tuple(paths) if paths is not None else None
    total = 0
    for path, n in counted.items():
        if area is not None and not path.startswith(area.path):
            continue
        if prefixes is not None and not path.startswith(prefixes):
            continue
        total += n
    return total


def series(row, key, paths, area, days):
    """The trend series `key` summed over `paths` (None: everywhere) within `area`, one value a day."""
    prefixes = tuple(paths) if paths is not None else None
    totals = dict.fromkeys((d.isoformat() for d in days), 0)
    for path, by_day in row.trends.get(key, {}).items():
        if area is not None and not path.startswith(area.path):
            continue
        if prefixes is not None and not path.startswith(prefixes):
            continue
        for day, n in by_day.items():
            if day in totals:
                totals[day] += n
    return list(totals.values())

"""What the dashboard shows, for one user and one area: the tiles counted as their lists count them
(in one round trip), the area's place in the tree, the 14-day trends and the round's coverage by
child area. Live: the tiles are counted when asked for and kept per user for a few seconds at most
(CACHE_SECONDS, said on the page); the charts are counted on every request (decision 0032)."""

import datetime
import hashlib
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count, DateField, Q
from django.db.models.functions import Trunc
from django.http import Http404, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from epigrid.areas.models import Area, Level
from epigrid.control.models import KeyPerson, Protocol
from epigrid.core.scoping import collapse_paths, within
from epigrid.dashboard import snapshot
from epigrid.dashboard.tiles import BY_CATEGORY, BY_KEY, GROUPS, TILES
from epigrid.results.models import Result, TubeResult
from epigrid.testing import services as testing_services
from epigrid.testing.models import Campaign, Tube

TREND_DAYS = 14
# Seconds one user's counts are kept: a refresh storm (tabs, several screens) counts once; the
# page says how old its figures are.
CACHE_SECONDS = 10
COVERAGE_PERM = "testing.view_sampledperson"


# -- the area shown ---------------------------------------------------------------------------


def own_areas(user):
    """The tops of the user's grants (the whole tree for a superuser), in code order."""
    if user.is_superuser:
        return list(Area.objects.filter(parent__isnull=True).order_by("code"))
    paths = collapse_paths(path for _role, path in user._grant_rows())
    return list(Area.objects.filter(path__in=paths).order_by("code"))


def resolve(user, code=None):
    """(area, tops): the area asked for, or None for "everything I may see" (the user's own level).
    An area outside the user's subtrees, or not one of the tree's levels, is a 404."""
    tops = own_areas(user)
    if not code:
        return None, tops
    area = Area.objects.filter(code=code, level__lte=Level.GRID).first()
    if area is None or not within(area.path, [top.path for top in tops] if not user.is_superuser else None):
        raise Http404
    return area, tops


def home_area(area, tops):
    """The area the page is about: the one drilled into, else the user's only top (None: several)."""
    if area is not None:
        return area
    return tops[0] if len(tops) == 1 else None


def breadcrumbs(area, tops):
    """From the user's top down to the area: [(label, code or None for the top page)]."""
    if area is None:
        return []
    top = next((t for t in tops if area.path.startswith(t.path)), None)
    codes = area.path.strip("/").split("/")
    chain = {a.code: a for a in Area.objects.filter(code__in=codes)}
    trail = []
    for code in codes:
        node = chain.get(code)
        if node is None or (top is not None and not node.path.startswith(top.path)):
            continue
        trail.append(node)
    return trail


def children(area, tops):
    """The areas one level down (or the user's tops when they hold several)."""
    if area is None:
        if len(tops) == 1:
            area = tops[0]
        else:
            return tops
    if area.level >= Level.GRID:
        return []
    return list(Area.objects.filter(parent=area).order_by("code"))


# -- tiles --------------------------------------------------------------------------------------


def zone_levels():
    """The zone levels of the protocol in force."""
    rules = Protocol.objects.filter(is_active=True).values_list("rules", flat=True).first() or {}
    return set(rules.get("zones", {}).get("levels", ()))


def visible_tiles(user, area=None):
    """The tiles the user may open the list of; drilled into an area, only lists that filter by area."""
    shown = [
        tile
        for tile in TILES
        if user.has_scoped_perm(tile.perm) and (area is None or tile.area_param is not None)
    ]
    if any(tile.zone_level for tile in shown):
        levels = zone_levels()
        shown = [tile for tile in shown if tile.zone_level is None or tile.zone_level in levels]
    return shown


def tile_queryset(request, tile, today, area=None):
    """The tile's rows exactly as its list page reads them: the list's filterset over `restrict`,
    an invalid filter (strict, as FilterView) giving no rows."""
    data = QueryDict(mutable=True)
    for name, values in tile.query(today, area):
        data.setlist(name, values)
    queryset = tile.rows(request.user) if tile.rows else tile.model.objects.restrict(request.user, "view")
    filterset = tile.filterset(data=data, queryset=queryset, request=request)
    if not filterset.is_valid():
        return queryset.none()
    return filterset.qs


def tile_url(tile, today, area=None):
    query = urlencode(tile.query(today, area), doseq=True)
    return reverse(tile.url_name) + ("?" + query if query else "")


def count_all(querysets):
    """{key: COUNT(*)} of each queryset in one round trip: one SELECT of scalar subqueries, each
    the count the list's paginator would make of the same rows."""
    counts, parts, params = {}, [], []
    for key, queryset in querysets.items():
        try:
            sql, qparams = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # .none(), or a filter that can match nothing
            counts[key] = 0
            continue
        parts.append((key, f"(SELECT COUNT(*) FROM ({sql}) dashboard_{len(parts)})"))
        params.extend(qparams)
    if parts:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(sql for _key, sql in parts), params)
            row = cursor.fetchone()
        counts.update({key: value for (key, _sql), value in zip(parts, row, strict=True)})
    return counts


def request_for(user):
    """A stand-in request (user and an empty query string) for the filtersets' scoped choices, for
    callers without one (the PDF per child area reuses the page's; the bench and commands this)."""
    return SimpleNamespace(user=user, GET=QueryDict())


def cache_seconds():
    """How long one user's counts are kept (settings.DASHBOARD_CACHE_SECONDS, default 10; 0: never)."""
    return getattr(settings, "DASHBOARD_CACHE_SECONDS", CACHE_SECONDS)


def max_age_seconds():
    """How old a figure shown may be: the snapshot's interval and the per-user cache on top."""
    return cache_seconds() + snapshot.snapshot_seconds()


def _cache_key(user, area, today, keys):
    """Per user (bound roles see their posts' rows, so a scope is a user, not a set of grants), their
    grants as they stand, the area, the day and the tiles asked for."""
    grants = sorted(user._grant_rows())
    raw = repr((user.pk, user.is_superuser, grants, area.code if area else "", today.isoformat(), keys))
    return "dashboard:tiles:" + hashlib.sha256(raw.encode()).hexdigest()


def tiles(request, area=None, now=None, keys=None):
    """[{key, label, group, value, url, as_of}] for the user's visible tiles, each counted as its
    list counts it; kept per user for a few seconds (`cache_seconds`), `as_of` saying when."""
    seconds = cache_seconds()
    now = now or timezone.now()
    today = timezone.localdate(now)
    key = _cache_key(request.user, area, today, tuple(sorted(keys)) if keys else None) if seconds else None
    if key is not None:
        cached = cache.get(key)
        if cached is not None:
            return [{**row, "label": str(BY_KEY[row["key"]].label)} for row in cached]
    rows = _count_tiles(request, area, now, today, keys)
    if key is not None:
        cache.set(key, rows, seconds)
    return rows


def _count_tiles(request, area, now, today, keys):
    user = request.user
    shown = [t for t in visible_tiles(user, area) if keys is None or t.key in keys]
    # The city's per-area counts, summed over the user's scope (decision 0032 addendum 2); the
    # rest counted live in one round trip.
    snap = snapshot.current(now)
    summed = {
        t.key for t in shown if snap is not None and snapshot.summable_for(t, user) and t.key in snap.counts
    }
    counts = count_all(
        {
            t.key: tile_queryset(request, t, today, area)
            for t in shown
            if t.counter is None and t.key not in summed
        }
    )
    for tile in shown:
        if tile.key in summed:
            counts[tile.key] = snapshot.figure(snap, tile, snapshot.paths_for(tile.model, tile.perm, user), area)
        elif tile.counter is not None:
            counts[tile.key] = tile.counter(user, today, area)
    shown = [t for t in shown if counts[t.key] is not None]
    return [
        {
            "key": tile.key,
            "label": str(tile.label),
            "group": tile.group,
            "tone": tile.tone,
            "value": counts[tile.key],
            "url": tile_url(tile, today, area),
            "as_of": snap.taken_at if tile.key in summed else now,
        }
        for tile in shown
    ]


def grouped(rows):
    """[(group label, group key, rows)] in the registry's group order, empty groups left out."""
    out = []
    for key, label in GROUPS.items():
        mine = [r for r in rows if r["group"] == key]
        if mine:
            out.append((label, key, mine))
    return out


# -- charts -------------------------------------------------------------------------------------


def _within_area(queryset, lookup, area):
    return queryset.filter(**{f"{lookup}__startswith": area.path}) if area is not None else queryset


def _by_day(queryset, field, first, last, is_date=False):
    if is_date:
        rows = queryset.filter(**{f"{field}__gte": first, f"{field}__lte": last}).values(field)
        key = field
    else:
        tz = timezone.get_current_timezone()
        start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
        end = timezone.make_aware(
            datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time.min)
        )
        rows = (
            queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
            .annotate(day=Trunc(field, "day", output_field=DateField(), tzinfo=tz))
            .values("day")
        )
        key = "day"
    counted = rows.annotate(n=Count("pk")).order_by()
    return {r[key]: r["n"] for r in counted}


# The trend series: (key, model, the path of the area its rows are filed under, the day's field,
# whether it is a date, the rows counted).
TREND_SPECS = [
    ("keypersons", KeyPerson, "area__path", "identified_on", True, Q()),
    ("tubes", Tube, "point__area__path", "opened_at", False, Q()),
    ("positives", TubeResult, "point__area__path", "reported_at", False, Q(result=Result.POSITIVE)),
    (
        "pooled_positives",
        TubeResult,
        "point__area__path",
        "reported_at",
        False,
        Q(result=Result.POOLED_POSITIVE),
    ),
]


def trend_days(today):
    first = today - datetime.timedelta(days=TREND_DAYS - 1)
    return [first + datetime.timedelta(days=n) for n in range(TREND_DAYS)]


def trends(user, area=None, today=None, snap=None):
    """New key persons, tubes sampled and positive results per day over TREND_DAYS days, each
    series only for a user who may see its list; scoped as the lists are. Summed from the city
    snapshot `snap` where it holds the series for this user's kind of scope, else counted."""
    today = today or timezone.localdate()
    days = trend_days(today)
    series = []
    for key, model, lookup, field_name, is_date, extra in TREND_SPECS:
        perm = f"{model._meta.app_label}.view_{model._meta.model_name}"
        if not user.has_scoped_perm(perm):
            continue
        if snap is not None and key in snap.trends and snapshot.model_summable_for(model, perm, user):
            data = snapshot.series(snap, key, snapshot.paths_for(model, perm, user), area, days)
        else:
            queryset = _within_area(model.objects.restrict(user, "view").filter(extra), lookup, area)
            counts = _by_day(queryset, field_name, days[0], today, is_date=is_date)
            data = [counts.get(day, 0) for day in days]
        series.append({"key": key, "data": data})
    return {"days": [day.isoformat() for day in days], "series": series}


def current_round(user, area=None):
    """The round whose coverage the dashboard shows: the latest running one the user sees that
    covers the area (or lies under it), else the latest finished one."""
    if not user.has_scoped_perm(COVERAGE_PERM):
        return None
    rounds = Campaign.objects.restrict(user, "view").exclude(status=Campaign.Status.PLANNED)
    # "running" sorts after "finished": descending puts the running rounds first, newest first.
    rounds = rounds.order_by("-status", "-starts_at", "-pk")
    for campaign in rounds[:5]:
        node = coverage_node(user, campaign, area)
        if node is not None:
            return campaign, node
    return None


def coverage_node(user, campaign, area):
    """The area whose children's coverage is drawn, as the round's own coverage page resolves it."""
    from epigrid.testing.coverage_views import resolve_node

    try:
        return resolve_node(user, campaign, area.code if area is not None else None)
    except Http404:
        return None


def coverage(user, area=None, snap=None):
    """The current round's coverage per child area: [{code, name, coverage, sampled, expected}]
    (the round's grid counts from the city snapshot `snap` when it holds them)."""
    found = current_round(user, area)
    if found is None:
        return None
    campaign, node = found
    counts = snap.coverage.get(str(campaign.pk)) if snap is not None else None
    head, rows = testing_services.coverage(campaign, node, counts=counts)
    return {
        "round": campaign.name,
        "round_id": campaign.pk,
        "area": {"code": node.code, "name": node.name},
        "total": {k: head[k] for k in ("expected", "sampled", "coverage")},
        "children": [
            {k: row[k] for k in ("code", "name", "level", "expected", "sampled", "coverage")} for row in rows
        ],
        "drill": node.level < Level.GRID,
    }


def categories(rows):
    """The by-category tiles as the chart's (label, value) pairs, zeros left out."""
    return [
        {"key": r["key"], "label": r["label"], "value": r["value"]} for r in rows if r["group"] == BY_CATEGORY
    ]

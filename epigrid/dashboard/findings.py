"""Late items anywhere in epigrid raised as supervision items (decision 0030 addendum): the rows of
every dashboard tile marked with a `finding` category (cases and contacts past a tracing deadline,
assistance requests overdue) and the units whose daily report is missing after its deadline each
become one supervision item, raised by the system in the row's area with FIX_HOURS to put it right;
an item whose row is no longer late is signed off by the system.

It lives here because the dashboard already holds, for each such list, the filter that makes a row
late (the tile's own query): one definition of "late" for the figure, its list and its items.
`epigrid raise_findings` runs it (beside `supervision_escalate`, e.g. every 10 minutes); the sweep
is idempotent (one open item per record: supervision.services.raise_item)."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.areas.models import Area
from epigrid.dashboard.services import request_for, tile_queryset
from epigrid.dashboard.snapshot import _everyone
from epigrid.dashboard.tiles import DAILY_REPORT, TILES
from epigrid.reports import services as report_services
from epigrid.reports.models import ReportForm
from epigrid.supervision import services as supervision
from epigrid.supervision.models import Category, FoundBy

FIX_HOURS = 24
# A city on its worst day: the first rows of each list, oldest first; the rest the next sweep.
LIMIT = 2000


def _area_of(row, lookup):
    value = row
    for name in lookup.removesuffix("__path").split("__"):
        value = getattr(value, name)
    return value


def sweep(now=None):
    """Raise what is late, resolve what no longer is: {"raised": n, "resolved": n}."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    deadline = now + datetime.timedelta(hours=FIX_HOURS)
    request = request_for(_everyone())
    raised = resolved = 0
    for tile in TILES:
        if not tile.finding:
            continue
        lookup = tile.model.scope_lookup
        related = lookup.removesuffix("__path")
        rows = list(tile_queryset(request, tile, today).select_related(related).order_by("pk")[:LIMIT])
        open_items = supervision.open_system_items(tile.model, tile.finding)
        for row in rows:
            if row.pk in open_items:
                continue
            supervision.raise_item(
                area=_area_of(row, lookup),
                title=f"{tile.label}：{row}",
                category=tile.finding,
                deadline=deadline,
                source=row,
                found_by=FoundBy.SYSTEM,
                now=now,
            )
            raised += 1
        late = {row.pk for row in rows}
        if len(rows) < LIMIT:  # a capped list cannot tell what is no longer late
            for source_id, item in open_items.items():
                if source_id not in late:
                    supervision.resolve(item, _("No longer late: %(list)s.") % {"list": tile.label})
                    resolved += 1
    r, s = _missing_reports(now, deadline)
    return {"raised": raised + r, "resolved": resolved + s}


def _missing_reports(now, deadline):
    """Units whose daily report for today is missing after its deadline: one item per unit."""
    form = ReportForm.objects.filter(code=DAILY_REPORT, active=True).first()
    if form is None:
        return 0, 0
    today = timezone.localdate(now)
    open_items = supervision.open_system_items(Area, Category.REPORTING)
    missing = []
    due = now > form.deadline(today)
    if due:
        for root in Area.objects.filter(parent__isnull=True):
            missing += [m["area"] for m in report_services.missing_units(form, today, root, limit=LIMIT)]
    raised = resolved = 0
    for unit in missing:
        if unit.pk in open_items:
            continue
        supervision.raise_item(
            area=unit,
            title=_("Daily report not sent: %(unit)s, %(day)s") % {"unit": unit.name, "day": today.isoformat()},
            category=Category.REPORTING,
            deadline=deadline,
            source=unit,
            found_by=FoundBy.SYSTEM,
            now=now,
        )
        raised += 1
    sent = {u.pk for u in missing}
    for source_id, item in open_items.items():
        if source_id not in sent and due:
            supervision.resolve(item, _("The daily report has been sent."))
            resolved += 1
    return raised, resolved

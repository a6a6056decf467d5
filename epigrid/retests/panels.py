"""Today's work (/control/today/) heads with the persons of pooled-positive / invalid tubes still
to hold and retest (core.panels, decision 0016 addendum)."""

from django.db.models import Count

from epigrid.areas.models import Level

BANNER_ROWS = 20


def today_tasks(request, area, held_here, now):
    from epigrid.retests.views import open_tasks

    rows = open_tasks(request.user)
    if area is not None:
        rows = rows.filter(area__path__startswith=area.path)
    if area is None or (area.level != Level.GRID and not held_here):
        # A roll-up: a count per grid, most first.
        counts = list(
            rows.order_by()
            .values("area__code", "area__name", "area__parent__name")
            .annotate(n=Count("id"))
            .order_by("-n", "area__code")
        )
        if not counts:
            return None
        # One query: the total is the groups' sum, the banner shows the busiest grids.
        return {"retest_counts": counts[:BANNER_ROWS], "retest_total": sum(c["n"] for c in counts)}
    tasks = list(rows[: BANNER_ROWS + 1])
    if not tasks:
        return None
    return {"retest_tasks": tasks[:BANNER_ROWS], "retest_more": len(tasks) > BANNER_ROWS, "now": now}

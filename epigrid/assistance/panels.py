"""Today's work (/control/today/) heads with the persons of assistance requests 协查 still to trace
whose deadline has passed or comes within a few hours (core.panels, decision 0016 addendum)."""

from epigrid.assistance import services

BANNER_ROWS = 20


def today_rows(request, area, held_here, now):
    rows = services.pressing_rows(request.user, now)
    if area is not None:
        rows = rows.filter(area__path__startswith=area.path)
    rows = list(rows[: BANNER_ROWS + 1])
    if not rows:
        return None
    for row in rows:
        row.overdue = row.request.due_at < now
    return {"assist_rows": rows[:BANNER_ROWS], "assist_more": len(rows) > BANNER_ROWS, "now": now}

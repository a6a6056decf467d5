"""The antigen panel of the household page (core.panels, decision 0016): the latest round that
covers the household, its kits and how many members reported."""

from django.db.models import Count, Q

from epigrid.antigen.models import AntigenReport, AntigenRound, KitDistribution, Result


def household_panel(request, household):
    user = request.user
    if not user.has_scoped_perm("antigen.view_antigenreport"):
        return None
    rounds = AntigenRound.objects.restrict(user, "view").prefetch_related("areas")[:20]
    rnd = next((r for r in rounds if r.covers(household.area.path)), None)
    if rnd is None:
        return None
    counts = AntigenReport.objects.filter(round=rnd, household=household).aggregate(
        reported=Count("id"), positive=Count("id", filter=Q(result=Result.POSITIVE))
    )
    # core.panels merges this dict into `panel` (the template reads panel.round, ...).
    return {
        "round": rnd,
        "household": household,
        "distribution": KitDistribution.objects.filter(round=rnd, household=household).first(),
        "members": household.members.filter(merged_into__isnull=True).count(),
        **counts,
    }


def today_follow_ups(request, area, held_here, now):
    """Today's work (/control/today/) heads with the positives still to arrange a nucleic-acid
    test for, in the area shown (the user's grid, or the roll-up's scope)."""
    from epigrid.antigen.views import BANNER_ROWS, open_follow_ups

    rows = open_follow_ups(request.user)
    if area is not None:
        rows = rows.filter(area__path__startswith=area.path)
    rows = list(rows[: BANNER_ROWS + 1])
    if not rows:
        return None
    return {"follow_ups": rows[:BANNER_ROWS], "follow_ups_more": len(rows) > BANNER_ROWS}

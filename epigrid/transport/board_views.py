"""The transport board 运输看板: boxes in transit, late and due within 30 minutes, live (the panel
is fetched again with htmx every few seconds), with punctuality per point, courier and lab.

Everything is read through `Box.objects.restrict(user)` and narrowed to one round: a commander
sees the district, a courier their area, a lab the boxes heading to it. One aggregate query for
the counts, three short lists, three grouped queries for punctuality: the cost does not grow
with a page of rows (a day's 25,000 boxes)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.testing.models import Campaign
from epigrid.transport import services
from epigrid.transport.models import Box

REFRESH_SECONDS = 15


def _round(request, boxes):
    """The round asked for (among those of the user's boxes), else the latest running round with
    boxes, else the latest round with boxes."""
    rounds = Campaign.objects.filter(pk__in=boxes.values("campaign_id")).order_by("-starts_at", "-id")
    asked = request.GET.get("campaign", "")
    if asked.isdigit():
        chosen = rounds.filter(pk=int(asked)).first()
        if chosen is not None:
            return chosen, rounds
    running = rounds.filter(status=Campaign.Status.RUNNING).first()
    return running or rounds.first(), rounds


def board_context(request):
    user = request.user
    if not user.has_scoped_perm("transport.view_box"):
        raise PermissionDenied(_("Your role does not follow sample transport."))
    boxes = Box.objects.restrict(user, "view")
    campaign, rounds = _round(request, boxes)
    now = timezone.now()
    ctx = {"campaign": campaign, "rounds": rounds, "now": now, "refresh_seconds": REFRESH_SECONDS}
    if campaign is None:
        return ctx
    boxes = boxes.filter(campaign=campaign)
    counts = services.board_counts(boxes, now)
    received = counts["received"]
    counts["on_time_share"] = (
        round(100 * (received - counts["received_late"]) / received, 1) if received else None
    )
    ctx.update(
        {
            "counts": counts,
            "lists": services.board_lists(boxes, now),
            "punctuality": [
                (_("By point"), services.punctuality(boxes, "point", now)),
                (_("By courier"), services.punctuality(boxes, "courier", now)),
                (_("By lab"), services.punctuality(boxes, "lab", now)),
            ],
        }
    )
    return ctx


@login_required
def board(request):
    ctx = board_context(request)
    template = "transport/board_panel.html" if request.htmx else "transport/board.html"
    return render(request, template, ctx)

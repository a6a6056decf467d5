"""Checkpoint pages (/checkpoints/): checkpoints with today's counts, a checkpoint's page (counts,
shifts, staff, the gate), the gate page for the staff's phone, passages, vehicles, shifts, the
statistics per checkpoint and day, and receiving an arrival handed to a community."""

import datetime

from csp.constants import WASM_UNSAFE_EVAL
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from epigrid.areas.models import Area, Level
from epigrid.checkpoints import services, stats
from epigrid.checkpoints.filtersets import (
    CheckpointFilterSet,
    PassageFilterSet,
    ShiftFilterSet,
    VehicleFilterSet,
)
from epigrid.checkpoints.forms import CheckpointForm, ShiftForm
from epigrid.checkpoints.models import Checkpoint, Decision, Direction, Passage, Shift, VehicleCheck
from epigrid.checkpoints.tables import CheckpointTable, PassageTable, ShiftTable, VehicleTable
from epigrid.core.views import ObjectDetailView, ObjectEditView, ObjectListView, TransitionView, safe_next


def _today_range():
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


class CheckpointListView(ObjectListView):
    model = Checkpoint
    table_class = CheckpointTable
    filterset_class = CheckpointFilterSet
    add_url_name = "checkpoints:checkpoint_add"
    template_name = "checkpoints/checkpoint_list.html"

    def get_queryset(self):
        start, end = _today_range()
        return (
            super()
            .get_queryset()
            .select_related("area")
            .annotate(today=Count("passages", filter=Q(passages__at__gte=start, passages__at__lt=end)))
        )


class CheckpointDetailView(ObjectDetailView):
    model = Checkpoint
    template_name = "checkpoints/checkpoint_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, checkpoint = self.request.user, self.object
        start, end = _today_range()
        passages = Passage.objects.restrict(user, "view").filter(
            checkpoint=checkpoint, at__gte=start, at__lt=end
        )
        vehicles = VehicleCheck.objects.restrict(user, "view").filter(
            checkpoint=checkpoint, at__gte=start, at__lt=end
        )
        rows = stats.daily(passages, vehicles)
        ctx.update(
            {
                "today": rows[0] if rows else None,
                "shifts": Shift.objects.restrict(user, "view")
                .filter(checkpoint=checkpoint, day__gte=timezone.localdate())
                .order_by("day", "starts")[:9],
                "staff": list(checkpoint.staff.order_by("username")),
                "may_record": bool(services.postable_checkpoints(user, [checkpoint.pk])),
                "recent": passages.select_related("person", "vehicle").order_by("-at")[:10],
            }
        )
        return ctx


class CheckpointEditView(ObjectEditView):
    model = Checkpoint
    form_class = CheckpointForm


@login_required
def my_gate(request):
    """Where checkpoint staff start: the gate page of their one post, else the list to pick from."""
    posts = list(Checkpoint.objects.filter(staff=request.user, is_active=True).values_list("pk", flat=True)[:2])
    if len(posts) == 1 and services.postable_checkpoints(request.user, posts):
        return redirect("checkpoints:gate", pk=posts[0])
    return redirect("checkpoints:checkpoint_list")


# The camera reads codes with ZXing compiled to WebAssembly (the barcode-detector polyfill): the
# gate page alone allows it, as transport's scan pages do.
camera = csp_update({"script-src": [WASM_UNSAFE_EVAL]})


@camera
@login_required
def gate(request, pk):
    """The staff's phone page: scan, see what the system knows, decide, save into the queue."""
    checkpoint = get_object_or_404(
        Checkpoint.objects.restrict(request.user, "view").select_related("area"), pk=pk
    )
    if not services.postable_checkpoints(request.user, [checkpoint.pk]):
        raise PermissionDenied
    district = (
        checkpoint.area
        if checkpoint.area.level <= Level.DISTRICT
        else next((a for a in checkpoint.area.ancestors() if a.level == Level.DISTRICT), checkpoint.area)
    )
    communities = Area.objects.filter(path__startswith=district.path, level=Level.COMMUNITY).order_by("code")
    return render(
        request,
        "checkpoints/gate.html",
        {
            "checkpoint": checkpoint,
            "communities": communities,
            "decisions": Decision.choices,
            "health_codes": Passage.HealthCode.choices,
            "origin_risks": Passage.OriginRisk.choices,
            "vehicle_kinds": VehicleCheck.Kind.choices,
            "directions": Direction.choices,
        },
    )


class PassageListView(ObjectListView):
    model = Passage
    table_class = PassageTable
    filterset_class = PassageFilterSet
    export_name = "passages"

    def get_queryset(self):
        return super().get_queryset().select_related("person", "checkpoint", "vehicle", "handed_to")


class PassageDetailView(ObjectDetailView):
    model = Passage
    template_name = "checkpoints/passage_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("person", "checkpoint", "vehicle", "handed_to", "destination", "key_person")
        )


class VehicleListView(ObjectListView):
    model = VehicleCheck
    table_class = VehicleTable
    filterset_class = VehicleFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("checkpoint").annotate(passenger_count=Count("passengers"))


class ShiftListView(ObjectListView):
    model = Shift
    table_class = ShiftTable
    filterset_class = ShiftFilterSet
    add_url_name = "checkpoints:shift_add"

    def get_queryset(self):
        return super().get_queryset().select_related("checkpoint")


class ShiftEditView(ObjectEditView):
    model = Shift
    form_class = ShiftForm


@login_required
def stats_page(request):
    """Per checkpoint and day, for a day or a week (newest first), with the totals and the export."""
    user = request.user
    if not user.has_scoped_perm("checkpoints.view_passage"):
        raise PermissionDenied
    today = timezone.localdate()
    until = parse_date(request.GET.get("until", "")) or today
    days = 7 if request.GET.get("span") != "day" else 1
    since = until - datetime.timedelta(days=days - 1)
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min)
    )
    passages = Passage.objects.restrict(user, "view").filter(at__gte=start, at__lt=end)
    vehicles = VehicleCheck.objects.restrict(user, "view").filter(at__gte=start, at__lt=end)
    scans = stats.pass_scans(Checkpoint.objects.restrict(user, "view"), start, end)
    rows = stats.daily(passages, vehicles, scans)
    return render(
        request,
        "checkpoints/stats.html",
        {
            "rows": rows,
            "totals": stats.totals(rows),
            "since": since,
            "until": until,
            "span": "day" if days == 1 else "week",
            "export_query": f"since={since.isoformat()}&until={until.isoformat()}",
        },
    )


class ReceiveView(TransitionView):
    """An arrival handed to a community, received there (from today's work)."""

    model = Passage
    refusals = (ValidationError,)

    def get_object(self):
        # Seen by where it was handed, not by the checkpoint's area: out of that reach it is not there.
        passage = (
            Passage.objects.filter(pk=self.kwargs["pk"], handed_to__isnull=False)
            .select_related("handed_to", "person")
            .first()
        )
        if passage is None or not services.may_receive(self.request.user, passage):
            raise Http404
        return passage

    def move(self, passage, data):
        services.receive(self.request.user, passage)
        return passage

    def get_success_message(self, passage):
        return _("%(name)s received.") % {"name": passage.person.name}

    def get_redirect_url(self, passage):
        return safe_next(self.request, reverse("control:today"))

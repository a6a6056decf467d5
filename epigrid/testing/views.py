"""Pages of rounds, sampling points and desks, tubes and samples: what the officials running a
round and the desk teams' leads use. Reads go through `restrict` (a sampler sees only the points
they staff and those points' tubes; the round itself is seen from below through `scope_upward`);
rounds are created through services.create_campaign and move through `Campaign.transition`;
tubes by hand and sample moves through services.set_tube_status and services.move_sample.

Who sees a button: whoever holds its permission where the object lies (the rule the POST checks:
403 without it). A refusal from the service (an empty tube, a full one, a sealed source tube)
comes back as a message on the page."""

import datetime

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView

from epigrid.areas.models import Area
from epigrid.audit.services import history
from epigrid.core.scoping import ScopeViolation, check_in_scope
from epigrid.core.views import ObjectDetailView, ObjectEditView, ObjectListView, TransitionView
from epigrid.testing import services
from epigrid.testing.filtersets import CampaignFilterSet, SamplingPointFilterSet, TubeFilterSet
from epigrid.testing.forms import (
    CampaignCreateForm,
    CampaignForm,
    DeskForm,
    MoveSampleForm,
    NoteForm,
    SamplingPointForm,
    sample_name,
)
from epigrid.testing.models import Campaign, Desk, Sample, SamplingPoint, Tube
from epigrid.testing.tables import CampaignTable, SamplingPointTable, TubeTable

POINTS_ON_ROUND_PAGE = 50


def _url_or_none(name, *args):
    """Pages built by other parts of the app may not exist yet in every checkout."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _holds(model, user, obj, perm):
    """Whether `user` holds `perm` (e.g. testing.change_campaign) where `obj` lies. The action is
    passed too: restrict() reaches upward (Campaign.scope_upward) for the "view" action, its
    default, and a street officer would otherwise "hold" change over the district's round."""
    action = perm.split(".", 1)[1].split("_", 1)[0]
    return model.objects.restrict(user, action, perm=perm).filter(pk=obj.pk).exists()


def _today_range():
    # A range on received_at, not __date: the (desk, received_at) index serves it.
    start = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def _add_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# Rounds


class CampaignListView(ObjectListView):
    model = Campaign
    table_class = CampaignTable
    filterset_class = CampaignFilterSet
    add_url_name = "testing:campaign_add"

    def get_queryset(self):
        return super().get_queryset().select_related("area")


def coverage_node(user, campaign):
    """Where the round page counts coverage: the organiser's area, or, for a user who sees the
    round from below (a grid worker sees the district's round), the top of their own part of it.
    Coverage counts persons, so it needs the right to see who was sampled there."""
    paths = user.scope_paths("testing.view_sampledperson")
    if paths is None or any(campaign.area.path.startswith(p) for p in paths):
        return campaign.area
    inside = [p for p in paths if p.startswith(campaign.area.path)]
    return Area.objects.filter(path__in=inside).order_by("level", "path").first() if inside else None


# A workflow step: (the status it acts on, the status it moves to, whether a note is required).
STEPS = {
    "start": (Campaign.Status.PLANNED, Campaign.Status.RUNNING, False),
    "finish": (Campaign.Status.RUNNING, Campaign.Status.FINISHED, False),
    # Reopening a finished round for late sweeps is an exception: the note says why.
    "reopen": (Campaign.Status.FINISHED, Campaign.Status.RUNNING, True),
}


def campaign_context(request, campaign, bound=None):
    user = request.user
    can_change = _holds(Campaign, user, campaign, "testing.change_campaign")
    step_forms = {}
    if can_change:
        for name, (source, _target, note_required) in STEPS.items():
            if campaign.status == source:
                step_forms[name] = (bound or {}).get(name) or NoteForm(
                    auto_id=f"id_{name}_%s", note_required=note_required
                )
    node = coverage_node(user, campaign)
    head = services.coverage(campaign, node)[0] if node is not None else None
    points = (
        SamplingPoint.objects.restrict(user, "view")
        .filter(campaign=campaign)
        .select_related("area__parent")
        .prefetch_related(Prefetch("desks", queryset=Desk.objects.order_by("name")))
    )
    point_count = points.count()
    tubes = Tube.objects.restrict(user, "view").filter(campaign=campaign)
    by_status = dict(tubes.order_by().values_list("status").annotate(n=Count("id")))
    start, end = _today_range()
    samples_today = (
        Sample.objects.restrict(user, "view")
        .filter(
            desk__point__campaign=campaign,
            received_at__gte=start,
            received_at__lt=end,
            status=Sample.Status.ACTIVE,
        )
        .count()
    )
    labels = dict(Campaign.Status.choices)
    return {
        "object": campaign,
        "campaign": campaign,
        "model_meta": Campaign._meta,
        "can_change": can_change,
        # A point is filed under its own area: the add page offers the areas where the user may.
        "can_add_point": campaign.status != Campaign.Status.FINISHED
        and user.has_scoped_perm("testing.add_samplingpoint"),
        "step_forms": step_forms,
        "coverage_node": node,
        "coverage": head,
        "coverage_url": _url_or_none("testing:coverage", campaign.pk),
        "areas_covered": list(campaign.areas.order_by("path")),
        "points": points[:POINTS_ON_ROUND_PAGE],
        "point_count": point_count,
        "more_points": point_count > POINTS_ON_ROUND_PAGE,
        "tube_counts": [(value, label, by_status.get(value, 0)) for value, label in Tube.Status.choices],
        "tube_total": sum(by_status.values()),
        "samples_today": samples_today,
        "history_rows": [
            {
                "time": row.time,
                "user": row.user_name,
                "source": labels.get(row.source, row.source),
                "target": labels.get(row.target, row.target),
                "note": row.note,
            }
            for row in history(campaign).order_by("time", "id")
        ],
    }


class CampaignDetailView(ObjectDetailView):
    model = Campaign
    template_name = "testing/campaign_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area", "copied_from")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(campaign_context(self.request, self.object))
        return ctx


class CampaignCreateView(LoginRequiredMixin, FormView):
    """A new round through services.create_campaign (the points and desks of the chosen round
    come along)."""

    form_class = CampaignCreateForm
    template_name = "testing/campaign_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_scoped_perm("testing.add_campaign"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "model_meta": Campaign._meta}

    def form_valid(self, form):
        try:
            with transaction.atomic():
                campaign = services.create_campaign(self.request.user, **form.service_fields())
                check_in_scope(self.request.user, campaign, "add")
        except ScopeViolation as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        except ValidationError as exc:
            _add_errors(form, exc)
            return self.form_invalid(form)
        if campaign.copied_from_id:
            messages.success(
                self.request,
                _("Created %(round)s with the points and desks of %(source)s.")
                % {"round": campaign, "source": campaign.copied_from},
            )
        else:
            messages.success(self.request, _("Created %(round)s.") % {"round": campaign})
        return redirect(campaign)


class CampaignEditView(ObjectEditView):
    model = Campaign
    form_class = CampaignForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


class CampaignStepView(TransitionView):
    """Start, finish or reopen a round through Campaign.transition (audited with its note)."""

    model = Campaign
    object_permission = "testing.change_campaign"
    refusals = (ValidationError,)
    step = None

    def stale(self, campaign):
        if campaign.status != STEPS[self.step][0]:
            return _("This step does not apply now: the round is “%(status)s”.") % {
                "status": campaign.get_status_display()
            }
        return None

    def get_form(self):
        return NoteForm(self.request.POST, auto_id=f"id_{self.step}_%s", note_required=STEPS[self.step][2])

    def form_invalid(self, form):
        ctx = campaign_context(self.request, self.object, bound={self.step: form})
        return TemplateResponse(self.request, "testing/campaign_detail.html", ctx, status=400)

    def move(self, campaign, data):
        campaign.transition(STEPS[self.step][1], data["note"])
        return campaign

    def refused(self, exc):
        for message in exc.messages:
            messages.error(self.request, message)

    def get_success_message(self, campaign):
        return _("The round is now “%(status)s”.") % {"status": campaign.get_status_display()}


# Sampling points and desks


class SamplingPointListView(ObjectListView):
    model = SamplingPoint
    table_class = SamplingPointTable
    filterset_class = SamplingPointFilterSet

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("campaign", "area__parent")
            .annotate(desk_count=Count("desks"))
        )


def point_context(request, point, bound=None):
    user = request.user
    bound = bound or {}
    can_change_desks = _holds(SamplingPoint, user, point, "testing.change_desk")
    desks = list(point.desks.order_by("name"))
    open_tubes = {
        t.desk_id: t
        for t in Tube.objects.filter(point=point, status=Tube.Status.OPEN).order_by("opened_at", "id")
    }
    start, end = _today_range()
    today = dict(
        Sample.objects.filter(
            desk__in=desks, received_at__gte=start, received_at__lt=end, status=Sample.Status.ACTIVE
        )
        .order_by()
        .values_list("desk_id")
        .annotate(n=Count("id"))
    )
    tube_list = reverse("testing:tube_list")
    rows = []
    for desk in desks:
        form = None
        if can_change_desks:
            form = bound.get(desk.pk) or DeskForm(instance=desk, point=point, auto_id=f"id_desk{desk.pk}_%s")
        rows.append(
            {
                "desk": desk,
                "form": form,
                "open_tube": open_tubes.get(desk.pk),
                "samples_today": today.get(desk.pk, 0),
                "tubes_url": f"{tube_list}?point={point.pk}&desk={desk.pk}",
                "desk_url": _url_or_none("testing:desk", desk.pk),
            }
        )
    can_add_desk = _holds(SamplingPoint, user, point, "testing.add_desk")
    return {
        "object": point,
        "point": point,
        "model_meta": SamplingPoint._meta,
        "can_change": _holds(SamplingPoint, user, point, "testing.change_samplingpoint"),
        "desk_rows": rows,
        "add_desk_form": (bound.get("add") or DeskForm(point=point, auto_id="id_newdesk_%s"))
        if can_add_desk
        else None,
        "staff": list(point.staff.order_by("username")),
        "tubes_url": f"{tube_list}?point={point.pk}",
    }


class SamplingPointDetailView(ObjectDetailView):
    model = SamplingPoint
    template_name = "testing/point_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("campaign", "area__parent")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(point_context(self.request, self.object))
        return ctx


class SamplingPointEditView(ObjectEditView):
    """Add (for a round: /testing/<round>/points/add/) or change a point."""

    model = SamplingPoint
    form_class = SamplingPointForm

    def get_campaign(self):
        if "campaign" in self.kwargs:
            return get_object_or_404(
                Campaign.objects.restrict(self.request.user, "view"), pk=self.kwargs["campaign"]
            )
        return self.object.campaign

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "campaign": self.get_campaign()}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "campaign": self.get_campaign()}


class DeskActionView(LoginRequiredMixin, View):
    """Add a desk at a point, or rename / take out of use / back in use one desk. A form with
    errors comes back in its place on the point page (400)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        point, desk = self.targets(request, pk)
        perm = "testing.change_desk" if desk else "testing.add_desk"
        if not _holds(SamplingPoint, request.user, point, perm):
            raise PermissionDenied
        key = desk.pk if desk else "add"
        prefix = f"id_desk{desk.pk}_%s" if desk else "id_newdesk_%s"
        form = DeskForm(request.POST, instance=desk, point=point, auto_id=prefix)
        if form.is_valid():
            try:
                with transaction.atomic():
                    saved = form.save()
                    check_in_scope(request.user, saved, "change" if desk else "add")
            except ScopeViolation as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Saved %(object)s.") % {"object": saved})
            return redirect(point)
        ctx = point_context(request, point, bound={key: form})
        return TemplateResponse(request, "testing/point_detail.html", ctx, status=400)

    def targets(self, request, pk):
        raise NotImplementedError


class DeskAddView(DeskActionView):
    def targets(self, request, pk):
        return get_object_or_404(SamplingPoint.objects.restrict(request.user, "view"), pk=pk), None


class DeskUpdateView(DeskActionView):
    def targets(self, request, pk):
        desk = get_object_or_404(Desk.objects.restrict(request.user, "view").select_related("point"), pk=pk)
        return desk.point, desk


# Tubes and samples


class TubeListView(ObjectListView):
    model = Tube
    table_class = TubeTable
    filterset_class = TubeFilterSet
    export_name = "tubes"

    def get_queryset(self):
        return super().get_queryset().select_related("point", "desk", "campaign")


# Tube steps by hand: name → (target status, whether the tube's state allows it).
TUBE_STEPS = {
    "close": (Tube.Status.CLOSED, lambda t: t.status == Tube.Status.OPEN and t.count > 0),
    "reopen": (Tube.Status.OPEN, lambda t: t.status == Tube.Status.CLOSED and t.count < t.capacity),
    "seal": (Tube.Status.SEALED, lambda t: t.status != Tube.Status.SEALED and t.count > 0),
}


def _may_handle_tube(user, tube):
    # The rule services.set_tube_status applies: posted (or in scope) with the right to sample.
    return _holds(Tube, user, tube, "testing.add_sample")


def _may_move(user, tube):
    return _holds(Tube, user, tube, "testing.change_sample")


def tube_context(request, tube, move_form=None):
    user = request.user
    # Names in full only to roles that see the registry; samplers see them masked like the
    # desk does. Documents are always masked here; the birth year is the only birth detail.
    masked_names = not user.has_scoped_perm("people.view_person")
    samples = list(
        tube.samples.select_related("person", "find", "moved_to__tube", "scanned_by").order_by(
            "position", "id"
        )
    )
    rows = [
        {
            "sample": s,
            "name": sample_name(s, masked_names),
            "document": s.person.masked_doc_number
            if s.person_id
            else (s.find.masked_doc_number if s.find_id else "—"),
            "birth_year": s.person.birth_year if s.person_id else None,
            "unregistered": not s.person_id and bool(s.find_id),
            "active": s.status == Sample.Status.ACTIVE,
        }
        for s in samples
    ]
    steps = []
    if _may_handle_tube(user, tube):
        steps = [name for name, (_target, allowed) in TUBE_STEPS.items() if allowed(tube)]
    may_move = _may_move(user, tube) and tube.status != Tube.Status.SEALED and any(r["active"] for r in rows)
    return {
        "object": tube,
        "tube": tube,
        "model_meta": Tube._meta,
        "rows": rows,
        "steps": steps,
        "move_form": (move_form or MoveSampleForm(tube=tube, user=user)) if may_move else None,
        "desk_url": _url_or_none("testing:desk", tube.desk_id),
    }


class TubeDetailView(ObjectDetailView):
    model = Tube
    template_name = "testing/tube_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("campaign", "point", "desk", "household__building")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(tube_context(self.request, self.object))
        return ctx


def _tube(request, pk):
    return get_object_or_404(Tube.objects.restrict(request.user, "view"), pk=pk)


class TubeStepView(TransitionView):
    """Close early, reopen or seal by hand through services.set_tube_status."""

    model = Tube
    object_permission = _may_handle_tube
    step = None

    def move(self, tube, data):
        form = NoteForm(self.request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        return services.set_tube_status(self.request.user, tube, TUBE_STEPS[self.step][0], note)

    def get_success_message(self, tube):
        return _("Tube %(tube)s is now “%(status)s”.") % {"tube": tube, "status": tube.get_status_display()}


class SampleMoveView(LoginRequiredMixin, View):
    """Move a person's sample to another tube with the reason, through services.move_sample."""

    http_method_names = ["post"]

    def post(self, request, pk):
        tube = _tube(request, pk)
        if not _may_move(request.user, tube):
            raise PermissionDenied
        form = MoveSampleForm(request.POST, tube=tube, user=request.user)
        if not form.is_valid():
            ctx = tube_context(request, tube, move_form=form)
            return TemplateResponse(request, "testing/tube_detail.html", ctx, status=400)
        data = form.cleaned_data
        try:
            moved = services.move_sample(request.user, data["sample"], data["to_tube"], data["reason"])
        except (ValidationError, PermissionDenied) as exc:
            for message in getattr(exc, "messages", None) or [str(exc)]:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("Moved the sample to tube %(tube)s, position %(position)d.")
                % {"tube": moved.tube.barcode, "position": moved.position},
            )
        return redirect(tube)

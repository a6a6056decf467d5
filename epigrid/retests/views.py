"""Pages of the pooled-positive follow-up: the follow-up list, a follow-up (the tube and its
persons, masked, with household, building, grid and grid worker), the task list and a task page
with the one-tap moves. Reads go through `restrict`; writes through `retests.services`."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from epigrid.control.models import ZONE_LEVEL_LABELS
from epigrid.core.scoping import may
from epigrid.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TransitionView,
    get_scoped_or_404,
)
from epigrid.people.models import Person
from epigrid.results.services import tube_persons
from epigrid.retests import services
from epigrid.retests.filtersets import PoolFollowUpFilterSet, RetestTaskFilterSet, ZoneProposalFilterSet
from epigrid.retests.forms import MoveForm, RetestTaskForm
from epigrid.retests.models import Kind, PoolFollowUp, RetestTask, ZoneProposal
from epigrid.retests.tables import PoolFollowUpTable, RetestTaskTable, ZoneProposalTable

TASK_PERM = "retests.view_retesttask"


def open_tasks(user):
    """The tasks still to do that `user` sees, soonest due first (the banner's rows)."""
    if not user.has_scoped_perm(TASK_PERM):
        return RetestTask.objects.none()
    return (
        RetestTask.objects.restrict(user, "view")
        .filter(status__in=RetestTask.ACTIVE)
        .select_related("area", "household__building", "follow_up__tube")
        .order_by("due_by", "id")
    )


class PoolFollowUpListView(ObjectListView):
    model = PoolFollowUp
    table_class = PoolFollowUpTable
    filterset_class = PoolFollowUpFilterSet

    def get_queryset(self):
        return services.visible_follow_ups(self.request.user).select_related("tube", "area")


class PoolFollowUpDetailView(ObjectDetailView):
    model = PoolFollowUp
    template_name = "retests/poolfollowup_detail.html"

    def get_object(self, queryset=None):
        return get_object_or_404(
            services.visible_follow_ups(self.request.user).select_related("tube__point", "area"), pk=self.kwargs["pk"]
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        tasks = RetestTask.objects.restrict(user, "view").filter(follow_up=self.object)
        by_sample = {t.sample_id: t for t in tasks}
        persons = Person.objects.restrict(user, "view")
        rows = tube_persons(self.object.tube, persons=persons)
        by_person = {t.person_id: t for t in by_sample.values() if t.person_id}
        for row in rows:
            row["task"] = by_person.get(row["person"])
        ctx["persons"] = rows
        # Unregistered persons (finds) have no Person row to scope by: their tasks, listed apart.
        ctx["unregistered"] = [t for t in by_sample.values() if t.person_id is None]
        return ctx


class RetestTaskListView(ObjectListView):
    model = RetestTask
    table_class = RetestTaskTable
    filterset_class = RetestTaskFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("area", "follow_up__tube")


MOVES = ("hold", "retest", "negative", "positive", "resampled")


def task_moves(task):
    """The one-tap moves a task offers now, as slugs."""
    allowed = task.allowed_transitions()
    out = []
    if task.kind == Kind.POOLED_POSITIVE:
        if RetestTask.Status.HELD in allowed:
            out.append("hold")
        if RetestTask.Status.SAMPLED in allowed:
            out.append("retest")
        if task.status == RetestTask.Status.SAMPLED:
            out += ["negative", "positive"]
    else:
        if RetestTask.Status.SAMPLED in allowed:
            out.append("retest")
        if task.status == RetestTask.Status.SAMPLED:
            out.append("resampled")
    return out


class RetestTaskDetailView(ObjectDetailView):
    model = RetestTask
    template_name = "retests/retesttask_detail.html"

    def get_object(self, queryset=None):
        return get_scoped_or_404(RetestTask, self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        task = self.object
        user = self.request.user
        ctx["moves"] = task_moves(task)
        ctx["may_move"] = may(user, task)
        rows = tube_persons(task.follow_up.tube, persons=Person.objects.filter(pk=task.person_id))
        ctx["row"] = rows[0] if rows else None
        ctx["may_see_entry"] = task.key_person_id and user.has_scoped_perm("control.view_keyperson")
        return ctx


class RetestTaskEditView(ObjectEditView):
    model = RetestTask
    form_class = RetestTaskForm

    creates = False  # made by the services


class RetestTaskMoveView(TransitionView):
    """POST /retests/tasks/<id>/<move>/: hold, retest (barcode), negative, positive, resampled."""

    model = RetestTask
    refusals = (ValidationError,)  # the service's PermissionDenied answers 403

    def move(self, task, data):
        move, user = self.kwargs["move"], self.request.user
        if move not in MOVES:
            raise Http404
        form = MoveForm(self.request.POST)
        data = form.cleaned_data if form.is_valid() else {"barcode": "", "note": ""}
        note = data["note"]
        if move == "hold":
            return services.hold(user, task, note)
        if move == "retest":
            return services.record_retest(user, task, data["barcode"], note)
        if move == "resampled":
            return services.record_resample(user, task, note)
        return services.record_retest_result(user, task, move, note)

    def get_success_message(self, task):
        return _("%(person)s: %(status)s.") % {"person": task.name, "status": task.get_status_display()}


# -- zone proposals: the street confirms (control draws the zone) or dismisses ---------------------


class ZoneProposalListView(ObjectListView):
    model = ZoneProposal
    table_class = ZoneProposalTable
    filterset_class = ZoneProposalFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("building", "area")


class ZoneProposalDetailView(ObjectDetailView):
    model = ZoneProposal
    template_name = "retests/zoneproposal_detail.html"

    def get_object(self, queryset=None):
        return get_scoped_or_404(ZoneProposal, self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        proposal = self.object
        ctx["may_decide"] = (
            proposal.status == ZoneProposal.Status.PROPOSED
            and may(self.request.user, proposal)
            and self.request.user.has_scoped_perm("control.add_zone")
        )
        ctx["levels"] = [(level, ZONE_LEVEL_LABELS.get(level, level)) for level in services.zone_levels()]
        return ctx


class ZoneProposalMoveView(TransitionView):
    """POST /retests/proposals/<id>/confirm/ (with the zone level) or /dismiss/ (with a note); a GET
    shows the proposal."""

    http_method_names = ["get", "post"]
    model = ZoneProposal
    refusals = (ValidationError,)  # the service's PermissionDenied answers 403
    TARGETS = {"confirm": ZoneProposal.Status.CONFIRMED, "dismiss": ZoneProposal.Status.DISMISSED}

    def get(self, request, *args, **kwargs):
        return ZoneProposalDetailView.as_view()(request, *args, **kwargs)

    def move(self, proposal, data):
        if self.kwargs["move"] not in self.TARGETS:
            raise Http404
        post = self.request.POST
        return services.decide_proposal(
            self.request.user,
            proposal,
            self.TARGETS[self.kwargs["move"]],
            note=(post.get("note") or "")[:200].strip(),
            level=post.get("level") or None,
        )

    def get_success_message(self, proposal):
        return _("%(building)s: %(status)s.") % {
            "building": proposal.building.name,
            "status": proposal.get_status_display(),
        }

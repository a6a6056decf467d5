"""The pooled-positive follow-up over the API (decision 0023): follow-ups, retest tasks and zone
proposals, read as their pages read them, and the grid worker's and the street's moves as POST
actions. Every write goes through retests.services; a refusal is a 400 with the service's
message, outside the move's right a 403, outside the user's scope a 404.

A phone resends a move whose answer it lost: the same move again answers as the first one did and
changes nothing (no second history row, key-person entry or zone), as the transport steps do."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from epigrid.control.models import ZONE_LEVEL_LABELS
from epigrid.core.api import ScopedReadOnlyModelViewSet
from epigrid.core.tabular import CellError
from epigrid.results.services import parse_barcode
from epigrid.retests import services
from epigrid.retests.filtersets import PoolFollowUpFilterSet, RetestTaskFilterSet, ZoneProposalFilterSet
from epigrid.retests.models import PoolFollowUp, RetestTask, ZoneProposal
from epigrid.retests.serializers import (
    ConfirmSerializer,
    DismissSerializer,
    PoolFollowUpSerializer,
    RetestResultSerializer,
    RetestSerializer,
    RetestTaskSerializer,
    TaskNoteSerializer,
    ZoneProposalSerializer,
)

TASK_RELATED = (
    "follow_up__tube",
    "follow_up__area",
    "person",
    "sample__find",
    "household__building",
    "area",
)
_REFUSALS = {
    400: OpenApiResponse(
        description="Refused, with the reason (bad input, or the task's state does not allow it)."
    ),
    403: OpenApiResponse(description="The user sees the record but may not make this move."),
    404: OpenApiResponse(description="Not a record the user can see."),
}


def _refused(exc):
    return serializers.ValidationError(serializers.as_serializer_error(exc))


def _valid(serializer_class, request):
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


def _move(obj, call, repeat):
    """Run a service move. A refused move looks at the record again: `repeat(obj)` is True when
    the record already stands where this move puts it (a retry: answered as the first move was),
    a message when an earlier, different move got there first (clearer than the workflow's "cannot
    go from … to …"), else None (the service's own refusal stands)."""
    try:
        call()
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from None
    except DjangoValidationError as exc:
        obj.refresh_from_db()
        verdict = repeat(obj)
        if verdict is not True:
            raise _refused(DjangoValidationError(verdict) if verdict else exc) from None


class PoolFollowUpViewSet(ScopedReadOnlyModelViewSet):
    """Pooled-tube follow-ups (混阳处置): one per tube the lab flagged pooled positive or invalid,
    open while any of its persons' tasks is. Seen in the sampling point's area, and by whoever
    sees one of its tasks (a resident sampled at another grid's point)."""

    queryset = PoolFollowUp.objects.all()
    serializer_class = PoolFollowUpSerializer
    filterset_class = PoolFollowUpFilterSet

    def get_queryset(self):
        return services.visible_follow_ups(self.request.user).select_related("tube", "area")

    @extend_schema(responses={200: RetestTaskSerializer(many=True), 404: _REFUSALS[404]})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def tasks(self, request, pk=None):
        """The follow-up's tasks (one per person in the tube) that the user sees."""
        follow = self.get_object()
        tasks = (
            RetestTask.objects.restrict(request.user, "view")
            .filter(follow_up=follow)
            .select_related(*TASK_RELATED)
            .order_by("id")
        )
        return Response(RetestTaskSerializer(tasks, many=True).data)


class RetestTaskViewSet(ScopedReadOnlyModelViewSet):
    """Retest tasks (单管复核 / 重采): one per person of a flagged tube, for their grid worker. A
    pooled positive: hold → retest (the single tube's barcode) → result negative (released) or
    positive (key person, and the building proposed as a risk zone). Invalid: retest (the new
    tube) → resample. `actions` on each task lists the moves its state allows."""

    queryset = RetestTask.objects.all()
    serializer_class = RetestTaskSerializer
    filterset_class = RetestTaskFilterSet
    select_related = TASK_RELATED

    def _answer(self, task):
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data)

    @extend_schema(request=TaskNoteSerializer, responses={200: RetestTaskSerializer, **_REFUSALS})
    @action(detail=True, methods=["post"], object_action="change")
    def hold(self, request, pk=None):
        """已原地管控: the person is held in place at home until the retest. A held task again
        changes nothing."""
        task = self.get_object()
        data = _valid(TaskNoteSerializer, request)
        _move(
            task,
            lambda: services.hold(request.user, task, note=data.get("note", "")),
            lambda t: t.status == RetestTask.Status.HELD or None,
        )
        return self._answer(task)

    @extend_schema(request=RetestSerializer, responses={200: RetestTaskSerializer, **_REFUSALS})
    @action(detail=True, methods=["post"], object_action="change")
    def retest(self, request, pk=None):
        """已单管复核 (已重采 for an invalid tube): the single tube is taken, by its barcode (from
        open, the hold is stamped too). The same barcode again changes nothing; another one is
        refused."""
        task = self.get_object()
        data = _valid(RetestSerializer, request)
        _move(
            task,
            lambda: services.record_retest(request.user, task, data["barcode"], note=data.get("note", "")),
            lambda t: _same_retest(t, data["barcode"]),
        )
        return self._answer(task)

    @extend_schema(request=RetestResultSerializer, responses={200: RetestTaskSerializer, **_REFUSALS})
    @action(detail=True, methods=["post"], object_action="change")
    def result(self, request, pk=None):
        """复核阴性 releases the person; 复核阳性 registers them as a key person (suspected, the active
        protocol's plan) and proposes their building as a risk zone, all or nothing. The same
        result again changes nothing; the other one is refused."""
        task = self.get_object()
        data = _valid(RetestResultSerializer, request)
        _move(
            task,
            lambda: services.record_retest_result(
                request.user, task, data["result"], note=data.get("note", "")
            ),
            lambda t: _same_result(t, data["result"]),
        )
        return self._answer(task)

    @extend_schema(request=TaskNoteSerializer, responses={200: RetestTaskSerializer, **_REFUSALS})
    @action(detail=True, methods=["post"], object_action="change")
    def resample(self, request, pk=None):
        """An invalid tube's person is resampled (after `retest` with the new tube): the task is
        done. A done task again changes nothing."""
        task = self.get_object()
        data = _valid(TaskNoteSerializer, request)
        _move(
            task,
            lambda: services.record_resample(request.user, task, note=data.get("note", "")),
            lambda t: t.status == RetestTask.Status.DONE or None,
        )
        return self._answer(task)


def _same_retest(task, barcode):
    if task.status != RetestTask.Status.SAMPLED:
        return None
    try:
        code = parse_barcode(barcode)
    except CellError:
        return None
    if code == task.retest_barcode:
        return True
    return _("The retest was recorded already, with tube %(barcode)s.") % {"barcode": task.retest_barcode}


_RESULT_STATUS = {"negative": RetestTask.Status.RELEASED, "positive": RetestTask.Status.POSITIVE}


def _same_result(task, result):
    if task.status == _RESULT_STATUS[result]:
        return True
    if task.status in _RESULT_STATUS.values():
        return _("The retest's result was recorded already: %(status)s.") % {
            "status": task.get_status_display()
        }
    return None


class ZoneProposalViewSet(ScopedReadOnlyModelViewSet):
    """Buildings proposed as risk zones after a positive single-tube retest (one open proposal
    per building), for the street to confirm — control then draws the building's zone — or to
    dismiss with a note."""

    queryset = ZoneProposal.objects.all()
    serializer_class = ZoneProposalSerializer
    filterset_class = ZoneProposalFilterSet
    select_related = ("building", "area")

    def _answer(self, proposal):
        return Response(self.get_serializer(self.get_queryset().get(pk=proposal.pk)).data)

    @extend_schema(request=ConfirmSerializer, responses={200: ZoneProposalSerializer, **_REFUSALS})
    @action(detail=True, methods=["post"], object_action="change")
    def confirm(self, request, pk=None):
        """Confirm the proposal: the building's risk zone is drawn (control) at `level`, dated from
        the positive retest, for a user who may draw zones there. Confirming again at the same
        level changes nothing."""
        proposal = self.get_object()
        data = _valid(ConfirmSerializer, request)
        level = data.get("level") or None
        _move(
            proposal,
            lambda: services.decide_proposal(
                request.user, proposal, ZoneProposal.Status.CONFIRMED, note=data.get("note", ""), level=level
            ),
            lambda p: _same_confirmation(p, level),
        )
        return self._answer(proposal)

    @extend_schema(request=DismissSerializer, responses={200: ZoneProposalSerializer, **_REFUSALS})
    @action(detail=True, methods=["post"], object_action="change")
    def dismiss(self, request, pk=None):
        """Dismiss the proposal with a note saying why. Dismissing again changes nothing."""
        proposal = self.get_object()
        data = _valid(DismissSerializer, request)
        _move(
            proposal,
            lambda: services.decide_proposal(
                request.user, proposal, ZoneProposal.Status.DISMISSED, note=data["note"]
            ),
            lambda p: p.status == ZoneProposal.Status.DISMISSED or None,
        )
        return self._answer(proposal)


def _same_confirmation(proposal, level):
    if proposal.status != ZoneProposal.Status.CONFIRMED or proposal.zone is None:
        return None
    if level is None or level == proposal.zone.level:
        return True
    return _("The proposal was confirmed already, as %(level)s.") % {
        "level": ZONE_LEVEL_LABELS.get(proposal.zone.level, proposal.zone.level)
    }

"""The key-person ledger over the API. Every state change goes through control.services (and so
through the workflow's transition method); a refused change answers 400 with its message."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from epigrid.control import plans, services
from epigrid.control.filtersets import (
    CheckInFilterSet,
    ControlMeasureFilterSet,
    KeyPersonFilterSet,
    TestRecordFilterSet,
)
from epigrid.control.models import CheckIn, ControlMeasure, HandOver, KeyPerson, TestRecord, Zone
from epigrid.control.serializers import (
    CheckInSerializer,
    ConflictSerializer,
    ControlMeasureSerializer,
    ExtendSerializer,
    HandleAbnormalSerializer,
    HandOverAnswerSerializer,
    HandOverRequestSerializer,
    HandOverSerializer,
    KeyPersonSerializer,
    LiftingApplySerializer,
    LiftingDecisionSerializer,
    RecordCaseSerializer,
    ReleaseEarlySerializer,
    ReleaseSerializer,
    TestRecordSerializer,
    ZoneSerializer,
)
from epigrid.control.zone_filtersets import ZoneFilterSet
from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet
from epigrid.core.scoping import ScopeViolation, check_in_scope


def _refused(exc):
    """A service's refusal (invalid transition, missing reason ...) as a 400 with its message."""
    return serializers.ValidationError(serializers.as_serializer_error(exc))


class KeyPersonViewSet(ScopedModelViewSet):
    """The key-person ledger (重点人员). Registering is search-before-create: a person who already
    has an open entry gets that entry back (200, already_registered) instead of a second one."""

    queryset = KeyPerson.objects.all()
    serializer_class = KeyPersonSerializer
    filterset_class = KeyPersonFilterSet
    select_related = ("person", "area", "protocol")
    prefetch_related = ("measures",)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    @extend_schema(
        request=KeyPersonSerializer,
        responses={
            201: KeyPersonSerializer,
            200: OpenApiResponse(
                KeyPersonSerializer, description="The person already has an open entry: here it is."
            ),
            400: OpenApiResponse(
                description="Invalid data, no active protocol, or a category no longer managed."
            ),
            409: OpenApiResponse(
                ConflictSerializer, description="Already under control in an area you cannot see."
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        """Register a person in the ledger with a plan under the active protocol."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        person, category = data.pop("person"), data.pop("category")
        area = data.pop("area", None) or person.area
        existing = KeyPerson.objects.filter(person=person, status=KeyPerson.Status.OPEN).first()
        if existing is not None:
            return self._existing(existing)
        try:
            protocol = services.active_protocol()
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        if not plans.is_traced(protocol.rules, category):
            raise serializers.ValidationError(
                {
                    "category": [
                        _("Under %(protocol)s, this category is no longer managed.")
                        % {"protocol": protocol.short_name}
                    ]
                }
            )
        try:
            with transaction.atomic():
                entry, created = services.register_key_person(person, category, area, **data)
                if created:
                    check_in_scope(request.user, entry, "add")
        except ScopeViolation as exc:
            raise PermissionDenied(str(exc)) from None
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        if not created:  # registered concurrently in between
            return self._existing(entry)
        return self._answer(entry, status.HTTP_201_CREATED, already_registered=False)

    def _existing(self, entry):
        if not KeyPerson.objects.restrict(self.request.user, "view").filter(pk=entry.pk).exists():
            return Response(
                {
                    "detail": _(
                        "This person is already under control in another area; ask that area to hand the entry over."
                    )
                },
                status=status.HTTP_409_CONFLICT,
            )
        return self._answer(entry, status.HTTP_200_OK, already_registered=True)

    def _answer(self, entry, code, **context):
        entry = self.get_queryset().filter(pk=entry.pk).first() or entry
        serializer = KeyPersonSerializer(entry, context={**self.get_serializer_context(), **context})
        return Response(serializer.data, status=code)

    @extend_schema(
        request=ReleaseSerializer,
        responses={
            200: KeyPersonSerializer,
            400: OpenApiResponse(description="Refused: a step is still running."),
        },
    )
    @action(detail=True, methods=["post"], object_action="change", serializer_class=ReleaseSerializer)
    def release(self, request, pk=None):
        """解除: release the person when every step of the plan is over."""
        return self._entry(_perform(self, request, lambda entry, data: services.release(entry, data["note"])))

    @extend_schema(
        request=ReleaseSerializer,
        responses={
            200: KeyPersonSerializer,
            400: OpenApiResponse(description="The entry has no assistance request."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="assistance-cleared",
        object_action="change",
        serializer_class=ReleaseSerializer,
    )
    def assistance_cleared(self, request, pk=None):
        """The 协查 was answered: its 24 h / 48 h deadline no longer counts."""
        return self._entry(
            _perform(self, request, lambda entry, data: services.clear_assistance(entry, data["note"]))
        )

    @extend_schema(
        request=HandOverSerializer,
        responses={
            200: KeyPersonSerializer,
            202: HandOverRequestSerializer,
            400: OpenApiResponse(description="Refused: the entry is not open, or a hand-over is waiting."),
        },
    )
    @action(detail=True, methods=["post"], object_action="change", serializer_class=HandOverSerializer)
    def handover(self, request, pk=None):
        """The person moved. Into an area where you may change entries the entry moves (200);
        elsewhere a request is made (202) that the receiving area accepts or returns."""
        entry = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            waiting = services.hand_over(entry, data["area"], data["note"], user=request.user)
        except DjangoValidationError as exc:
            raise _refused(exc) from None
        if waiting is None:
            return self._entry(entry)
        body = HandOverRequestSerializer(waiting, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    def _entry(self, entry):
        entry = (
            KeyPerson.objects.select_related(*self.select_related)
            .prefetch_related("measures")
            .get(pk=entry.pk)
        )
        return Response(KeyPersonSerializer(entry, context=self.get_serializer_context()).data)


class ControlMeasureViewSet(ScopedReadOnlyModelViewSet):
    """The steps of every plan (read); extend or release early through the actions."""

    queryset = ControlMeasure.objects.all()
    serializer_class = ControlMeasureSerializer
    filterset_class = ControlMeasureFilterSet
    select_related = ("key_person__person", "protocol")

    @extend_schema(
        request=ExtendSerializer,
        responses={
            200: ControlMeasureSerializer,
            400: OpenApiResponse(description="Refused: the step is over or has no end date."),
        },
    )
    @action(detail=True, methods=["post"], object_action="change", serializer_class=ExtendSerializer)
    def extend(self, request, pk=None):
        """Extend a running step by some days, with a reason; the later steps move with it."""
        return self._measure(
            _perform(
                self, request, lambda measure, data: services.extend(measure, data["days"], data["reason"])
            )
        )

    @extend_schema(
        request=ReleaseEarlySerializer,
        responses={
            200: ControlMeasureSerializer,
            400: OpenApiResponse(description="Refused: the step is not running."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="release-early",
        object_action="change",
        serializer_class=ReleaseEarlySerializer,
    )
    def release_early(self, request, pk=None):
        """End a running step early, with the reason (e.g. the expert assessment)."""
        return self._measure(
            _perform(self, request, lambda measure, data: services.release_early(measure, data["reason"]))
        )

    def _measure(self, measure):
        measure = ControlMeasure.objects.select_related(*self.select_related).get(pk=measure.pk)
        return Response(ControlMeasureSerializer(measure, context=self.get_serializer_context()).data)


class CheckInViewSet(ScopedModelViewSet):
    """Temperature checks (twice a day) with symptoms, for a measure in progress."""

    queryset = CheckIn.objects.all()
    serializer_class = CheckInSerializer
    filterset_class = CheckInFilterSet
    select_related = ("measure", "recorded_by", "handled_by")
    # A mistyped temperature is corrected (logged), never deleted.
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(
        request=HandleAbnormalSerializer,
        responses={
            200: CheckInSerializer,
            400: OpenApiResponse(description="Refused: a normal reading, or already handled."),
        },
    )
    @action(detail=True, methods=["post"], object_action="change", serializer_class=HandleAbnormalSerializer)
    def handle(self, request, pk=None):
        """Record what was done about an abnormal reading; it leaves the work lists."""
        checkin = _perform(
            self,
            request,
            lambda c, data: services.handle_abnormal(c, data["outcome"], data["note"], user=request.user),
        )
        checkin.refresh_from_db()
        return Response(CheckInSerializer(checkin, context=self.get_serializer_context()).data)


class TestRecordViewSet(ScopedModelViewSet):
    """Tests taken on the days of a measure; filter by ?measure=."""

    queryset = TestRecord.objects.all()
    serializer_class = TestRecordSerializer
    filterset_class = TestRecordFilterSet
    select_related = ("measure", "recorded_by")
    http_method_names = ["get", "post", "patch", "head", "options"]


def _perform(view, request, service):
    """Every action on one record: validate the body, call the service with the record and the
    data, answer a refusal (a transition not allowed, a plan not over) with 400 and its message."""
    obj = view.get_object()
    serializer = view.get_serializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        service(obj, serializer.validated_data)
    except DjangoValidationError as exc:
        raise _refused(exc) from None
    return obj


class HandOverViewSet(ScopedReadOnlyModelViewSet):
    """Hand-overs to your areas: accept (the entry moves into your lists) or return with a note."""

    queryset = HandOver.objects.all()
    serializer_class = HandOverRequestSerializer
    select_related = ("key_person__person", "from_area", "to_area")
    filterset_fields = ["status"]

    @extend_schema(request=HandOverAnswerSerializer, responses=HandOverRequestSerializer)
    @action(detail=True, methods=["post"], object_action="change", serializer_class=HandOverAnswerSerializer)
    def accept(self, request, pk=None):
        return self._answer(
            _perform(self, request, lambda h, data: services.accept_hand_over(h, data["note"]))
        )

    @extend_schema(request=HandOverAnswerSerializer, responses=HandOverRequestSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="return",
        object_action="change",
        serializer_class=HandOverAnswerSerializer,
    )
    def return_(self, request, pk=None):
        return self._answer(
            _perform(self, request, lambda h, data: services.return_hand_over(h, data["note"]))
        )

    def _answer(self, handover):
        handover.refresh_from_db()
        return Response(HandOverRequestSerializer(handover, context=self.get_serializer_context()).data)


class ZoneViewSet(ScopedModelViewSet):
    """Risk zones (风险区域). POST draws one under the active protocol (where you may draw zones);
    PATCH changes only its rules text. A new case and the lifting steps (the street applies, the
    district evaluates, the city approves) are actions, each with its own permission where the zone
    lies; a step refused by the rules (too early, a step already taken) answers 400."""

    queryset = Zone.objects.all()
    serializer_class = ZoneSerializer
    filterset_class = ZoneFilterSet
    select_related = ("area__parent", "building", "protocol")
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(
        request=RecordCaseSerializer,
        responses={
            200: ZoneSerializer,
            400: OpenApiResponse(description="The zone is lifted, or a future day."),
        },
    )
    @action(detail=True, methods=["post"], object_action="change", serializer_class=RecordCaseSerializer)
    def case(self, request, pk=None):
        """A new case inside the zone: its case-free count starts again (a later case already
        recorded keeps counting)."""
        return self._zone(_perform(self, request, _record_case))

    @extend_schema(
        request=LiftingApplySerializer,
        responses={
            200: ZoneSerializer,
            400: OpenApiResponse(description="Too early, or the zone is not in force."),
            403: OpenApiResponse(description="Only the street (or above) applies."),
        },
    )
    @action(detail=True, methods=["post"], object_action="apply", serializer_class=LiftingApplySerializer)
    def apply(self, request, pk=None):
        """The street applies for lifting (or downgrading) once the case-free days are reached."""
        return self._zone(
            _perform(
                self, request, lambda zone, data: services.apply_lifting(zone, request.user, data["note"])
            )
        )

    @extend_schema(
        request=LiftingDecisionSerializer,
        responses={
            200: ZoneSerializer,
            400: OpenApiResponse(description="No application waiting, or a refusal without a reason."),
            403: OpenApiResponse(description="Only the district evaluates."),
        },
    )
    @action(
        detail=True, methods=["post"], object_action="evaluate", serializer_class=LiftingDecisionSerializer
    )
    def evaluate(self, request, pk=None):
        """The district passes the application on to the city, or returns it (the zone stays in force)."""
        return self._zone(
            _perform(
                self,
                request,
                lambda zone, data: services.evaluate_lifting(
                    zone, request.user, data["decision"] == "approve", data["note"]
                ),
            )
        )

    @extend_schema(
        request=LiftingDecisionSerializer,
        responses={
            200: ZoneSerializer,
            400: OpenApiResponse(description="Not evaluated yet, or a refusal without a reason."),
            403: OpenApiResponse(description="Only the city approves."),
        },
    )
    @action(
        detail=True, methods=["post"], object_action="approve", serializer_class=LiftingDecisionSerializer
    )
    def approve(self, request, pk=None):
        """The city's decision: the zone drops a level (a new period starts) or is lifted; a
        refusal puts it back in force."""
        return self._zone(
            _perform(
                self,
                request,
                lambda zone, data: services.approve_lifting(
                    zone, request.user, data["decision"] == "approve", data["note"]
                ),
            )
        )

    def _zone(self, zone):
        zone = Zone.objects.select_related(*self.select_related).get(pk=zone.pk)
        return Response(ZoneSerializer(zone, context=self.get_serializer_context()).data)


def _record_case(zone, data):
    if zone.status == Zone.Status.LIFTED:
        raise DjangoValidationError(_("This zone is lifted; draw a new zone for new cases."))
    services.record_case(zone, data["day"])

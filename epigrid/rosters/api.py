"""Rosters over the API: staff (search before create: the same phone in the same area answers the
existing member), teams, posts (+ `plan/`), shifts (+ `gaps/`), assignments (POST assigns through
the rules, DELETE takes a planned person off, `check-in/` and `check-out/` for the person on duty).
Every rule is the service's: a refusal is a 400 with its message, no right a 403, out of scope 404."""

import datetime

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from epigrid.areas.models import Area
from epigrid.core.api import ScopedModelViewSet, call_service
from epigrid.rosters import services
from epigrid.rosters.filtersets import (
    AssignmentFilterSet,
    PostFilterSet,
    ShiftFilterSet,
    StaffMemberFilterSet,
    TeamFilterSet,
)
from epigrid.rosters.models import Assignment, Post, Shift, StaffMember, Team
from epigrid.rosters.serializers import (
    RosterAssignmentSerializer,
    RosterGapQuerySerializer,
    RosterGapSerializer,
    RosterPlanResultSerializer,
    RosterPlanSerializer,
    RosterPostSerializer,
    RosterShiftSerializer,
    RosterStaffMemberSerializer,
    RosterTeamSerializer,
)


class StaffMemberViewSet(ScopedModelViewSet):
    """Cadres sent down, volunteers, community staff: who, where, which unit; phones masked."""

    queryset = StaffMember.objects.all()
    serializer_class = RosterStaffMemberSerializer
    filterset_class = StaffMemberFilterSet
    select_related = ("area", "user")
    http_method_names = ["get", "post", "patch", "head", "options"]

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        member, created = call_service(services.save_member, request.user, **data.validated_data)
        return Response(
            RosterStaffMemberSerializer(member, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def partial_update(self, request, *args, **kwargs):
        member = self.get_object()
        data = self.get_serializer(member, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        member, _created = call_service(services.save_member, request.user, member, **data.validated_data)
        return Response(RosterStaffMemberSerializer(member, context=self.get_serializer_context()).data)


class TeamViewSet(ScopedModelViewSet):
    """Teams: the 五包一 team of a key person, a command centre's task group 专班."""

    queryset = Team.objects.all()
    serializer_class = RosterTeamSerializer
    filterset_class = TeamFilterSet
    select_related = ("area",)
    prefetch_related = ("members",)
    http_method_names = ["get", "post", "patch", "head", "options"]


class PostViewSet(ScopedModelViewSet):
    """Duty posts with their shift pattern (三班倒 by default) and persons needed per shift."""

    queryset = Post.objects.all()
    serializer_class = RosterPostSerializer
    filterset_class = PostFilterSet
    select_related = ("area",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=RosterPlanSerializer, responses={200: RosterPlanResultSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def plan(self, request, pk=None):
        """Stamp out the pattern's shifts for N days; shifts already there are kept."""
        post = self.get_object()
        data = RosterPlanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        created, kept = call_service(
            services.plan_shifts,
            request.user,
            post,
            data.validated_data["first_day"],
            data.validated_data["days"],
        )
        return Response({"created": len(created), "kept": len(kept)})


class ShiftViewSet(ScopedModelViewSet):
    """Shifts with persons needed, assigned and checked in; `gaps/` lists the empty places."""

    queryset = Shift.objects.all()
    serializer_class = RosterShiftSerializer
    filterset_class = ShiftFilterSet
    select_related = ("post",)
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        # Aggregates drop Meta.ordering: the pages need a stable order.
        return services.shift_figures(super().get_queryset()).order_by("start", "id")

    @extend_schema(parameters=[RosterGapQuerySerializer], responses={200: RosterGapSerializer(many=True)})
    @action(detail=False, methods=["get"], object_action="view")
    def gaps(self, request):
        """Per shift in [start, end): needed − assigned (− absent once started), where places are empty."""
        query = RosterGapQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        root = None
        if values.get("area"):
            root = get_object_or_404(Area.objects.restrict(request.user, "view"), code=values["area"])
        start = values.get("start") or timezone.now()
        end = values.get("end") or start + datetime.timedelta(hours=24)
        shifts = Shift.objects.restrict(request.user, "view")
        return Response(RosterGapSerializer(services.gaps(root, start, end, shifts=shifts), many=True).data)


class AssignmentViewSet(ScopedModelViewSet):
    """Who is on which shift; POST assigns (the rules: once a shift, no overlap, the least rest, the
    shift not full), DELETE takes a planned person off; check-in/out by the person on duty."""

    queryset = Assignment.objects.all()
    serializer_class = RosterAssignmentSerializer
    filterset_class = AssignmentFilterSet
    select_related = ("staff", "shift")
    http_method_names = ["get", "post", "delete", "head", "options"]

    def _answer(self, row, code=status.HTTP_200_OK):
        row = Assignment.objects.select_related("staff", "shift").get(pk=row.pk)
        return Response(
            RosterAssignmentSerializer(row, context=self.get_serializer_context()).data, status=code
        )

    def create(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        row = call_service(
            services.assign, request.user, data.validated_data["shift"], data.validated_data["staff"]
        )
        return self._answer(row, status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        row = self.get_object()
        call_service(services.unassign, request.user, row)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: RosterAssignmentSerializer})
    @action(detail=True, methods=["post"], url_path="check-in", object_action="view")
    def check_in(self, request, pk=None):
        """Check in, from 30 min before the start until the end (late after the start)."""
        row = self.get_object()
        if row.staff.user_id != request.user.pk:
            raise PermissionDenied()
        return self._answer(call_service(services.check_in, request.user, row))

    @extend_schema(request=None, responses={200: RosterAssignmentSerializer})
    @action(detail=True, methods=["post"], url_path="check-out", object_action="view")
    def check_out(self, request, pk=None):
        """Check out; the hours inside the shift are credited."""
        row = self.get_object()
        if row.staff.user_id != request.user.pk:
            raise PermissionDenied()
        return self._answer(call_service(services.check_out, request.user, row))

"""Passes over the API: passes (list, detail; issue/, issue-zone/ and {id}/revoke/) and their uses
(list, detail; scan/, idempotent by client_id). Every write goes through passes.services; a broken
rule is a 400 with the service's message, no right a 403, outside the user's scope a 404. A refused
scan is an answer, not an error: 201 with allowed false and the reason (it is recorded)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from epigrid.core.api import ScopedReadOnlyModelViewSet, call_service
from epigrid.passes import services
from epigrid.passes.filtersets import HouseholdPassFilterSet, PassUseFilterSet
from epigrid.passes.models import HouseholdPass, PassUse
from epigrid.passes.serializers import (
    HouseholdPassSerializer,
    IssueSerializer,
    PassScanSerializer,
    PassUseSerializer,
    RevokeSerializer,
    ScanOutcomeSerializer,
    ZoneIssuedSerializer,
    ZoneIssueSerializer,
)


class HouseholdPassViewSet(ScopedReadOnlyModelViewSet):
    """Household passes 临时出入证 and special passes (medical, staff, supply)."""

    queryset = HouseholdPass.objects.all()
    serializer_class = HouseholdPassSerializer
    filterset_class = HouseholdPassFilterSet
    select_related = ("household__building", "area", "holder")

    @extend_schema(request=IssueSerializer, responses={201: HouseholdPassSerializer})
    @action(detail=False, methods=["post"], object_action="add")
    def issue(self, request):
        """One pass for a household; a special pass names its holder (a person of the household)."""
        data = IssueSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        household, kind = values.pop("household"), values.pop("kind")
        household_pass = call_service(services.issue, request.user, household, kind, **values)
        return Response(HouseholdPassSerializer(household_pass).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ZoneIssueSerializer, responses={200: ZoneIssuedSerializer})
    @action(detail=False, methods=["post"], url_path="issue-zone", object_action="add")
    def issue_zone(self, request):
        """A pass for every household of a controlled zone; households holding one keep it."""
        data = ZoneIssueSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        created, kept = call_service(
            services.issue_for_zone,
            request.user,
            values["zone"],
            values["persons"],
            values["days"],
            values.get("valid_until"),
        )
        return Response({"issued": [p.pk for p in created], "kept": kept})

    @extend_schema(request=RevokeSerializer, responses={200: HouseholdPassSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def revoke(self, request, pk=None):
        """Revoke the pass (with the reason): its printed cards stop scanning."""
        household_pass = self.get_object()
        data = RevokeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call_service(services.revoke, request.user, household_pass, data.validated_data["reason"])
        return Response(HouseholdPassSerializer(household_pass).data)


class PassUseViewSet(ScopedReadOnlyModelViewSet):
    """Scans of passes at the gates: exits and returns, allowed or refused with the reason."""

    queryset = PassUse.objects.all()
    serializer_class = PassUseSerializer
    filterset_class = PassUseFilterSet
    select_related = ("person", "checkpoint")

    @extend_schema(
        request=PassScanSerializer, responses={201: ScanOutcomeSerializer, 200: ScanOutcomeSerializer}
    )
    @action(detail=False, methods=["post"], object_action="add")
    def scan(self, request):
        """Record a scan: 201 with the outcome when recorded (refusals too), 200 when the same
        client_id was recorded before (the first answer again) or the code is unknown."""
        data = PassScanSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        checkpoint = None
        if values.get("checkpoint") is not None:
            checkpoint = services.scan_checkpoint(request.user, values["checkpoint"])
            if checkpoint is None:
                raise serializers.ValidationError({"checkpoint": [_("No such checkpoint in your area.")]})
        outcome = call_service(
            services.scan,
            request.user,
            values["code"],
            values["person"],
            values["direction"],
            checkpoint=checkpoint,
            client_id=values.get("client_id"),
            at=values.get("at"),
        )
        recorded = outcome.use is not None and not outcome.replayed
        return Response(
            ScanOutcomeSerializer(outcome).data,
            status=status.HTTP_201_CREATED if recorded else status.HTTP_200_OK,
        )

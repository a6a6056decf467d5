"""Sample transport over the API: labs, and boxes by their barcode with one action per custody
step (open, add-tube, remove-tube, seal, pickup, receive, reroute). Every write goes through
transport.services; a refusal is a 400 with the service's message, outside the step's right a
403, outside the user's scope a 404. Steps a phone may retry are idempotent (see services)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet
from epigrid.core.identity import normalise_text
from epigrid.testing.models import SamplingPoint
from epigrid.transport import services
from epigrid.transport.filtersets import BoxFilterSet, LabFilterSet
from epigrid.transport.models import Box, Lab
from epigrid.transport.serializers import (
    BoxDetailSerializer,
    BoxSerializer,
    LabSerializer,
    OpenBoxSerializer,
    ReceiptAnswerSerializer,
    ReceiveSerializer,
    RerouteSerializer,
    SealSerializer,
    TubeScanSerializer,
)


def _refused(exc):
    return serializers.ValidationError(serializers.as_serializer_error(exc))


def _call(fn, *args, **kwargs):
    """A service call with its refusals as API errors: rules broken → 400, no right → 403."""
    try:
        return fn(*args, **kwargs)
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from None
    except DjangoValidationError as exc:
        raise _refused(exc) from None


class LabViewSet(ScopedModelViewSet):
    """Testing labs (检测机构) that receive boxes; a lab of the city is seen from every area in it."""

    queryset = Lab.objects.all()
    serializer_class = LabSerializer
    filterset_class = LabFilterSet
    select_related = ("area",)
    prefetch_related = ("staff",)
    http_method_names = ["get", "post", "patch", "head", "options"]


class BoxViewSet(ScopedReadOnlyModelViewSet):
    """Transport boxes (转运箱) by barcode, with their tubes and custody chain. A sampler sees the
    boxes of the points they staff, a lab's staff those heading to their lab, a courier and the
    officials those of their area."""

    queryset = Box.objects.all()
    serializer_class = BoxSerializer
    filterset_class = BoxFilterSet
    select_related = ("point", "lab", "picked_up_by", "received_by")
    lookup_field = "barcode"
    lookup_value_regex = "[^/]+"

    def get_serializer_class(self):
        return BoxDetailSerializer if self.detail else BoxSerializer

    def filter_queryset(self, queryset):
        if self.detail:
            # A barcode travels again after its receipt: the URL names the trip in use, else the
            # latest one.
            box = services.current_box(queryset, self.kwargs.get("barcode", ""))
            return queryset.filter(pk=box.pk if box else None)
        return super().filter_queryset(queryset)

    def get_object(self):
        # Barcodes are stored normalised (half-width, upper case): so is the one in the URL.
        self.kwargs["barcode"] = normalise_text(self.kwargs.get("barcode", ""))
        return super().get_object()

    def _answer(self, box, serializer=BoxDetailSerializer, code=status.HTTP_200_OK):
        box = Box.objects.select_related("point", "lab", "picked_up_by", "received_by").get(pk=box.pk)
        return Response(serializer(box).data, status=code)

    @extend_schema(
        request=OpenBoxSerializer,
        responses={
            201: BoxDetailSerializer,
            200: OpenApiResponse(BoxDetailSerializer, description="The box was open at this point already."),
        },
    )
    @action(detail=False, methods=["post"], object_action="add")
    def open(self, request):
        """Open a box at a point for a lab. The barcode of a box already open at the same point
        resumes it (200); a barcode in use elsewhere is refused."""
        data = OpenBoxSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        point = (
            SamplingPoint.objects.restrict(request.user, "view")
            .filter(pk=data.validated_data["point"])
            .first()
        )
        if point is None:
            raise serializers.ValidationError({"point": [_("No such point among yours.")]})
        lab = (
            Lab.objects.restrict(request.user, "view")
            .filter(code=normalise_text(data.validated_data["lab"]))
            .first()
        )
        if lab is None:
            raise serializers.ValidationError({"lab": [_("No such lab.")]})
        box, created = _call(services.open_box, request.user, data.validated_data["barcode"], point, lab)
        return self._answer(box, code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=TubeScanSerializer, responses={200: BoxDetailSerializer})
    @action(detail=True, methods=["post"], url_path="add-tube", object_action="pack")
    def add_tube(self, request, barcode=None):
        """Put a closed or sealed tube of the box's point and round into the open box (a closed
        tube is sealed as it goes in). Scanning a tube that is in the box already changes nothing."""
        box = self.get_object()
        data = TubeScanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _call(services.add_tube, request.user, box, data.validated_data["tube"])
        return self._answer(box)

    @extend_schema(request=TubeScanSerializer, responses={200: BoxDetailSerializer})
    @action(detail=True, methods=["post"], url_path="remove-tube", object_action="pack")
    def remove_tube(self, request, barcode=None):
        """Take a tube out of the open box."""
        box = self.get_object()
        data = TubeScanSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _call(services.remove_tube, request.user, box, data.validated_data["tube"])
        return self._answer(box)

    @extend_schema(request=SealSerializer, responses={200: BoxDetailSerializer})
    @action(detail=True, methods=["post"], object_action="pack")
    def seal(self, request, barcode=None):
        """Seal the box with its tube count. Sealing a sealed box again changes nothing."""
        box = self.get_object()
        data = SealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _call(services.seal_box, request.user, box, data.validated_data.get("count"))
        return self._answer(box)

    @extend_schema(request=None, responses={200: BoxDetailSerializer})
    @action(detail=True, methods=["post"], object_action="pickup")
    def pickup(self, request, barcode=None):
        """The courier takes the sealed box (signed by the requesting user). The same courier
        again changes nothing; a box another courier has is refused with their name."""
        box = self.get_object()
        _call(services.pick_up, request.user, box)
        return self._answer(box)

    @extend_schema(request=ReceiveSerializer, responses={200: ReceiptAnswerSerializer})
    @action(detail=True, methods=["post"], object_action="receive")
    def receive(self, request, barcode=None):
        """Receive the box at its lab: `tubes` are the tubes found in it. Missing tubes (on the
        list, not found) and extra tubes (found, not on the list) are stored on the receipt and
        need a `note`. The same receiver confirming again changes nothing."""
        box = self.get_object()
        data = ReceiveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _call(
            services.receive_box,
            request.user,
            box,
            tubes=data.validated_data.get("tubes"),
            note=data.validated_data.get("note", ""),
        )
        return self._answer(box, ReceiptAnswerSerializer)

    @extend_schema(request=RerouteSerializer, responses={200: BoxDetailSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def reroute(self, request, barcode=None):
        """Send a box that is on its way to another lab, with the reason."""
        box = self.get_object()
        data = RerouteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lab = (
            Lab.objects.restrict(request.user, "view")
            .filter(code=normalise_text(data.validated_data["lab"]))
            .first()
        )
        if lab is None:
            raise serializers.ValidationError({"lab": [_("No such lab.")]})
        _call(services.reroute, request.user, box, lab, data.validated_data["note"])
        return self._answer(box)

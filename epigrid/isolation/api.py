"""Isolation sites over the API: sites with their availability (and the total over the user's
sites), rooms (clean/, out-of-service/, back-in-service/), stays with the moves (allocate/ on the
list; check-in/, check-out/, transfer/, to-hospital/, back-from-hospital/ on a stay). Every move goes through isolation.services; a
refusal is a 400 with the service's message, outside the move's right a 403, outside the user's
scope a 404."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from epigrid.control.models import KeyPerson
from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, call_service
from epigrid.isolation import services
from epigrid.isolation.filtersets import (
    ReadingFilterSet,
    RoomFilterSet,
    SiteFilterSet,
    StayFilterSet,
    WasteHandoverFilterSet,
)
from epigrid.isolation.models import Reading, Room, Site, Stay, WasteHandover
from epigrid.isolation.serializers import (
    AllocateSerializer,
    AvailabilitySerializer,
    BackFromHospitalSerializer,
    CheckOutSerializer,
    PayerSerializer,
    ReadingSerializer,
    RecordReadingSerializer,
    RoomMoveSerializer,
    RoomSerializer,
    SiteSerializer,
    StayMoveSerializer,
    StaySerializer,
    TestResultSerializer,
    ToHospitalSerializer,
    TransferSerializer,
    WasteHandoverSerializer,
)


class SiteViewSet(ScopedModelViewSet):
    """Isolation sites (集中隔离点) with their availability: capacity − checked in − allocated."""

    queryset = Site.objects.all()
    serializer_class = SiteSerializer
    filterset_class = SiteFilterSet
    select_related = ("area",)
    prefetch_related = ("staff",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return services.with_availability(super().get_queryset())

    @extend_schema(responses={200: AvailabilitySerializer})
    @action(detail=False, methods=["get"])
    def availability(self, request):
        """Places per open site the user sees and their total (city-wide for the city's command)."""
        return Response(AvailabilitySerializer(services.availability(request.user)).data)


class RoomViewSet(ScopedModelViewSet):
    """Rooms of the sites; the status changes only through the moves."""

    queryset = Room.objects.all()
    serializer_class = RoomSerializer
    filterset_class = RoomFilterSet
    select_related = ("site",)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _move(self, request, fn, *args, **kwargs):
        room = self.get_object()
        data = RoomMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call_service(fn, request.user, room, *args, **kwargs)
        room.refresh_from_db()
        return Response(RoomSerializer(room).data)

    @extend_schema(request=RoomMoveSerializer, responses={200: RoomSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def clean(self, request, pk=None):
        """Cleaned and disinfected: the room is free again."""
        return self._move(request, services.mark_clean)

    @extend_schema(request=RoomMoveSerializer, responses={200: RoomSerializer})
    @action(detail=True, methods=["post"], url_path="out-of-service", object_action="change")
    def out_of_service(self, request, pk=None):
        """Take a free or cleaning room out of service."""
        return self._move(request, services.set_out_of_service, True, note=request.data.get("note", ""))

    @extend_schema(request=RoomMoveSerializer, responses={200: RoomSerializer})
    @action(detail=True, methods=["post"], url_path="back-in-service", object_action="change")
    def back_in_service(self, request, pk=None):
        """An out-of-service room is free again."""
        return self._move(request, services.set_out_of_service, False)


class StayViewSet(ScopedReadOnlyModelViewSet):
    """Stays of persons in rooms: allocated → checked in → checked out, or transferred."""

    queryset = Stay.objects.all()
    serializer_class = StaySerializer
    filterset_class = StayFilterSet
    select_related = ("person", "room")

    def _answer(self, stay, code=status.HTTP_200_OK):
        stay = Stay.objects.select_related("person", "room").get(pk=stay.pk)
        return Response(StaySerializer(stay).data, status=code)

    @extend_schema(request=AllocateSerializer, responses={201: StaySerializer})
    @action(detail=False, methods=["post"], object_action="add")
    def allocate(self, request):
        """Allocate a room to a person: one person a room unless as the companion of a minor, an
        elderly or a disabled person in it."""
        data = AllocateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        entry = None
        if values.get("key_person"):
            entry = KeyPerson.objects.restrict(request.user, "view").filter(pk=values["key_person"]).first()
            if entry is None:
                raise serializers.ValidationError({"key_person": [_("No such key-person entry.")]})
        stay = call_service(
            services.allocate,
            request.user,
            values["person"],
            values["room"],
            entry=entry,
            companion_of=values.get("companion_of"),
            note=values.get("note", ""),
        )
        return self._answer(stay, status.HTTP_201_CREATED)

    @extend_schema(request=StayMoveSerializer, responses={200: StaySerializer})
    @action(detail=True, methods=["post"], url_path="check-in", object_action="change")
    def check_in(self, request, pk=None):
        """The person arrived."""
        return self._answer(self._run(request, services.check_in))

    @extend_schema(request=CheckOutSerializer, responses={200: StaySerializer})
    @action(detail=True, methods=["post"], url_path="check-out", object_action="change")
    def check_out(self, request, pk=None):
        """The person left (or never came): the room goes to cleaning (or is free again). A person
        checked in for a centralized step ends it through control (before its planned end only
        with `early_reason`); the plan's next step starts and the community is to receive them."""
        stay = self.get_object()
        data = CheckOutSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        stay = call_service(
            services.check_out,
            request.user,
            stay,
            note=values.get("note", ""),
            early_reason=values.get("early_reason", ""),
        )
        return self._answer(stay)

    @extend_schema(request=PayerSerializer, responses={200: StaySerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def payer(self, request, pk=None):
        """Who pays the stay's nights: government, self, or an employer by name."""
        stay = self.get_object()
        data = PayerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return self._answer(
            call_service(services.set_payer, request.user, stay, values["payer"], values.get("employer", ""))
        )

    @extend_schema(request=TestResultSerializer, responses={200: StaySerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def test(self, request, pk=None):
        """Today's protocol test of the person (result "pending" = sampled), recorded in control."""
        stay = self.get_object()
        data = TestResultSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call_service(services.record_test, request.user, stay, data.validated_data["result"])
        return self._answer(stay)

    @extend_schema(request=TransferSerializer, responses={200: StaySerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def transfer(self, request, pk=None):
        """Move the person (and companions) to a free room; answers the new stay."""
        return self._answer(self._run(request, services.transfer, note=True, serializer=TransferSerializer))

    @extend_schema(request=ToHospitalSerializer, responses={200: StaySerializer})
    @action(detail=True, methods=["post"], url_path="to-hospital", object_action="change")
    def to_hospital(self, request, pk=None):
        """The person is taken to hospital (`note`: which hospital, why): the room is given up, the
        centralized step goes hospitalized in control. Again: the same answer, nothing changed."""
        stay = self.get_object()
        data = ToHospitalSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(
            call_service(services.to_hospital, request.user, stay, data.validated_data.get("note", ""))
        )

    @extend_schema(request=BackFromHospitalSerializer, responses={200: StaySerializer})
    @action(detail=True, methods=["post"], url_path="back-from-hospital", object_action="change")
    def back_from_hospital(self, request, pk=None):
        """The person of this hospital stay is back: checked in to `room` (a new stay, answered),
        the step runs again. The same return again answers the same stay."""
        return self._answer(
            self._run(request, services.back_from_hospital, note=True, serializer=BackFromHospitalSerializer)
        )

    def _run(self, request, fn, note=False, serializer=StayMoveSerializer):
        stay = self.get_object()
        data = serializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        args = (data.validated_data["room"],) if "room" in data.validated_data else ()
        kwargs = {"note": data.validated_data.get("note", "")} if note else {}
        return call_service(fn, request.user, stay, *args, **kwargs)


class ReadingViewSet(ScopedReadOnlyModelViewSet):
    """Temperature checks at the sites (twice a day). POST records one through the service:
    idempotent per stay, day and slot (201 when created, 200 with the row already there)."""

    queryset = Reading.objects.all()
    serializer_class = ReadingSerializer
    filterset_class = ReadingFilterSet
    select_related = ("stay__person", "stay__room")

    @extend_schema(
        request=RecordReadingSerializer, responses={201: ReadingSerializer, 200: ReadingSerializer}
    )
    def create(self, request):
        data = RecordReadingSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        reading, created = call_service(
            services.record_reading,
            request.user,
            values["stay"],
            values["temperature"],
            symptoms=values.get("symptoms", ""),
            day=values.get("day"),
            slot=values.get("slot"),
        )
        reading = Reading.objects.select_related("stay__person", "stay__room").get(pk=reading.pk)
        return Response(
            ReadingSerializer(reading).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class WasteHandoverViewSet(ScopedReadOnlyModelViewSet):
    """Medical-waste handovers 医疗废物交接 of the sites. POST records one (the caller signs as the
    site's staff); sign/ records the collector's signature (idempotent)."""

    queryset = WasteHandover.objects.all()
    serializer_class = WasteHandoverSerializer
    filterset_class = WasteHandoverFilterSet
    select_related = ("site", "handed_over_by")

    @extend_schema(request=WasteHandoverSerializer, responses={201: WasteHandoverSerializer})
    def create(self, request):
        data = WasteHandoverSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        handover = call_service(services.record_waste, request.user, values.pop("site"), **values)
        return Response(WasteHandoverSerializer(handover).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: WasteHandoverSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def sign(self, request, pk=None):
        """The collector signs as the bags leave the site."""
        handover = call_service(services.collector_signs, request.user, self.get_object())
        return Response(WasteHandoverSerializer(handover).data)

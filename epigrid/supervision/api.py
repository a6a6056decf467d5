"""Supervision items over the API: list and detail as the pages read them, POST raises an item,
and one action per move (start/, submit/, sign-off/, send-back/, cancel/, assign/, photos/). Every
write goes through supervision.services: a refusal is a 400 with the service's message, outside
the right a 403, outside the user's scope a 404."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from epigrid.core.api import ScopedReadOnlyModelViewSet, call_service
from epigrid.supervision import services
from epigrid.supervision.filtersets import ItemFilterSet
from epigrid.supervision.models import Item
from epigrid.supervision.serializers import (
    ItemAssignSerializer,
    ItemNoteSerializer,
    ItemPhotoSerializer,
    ItemPhotosSerializer,
    ItemRaiseSerializer,
    ItemReasonSerializer,
    ItemSerializer,
    ItemSubmitSerializer,
)

RELATED = ("area", "raised_in", "escalated_to", "responsible", "raised_by", "signed_off_by", "source_type")


class ItemViewSet(ScopedReadOnlyModelViewSet):
    """Supervision items 督导: a problem, its responsible person and deadline, to sign-off."""

    queryset = Item.objects.all()
    serializer_class = ItemSerializer
    filterset_class = ItemFilterSet
    select_related = RELATED
    prefetch_related = ("photos",)
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _answer(self, item, code=status.HTTP_200_OK):
        fresh = Item.objects.select_related(*RELATED).prefetch_related("photos").get(pk=item.pk)
        return Response(ItemSerializer(fresh).data, status=code)

    def _data(self, serializer_class):
        data = serializer_class(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return data.validated_data

    @extend_schema(request=ItemRaiseSerializer, responses={201: ItemSerializer})
    def create(self, request, *args, **kwargs):
        values = self._data(ItemRaiseSerializer)
        item = call_service(
            services.raise_item,
            user=request.user,
            area=values["area"],
            title=values["title"],
            description=values["description"],
            category=values["category"],
            found_by=values["found_by"],
            responsible=values["responsible"],
            deadline=values["due_at"],
        )
        return self._answer(item, status.HTTP_201_CREATED)

    @extend_schema(request=ItemAssignSerializer, responses={200: ItemSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def assign(self, request, pk=None):
        values = self._data(ItemAssignSerializer)
        return self._answer(
            call_service(
                services.assign, request.user, self.get_object(), values["responsible"], values["due_at"]
            )
        )

    @extend_schema(request=None, responses={200: ItemSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def start(self, request, pk=None):
        return self._answer(call_service(services.start, request.user, self.get_object()))

    @extend_schema(request=ItemSubmitSerializer, responses={200: ItemSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def submit(self, request, pk=None):
        item = self.get_object()
        values = self._data(ItemSubmitSerializer)
        return self._answer(
            call_service(services.submit, request.user, item, values["note"], values["photos"])
        )

    @extend_schema(request=ItemNoteSerializer, responses={200: ItemSerializer})
    @action(detail=True, methods=["post"], url_path="sign-off", object_action="signoff")
    def sign_off(self, request, pk=None):
        item = self.get_object()
        return self._answer(
            call_service(services.sign_off, request.user, item, self._data(ItemNoteSerializer)["note"])
        )

    @extend_schema(request=ItemReasonSerializer, responses={200: ItemSerializer})
    @action(detail=True, methods=["post"], url_path="send-back", object_action="signoff")
    def send_back(self, request, pk=None):
        item = self.get_object()
        return self._answer(
            call_service(services.send_back, request.user, item, self._data(ItemReasonSerializer)["reason"])
        )

    @extend_schema(request=ItemReasonSerializer, responses={200: ItemSerializer})
    @action(detail=True, methods=["post"], object_action="view")
    def cancel(self, request, pk=None):
        item = self.get_object()
        return self._answer(
            call_service(services.cancel, request.user, item, self._data(ItemReasonSerializer)["reason"])
        )

    @extend_schema(request=ItemPhotosSerializer, responses={201: ItemPhotoSerializer(many=True)})
    @action(detail=True, methods=["post"], object_action="view")
    def photos(self, request, pk=None):
        item = self.get_object()
        values = self._data(ItemPhotosSerializer)
        stored = call_service(services.add_photos, request.user, item, values["photos"], values["kind"])
        return Response(ItemPhotoSerializer(stored, many=True).data, status=status.HTTP_201_CREATED)

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse

from epigrid.core.api import ScopedModelViewSet
from epigrid.people import services
from epigrid.people.filtersets import PersonFilterSet
from epigrid.people.models import DocumentType, Person
from epigrid.people.serializers import (
    MergeSerializer,
    PersonConflictSerializer,
    PersonSerializer,
    RevealedSerializer,
    RevealRequestSerializer,
)


class PersonViewSet(ScopedModelViewSet):
    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    filterset_class = PersonFilterSet
    select_related = ("area",)
    prefetch_related = ("tags",)

    @extend_schema(responses={201: PersonSerializer, 409: PersonConflictSerializer})
    def create(self, request, *args, **kwargs):
        # Search before create, as the page does: a known document never becomes a second record.
        data = request.data if hasattr(request.data, "get") else {}
        doc_type = data.get("doc_type") or DocumentType.RESIDENT_ID
        existing = services.find_by_document(doc_type, data.get("doc_number") or "")
        if existing is not None:
            # Telling that a number is registered answers a lookup: counted like the search's.
            try:
                services.charge_lookups(request.user, [str(data.get("doc_number") or "")])
            except services.LookupLimitReached as exc:
                return Response({"detail": exc.messages[0]}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            return self._conflict(existing)
        try:
            return super().create(request, *args, **kwargs)
        except IntegrityError:
            # A concurrent or retried request registered the same document in between; the
            # unique constraint refused this one and the transaction was rolled back.
            return self._conflict(services.find_by_document(doc_type, data.get("doc_number") or ""))

    def _conflict(self, existing):
        if (
            existing is not None
            and Person.objects.restrict(self.request.user, "view").filter(pk=existing.pk).exists()
        ):
            body = {
                "detail": _("This person is already registered; here is the record."),
                "existing": reverse("person-detail", args=[existing.pk], request=self.request),
            }
        else:
            # Outside the user's scope: say that it exists, nothing of the other area's data.
            body = {
                "detail": _(
                    "A person with this document is already registered in another area. Ask that community to hand the record over."
                )
            }
        return Response(body, status=status.HTTP_409_CONFLICT)

    @extend_schema(request=RevealRequestSerializer, responses=RevealedSerializer)
    @action(detail=True, methods=["post"], object_action="reveal", serializer_class=RevealRequestSerializer)
    def reveal(self, request, pk=None):
        """Full document number and phone of one person; needs a reason and is logged."""
        person = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            revealed = services.reveal(person, serializer.validated_data["reason"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"reason": exc.messages}) from None
        return Response(RevealedSerializer(revealed).data)

    @extend_schema(request=MergeSerializer, responses=PersonSerializer)
    @action(detail=True, methods=["post"], object_action="merge", serializer_class=MergeSerializer)
    def merge(self, request, pk=None):
        """Merge the duplicate record into this one (needs merge here and change on the duplicate)."""
        survivor = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.merge(
                survivor, serializer.validated_data["duplicate"], serializer.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None
        survivor = self.get_queryset().get(pk=survivor.pk)  # tags gained from the duplicate
        return Response(PersonSerializer(survivor, context=self.get_serializer_context()).data)

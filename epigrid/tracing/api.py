"""Contact tracing over the API: teams, clusters, cases (open on the list; mark/, stops/, contacts/
on a case; graph/ on the list), contacts (confirm/, dismiss/). Every move goes through
tracing.services; a refusal is a 400 with the service's message, outside the right a 403, outside
the user's scope a 404. Persons appear by id and name: never an ID number or a phone."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from epigrid.core.api import ScopedModelViewSet, ScopedReadOnlyModelViewSet, call_service
from epigrid.tracing import chains, services
from epigrid.tracing.filtersets import CaseFilterSet, ClusterFilterSet, ContactFilterSet, TeamFilterSet
from epigrid.tracing.models import Case, Cluster, Contact, Team
from epigrid.tracing.serializers import (
    AddContactSerializer,
    CaseSerializer,
    ClusterSerializer,
    ContactSerializer,
    GraphSerializer,
    MarkSerializer,
    NoteSerializer,
    OpenCaseSerializer,
    StopSerializer,
    TeamSerializer,
)


class TeamViewSet(ScopedModelViewSet):
    queryset = Team.objects.all()
    serializer_class = TeamSerializer
    filterset_class = TeamFilterSet
    select_related = ("area",)
    prefetch_related = ("members",)
    http_method_names = ["get", "post", "patch", "head", "options"]


class ClusterViewSet(ScopedModelViewSet):
    queryset = Cluster.objects.all()
    serializer_class = ClusterSerializer
    filterset_class = ClusterFilterSet
    select_related = ("area",)
    http_method_names = ["get", "post", "patch", "head", "options"]


class CaseViewSet(ScopedReadOnlyModelViewSet):
    """Cases under investigation; opened with POST on the list (the person's case if they have one)."""

    queryset = Case.objects.all()
    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    select_related = ("person", "area", "protocol", "source_contact")

    def _answer(self, case, code=status.HTTP_200_OK):
        case = Case.objects.select_related(*self.select_related).get(pk=case.pk)
        return Response(CaseSerializer(case).data, status=code)

    @extend_schema(request=OpenCaseSerializer, responses={201: CaseSerializer, 200: CaseSerializer})
    @action(detail=False, methods=["post"], url_path="open", object_action="add")
    def open(self, request):
        """Open the case of a person (200 with their case when they already have one)."""
        data = OpenCaseSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        person = fields.pop("person")
        case, created = call_service(services.open_case, request.user, person, **fields)
        return self._answer(case, status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=MarkSerializer, responses={200: CaseSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def mark(self, request, pk=None):
        """Stop a clock: the positive reported, the trajectory finished, the preliminary report."""
        case = self.get_object()
        data = MarkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._answer(call_service(services.mark, request.user, case, data.validated_data["step"]))

    @extend_schema(request=StopSerializer, responses={200: StopSerializer(many=True), 201: StopSerializer})
    @action(detail=True, methods=["get", "post"], object_action="view")
    def stops(self, request, pk=None):
        """The trajectory (GET) or one more stop (POST)."""
        case = self.get_object()
        if request.method == "GET":
            return Response(StopSerializer(case.trajectory.all(), many=True).data)
        if not Case.objects.restrict(request.user, "change").filter(pk=case.pk).exists():
            raise PermissionDenied()
        data = StopSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stop = call_service(services.add_stop, request.user, case, **data.validated_data)
        return Response(StopSerializer(stop).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AddContactSerializer, responses={200: ContactSerializer(many=True), 201: ContactSerializer}
    )
    @action(detail=True, methods=["get", "post"], object_action="view")
    def contacts(self, request, pk=None):
        """The case's contacts (GET) or one more (POST; the same person again answers 200 with their record)."""
        case = self.get_object()
        if request.method == "GET":
            rows = case.contacts.select_related("person").prefetch_related("became_cases")
            return Response(ContactSerializer(rows, many=True).data)
        if not Case.objects.restrict(request.user, "change").filter(pk=case.pk).exists():
            raise PermissionDenied()
        data = AddContactSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        person = fields.pop("person")
        contact, created = call_service(services.add_contact, request.user, case, person, **fields)
        return Response(
            ContactSerializer(contact).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(responses={200: GraphSerializer})
    @action(detail=False, methods=["get"])
    def graph(self, request):
        """The chain graph of the cases listed (same filters as the list) and their contacts."""
        cases = self.filter_queryset(self.get_queryset())
        contacts = Contact.objects.restrict(request.user, "view").filter(case__in=cases.values("pk"))
        return Response(chains.build(cases, contacts))


class ContactViewSet(ScopedReadOnlyModelViewSet):
    queryset = Contact.objects.all()
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    select_related = ("person",)
    prefetch_related = ("became_cases",)

    def _move(self, request, fn):
        contact = self.get_object()
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        call_service(fn, request.user, contact, data.validated_data["note"])
        contact = Contact.objects.select_related("person").get(pk=contact.pk)
        return Response(ContactSerializer(contact).data)

    @extend_schema(request=NoteSerializer, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def confirm(self, request, pk=None):
        """Confirm: a close or secondary contact enters the key-person ledger. Again: no change."""
        return self._move(request, services.confirm_contact)

    @extend_schema(request=NoteSerializer, responses={200: ContactSerializer})
    @action(detail=True, methods=["post"], object_action="change")
    def dismiss(self, request, pk=None):
        """Not a contact (the note says why)."""
        return self._move(request, services.dismiss_contact)

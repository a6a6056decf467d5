"""Daily reports over the API: the report forms (read), the submissions (list scoped; POST sends a
report, idempotent per form, unit and day: 201 the first time, 200 after) and the roll-up
(`rollup/?form=&day=&area=`: per child area and the missing units)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from epigrid.core.api import ScopedModelViewSet, call_service
from epigrid.core.scoping import within
from epigrid.reports import services
from epigrid.reports.models import ReportForm, Submission
from epigrid.reports.serializers import (
    ReportFormSerializer,
    RollupQuerySerializer,
    SubmissionSerializer,
    SubmitSerializer,
)


class ReportFormViewSet(viewsets.ReadOnlyModelViewSet):
    """Report forms: which units send them, by when, and their fields (the same everywhere)."""

    queryset = ReportForm.objects.all()
    serializer_class = ReportFormSerializer
    lookup_field = "code"


class SubmissionViewSet(ScopedModelViewSet):
    """Daily and zero reports of the units in the user's scope."""

    queryset = Submission.objects.all()
    serializer_class = SubmissionSerializer
    select_related = ("form", "unit", "submitted_by")
    http_method_names = ["get", "post", "head", "options"]
    filterset_fields = ["day", "zero", "late"]

    @extend_schema(request=SubmitSerializer, responses={200: SubmissionSerializer, 201: SubmissionSerializer})
    def create(self, request, *args, **kwargs):
        data = SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        form, sender = v["form"], None
        if form.sender_kind:
            kind = form.senders
            sender = kind.visible(request.user).select_related(kind.area_field).filter(pk=v["sender"]).first()
            if sender is None:
                raise NotFound
            unit = kind.area_of(sender)
            # A record's own sender (an enterprise's contact) need not follow the area's reports.
            seen = services.may_send_for(request.user, form, sender)
        else:
            unit = v["unit"]
            seen = False
        if not (seen or within(unit.path, request.user.scope_paths("reports.view_submission"))):
            raise NotFound
        existed = services.submission_for(form, unit, sender.pk if sender else None, v["day"]).exists()
        row = call_service(
            services.submit,
            request.user,
            form,
            unit,
            v["day"],
            v["values"],
            v["explanations"],
            zero=v["zero"],
            sender=sender,
        )
        row = self.get_queryset().filter(pk=row.pk).first() or row
        return Response(
            SubmissionSerializer(row).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("form", str, required=True),
            OpenApiParameter("day", str, required=True, description="YYYY-MM-DD"),
            OpenApiParameter("area", str, required=True, description="area code"),
        ],
        responses={200: dict},
    )
    @action(detail=False, methods=["get"])
    def rollup(self, request):
        """Per child area: expected units, received, on time, late, zero, missing, the sums; and
        the units not yet reported."""
        query = RollupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        form, day, area = (query.validated_data[k] for k in ("form", "day", "area"))
        if not within(area.path, request.user.scope_paths("reports.view_submission")):
            raise NotFound(_("No such area in your scope."))
        rows = services.rollup(form, day, area)
        return Response(
            {
                "form": form.code,
                "day": day,
                "area": area.code,
                "rows": [_row(r) for r in rows],
                "total": _row({**services.totals(rows, form), "area": area}),
                "missing": [
                    {
                        "area": m["area"].code,
                        "name": m["area"].name,
                        **({"sender": m["sender"].pk, "sender_name": str(m["sender"])} if "sender" in m else {}),
                        "officers": [
                            {"username": u.username, "name": u.get_full_name(), "phone": u.shown_phone}
                            for u in m["officers"]
                        ],
                    }
                    for m in services.missing_units(form, day, area, viewer=request.user)
                ],
            }
        )


def _row(r):
    keys = ("expected", "received", "on_time", "late", "zero", "missing")
    return {
        "area": r["area"].code,
        "name": r["area"].name,
        **{k: r[k] for k in keys},
        "sums": {k: (float(v) if not isinstance(v, int) else v) for k, v in r["sums"].items()},
    }

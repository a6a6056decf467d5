"""The dashboard's tiles over the API (/api/v1/dashboard/?area=CODE): the same figures as the page,
each with the URL of the list behind it, counted as that list counts (dashboard.tiles)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from epigrid.areas.models import Area
from epigrid.dashboard import services
from epigrid.dashboard.views import payload


class DashboardViewSet(viewsets.ViewSet):
    """The dashboard's figures for the user's areas, or one area of their subtree (`area`)."""

    # Reads no model of its own: each tile reads its list's model through restrict (the router and
    # the schema want a queryset; the areas are what `area` names).
    queryset = Area.objects.none()
    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "area", str, description="Area code inside your subtree (default: your own level)."
            ),
            OpenApiParameter("charts", bool, description="Include the charts' data (trends, coverage)."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def list(self, request):
        """Tiles {key, label, group, value, url, as_of}; with charts=true also trends and coverage."""
        area, tops = services.resolve(request.user, request.query_params.get("area", "").strip())
        if not services.visible_tiles(request.user, area):
            raise PermissionDenied()
        charts = request.query_params.get("charts", "").lower() in ("1", "true", "yes")
        return Response(payload(request, area, tops, charts=charts))

"""The round's coverage, live: district → street → community → grid → building → household, each
row linking one level down. The counts come from `testing.services.coverage` and
`household_coverage` as they stand (no cache), and the page re-fetches its panel with htmx every
few seconds, so the command centre watches the scans arrive.

Scope: the node shown must lie inside the user's `testing.view_sampledperson` scope (404
otherwise) and inside or above the round's areas (404: the round has nothing there)."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from epigrid.areas.models import Area, Building, Household, Level
from epigrid.core.scoping import within
from epigrid.core.views import get_scoped_or_404
from epigrid.testing import services
from epigrid.testing.models import Campaign

COVERAGE_PERM = "testing.view_sampledperson"
REFRESH_SECONDS = 12


def campaign_for(user, pk):
    """The round, if the user may see it (404 otherwise) and sees coverage at all (403)."""
    if not user.has_scoped_perm(COVERAGE_PERM):
        raise PermissionDenied
    return get_scoped_or_404(Campaign, user, pk)


def resolve_node(user, campaign, code=None, perm=COVERAGE_PERM):
    """The area whose figures the page shows: the one asked for (`code`), or by default the
    round's area as far as the user's scope reaches. 404 outside the user's scope or the round."""
    paths = user.scope_paths(perm)
    covered = list(campaign.areas.all())
    if code:
        node = Area.objects.filter(code=code).first()
        if node is None or not within(node.path, paths):
            raise Http404
        related = any(node.path.startswith(a.path) or a.path.startswith(node.path) for a in covered)
        if not related:
            raise Http404
        return node
    default = covered[0] if len(covered) == 1 else campaign.area
    if within(default.path, paths):
        return default
    # The user's own areas the round covers: a grid worker lands on their grid.
    own = Area.objects.filter(path__in=paths or []).order_by("path")
    for area in own:
        if any(area.path.startswith(a.path) for a in covered):
            return area
    raise Http404


def resolve_building(grid, building_id):
    if not building_id:
        return None
    if grid.level != Level.GRID or not str(building_id).isdigit():
        raise Http404
    return get_object_or_404(Building, pk=building_id, area=grid)


def totals(rows):
    """A head row summed from rows (household_coverage's rows inside one building)."""
    residents = sum(r["residents"] for r in rows)
    exempt = sum(r["exempt"] for r in rows)
    sampled = sum(r["sampled"] for r in rows)
    expected = max(residents - exempt, 0)
    sampled = min(sampled, expected)
    return {
        "residents": residents,
        "expected": expected,
        "sampled": sampled,
        "exempt": exempt,
        "missed": expected - sampled,
        "coverage": round(100 * sampled / expected, 1) if expected else None,
    }


def breadcrumb(user, campaign, node, perm=COVERAGE_PERM):
    """The node's ancestors the user may open on this page, then the node."""
    paths = user.scope_paths(perm)
    covered = [a.path for a in campaign.areas.all()]
    trail = []
    for area in [*node.ancestors(), node]:
        if within(area.path, paths) and any(
            area.path.startswith(p) or p.startswith(area.path) for p in covered
        ):
            trail.append(area)
    return trail


class CoverageView(LoginRequiredMixin, View):
    """GET /testing/<round>/coverage/?area=CODE[&building=ID]; with htmx only the panel."""

    def get(self, request, pk):
        campaign = campaign_for(request.user, pk)
        node = resolve_node(request.user, campaign, request.GET.get("area"))
        building = resolve_building(node, request.GET.get("building"))
        ctx = {
            "campaign": campaign,
            "node": node,
            "building": building,
            "refresh_seconds": REFRESH_SECONDS,
            "trail": breadcrumb(request.user, campaign, node),
            **self.figures(request, campaign, node, building),
        }
        template = "testing/coverage_panel.html" if request.htmx else "testing/coverage.html"
        return TemplateResponse(request, template, ctx)

    def figures(self, request, campaign, node, building):
        base = f"?{urlencode({'area': node.code})}"
        if node.level < Level.GRID:
            head, rows = services.coverage(campaign, node)
            areas = {a.pk: a for a in Area.objects.filter(pk__in=[r["area_id"] for r in rows])}
            for row in rows:
                area = areas[row["area_id"]]
                row["label"] = area.name
                row["url"] = f"?{urlencode({'area': area.code})}"
            child_level = Level(node.level + 1).label
            return {"head": head, "rows": rows, "child_label": child_level, "missed_url": None}
        missed_query = {"area": node.code}
        if building is None:
            head, _children = services.coverage(campaign, node)
            rows = services.household_coverage(campaign, node)
            names = dict(
                Building.objects.filter(pk__in=[r["key"] for r in rows if r["key"]]).values_list("pk", "name")
            )
            for row in rows:
                if row["key"]:
                    row["label"] = names.get(row["key"], "—")
                    row["url"] = f"{base}&{urlencode({'building': row['key']})}"
                else:
                    row["label"], row["url"] = _("No household recorded"), None
            rows.sort(key=lambda r: (r["key"] is None, r["label"]))
            child_label = _("Building")
        else:
            rows = services.household_coverage(campaign, node, building)
            head = totals(rows)
            households = {
                h.pk: h
                for h in Household.objects.filter(pk__in=[r["key"] for r in rows]).select_related("building")
            }
            may_open = request.user.has_scoped_perm("areas.view_household")
            for row in rows:
                household = households.get(row["key"])
                row["label"] = household.address if household else "—"
                row["url"] = household.get_absolute_url() if household and may_open else None
                row["sort"] = (household.unit, household.room) if household else ("", "")
            rows.sort(key=lambda r: r["sort"])
            child_label = _("Household")
            missed_query["building"] = building.pk
        missed_url = f"{reverse('testing:missed', args=[campaign.pk])}?{urlencode(missed_query)}"
        return {"head": head, "rows": rows, "child_label": child_label, "missed_url": missed_url}

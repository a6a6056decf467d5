"""The dashboard pages (/dashboard/): the desk page, the wall screen 大屏, the charts' JSON and the
daily brief PDF. One set of figures behind all four (`dashboard.services`), each a scoped list's
count linking to that list. `?area=CODE` drills down inside the user's subtrees (404 outside)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.areas.models import Area
from epigrid.audit.services import log_export
from epigrid.core.pdf import pdf_response
from epigrid.dashboard import pdf, services, snapshot

# The wall screen re-reads its figures this often (seconds); the counts are kept per user for at
# most services.CACHE_SECONDS, so each re-read counts again.
REFRESH_SECONDS = 30


def _scope(request):
    area, tops = services.resolve(request.user, request.GET.get("area", "").strip())
    if not services.visible_tiles(request.user, area):
        raise PermissionDenied
    return area, tops


def _context(request, area, tops):
    rows = services.tiles(request, area)
    home = services.home_area(area, tops)
    return {
        "area": area,
        "home": home,
        "tops": tops,
        "trail": services.breadcrumbs(area, tops),
        "children": services.children(area, tops),
        "groups": services.grouped(rows),
        "as_of": min((row["as_of"] for row in rows), default=timezone.now()),
        "cache_seconds": services.max_age_seconds(),
        "area_code": area.code if area is not None else "",
        "refresh_seconds": REFRESH_SECONDS,
        "chart_labels": chart_labels(),
    }


def chart_labels():
    """The charts' words, translated here and handed to dashboard.js as JSON data."""
    return {
        "keypersons": _("New key persons"),
        "tubes": _("Tubes sampled"),
        "positives": _("Positive results"),
        "pooled_positives": _("Pooled positive results"),
        "coverage": _("Coverage %"),
        "sampled": _("Sampled"),
        "expected": _("Expected"),
        "no_round": _("No testing round covers this area."),
        "round": _("Round"),
    }


@login_required
def desk(request):
    area, tops = _scope(request)
    return TemplateResponse(request, "dashboard/desk.html", _context(request, area, tops))


@login_required
def screen(request):
    area, tops = _scope(request)
    return TemplateResponse(request, "dashboard/screen.html", _context(request, area, tops))


def payload(request, area, tops, charts=True):
    """The figures as JSON: the page's tiles with their lists' URLs, and the charts' data."""
    now = timezone.now()
    rows = services.tiles(request, area, now=now)
    home = services.home_area(area, tops)
    counted = min((row["as_of"] for row in rows), default=now)
    data = {
        "as_of": counted.isoformat(),
        "cache_seconds": services.max_age_seconds(),
        "area": {"code": home.code, "name": home.name, "level": home.level} if home is not None else None,
        "tiles": [{**row, "as_of": row["as_of"].isoformat()} for row in rows],
    }
    if charts:
        snap = snapshot.current(now, parts=("trends", "coverage"))
        data["trends"] = services.trends(request.user, area, today=timezone.localdate(now), snap=snap)
        data["coverage"] = services.coverage(request.user, area, snap=snap)
        data["categories"] = services.categories(rows)
    return data


@login_required
def data(request):
    area, tops = _scope(request)
    return JsonResponse(payload(request, area, tops))


@login_required
def brief(request):
    """The printable daily brief 疫情防控简报 for the area (audited as an export)."""
    area, tops = _scope(request)
    body = pdf.brief(request, area, tops)
    home = services.home_area(area, tops)
    log_export(Area, 1, f"dashboard brief area={home.code if home else ''}", unmasked=False)
    stamp = timezone.localdate().strftime("%Y%m%d")
    return pdf_response(body, f"brief-{home.code if home else 'all'}-{stamp}.pdf")

"""The sampling desk pages: pick a desk among one's posts, then scan at it (phone first, one hand,
offline). Every scan goes to the batch API (`testing.services.ingest`) from the page's queue; the
page itself writes nothing."""

from functools import lru_cache
from pathlib import Path

from csp.constants import WASM_UNSAFE_EVAL
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from epigrid.people.models import DocumentType
from epigrid.testing import services
from epigrid.testing.models import Campaign, Desk, SamplingPoint

SCAN_PERM = "testing.add_sample"
SERVICE_WORKER = Path(__file__).resolve().parent / "static" / "testing" / "desk-sw.js"


def _points(user):
    """Points where the user may scan: a sampler only at the points they staff (scope_binding)."""
    if not user.has_scoped_perm(SCAN_PERM):
        raise PermissionDenied(_("Only samplers posted at a point use the sampling desk."))
    return SamplingPoint.objects.restrict(user, perm=SCAN_PERM)


@login_required
def desk_home(request):
    """Round → point → desk, among the running rounds' desks the user may scan at."""
    desks = (
        Desk.objects.filter(
            point__in=_points(request.user).values("pk"),
            is_active=True,
            point__campaign__status=Campaign.Status.RUNNING,
        )
        .select_related("point", "point__campaign")
        .order_by("-point__campaign__starts_at", "point__campaign_id", "point__name", "point_id", "name")
    )
    rounds = []
    for desk in desks:
        campaign, point = desk.point.campaign, desk.point
        if not rounds or rounds[-1]["campaign"].pk != campaign.pk:
            rounds.append({"campaign": campaign, "points": []})
        points = rounds[-1]["points"]
        if not points or points[-1]["point"].pk != point.pk:
            points.append({"point": point, "desks": []})
        points[-1]["desks"].append(desk)
    return render(request, "testing/desk_home.html", {"rounds": rounds})


def _strings():
    """What desk.js says, translated here (the page's language), handed over as JSON data."""
    return {
        "scanTube": _("Scan a tube barcode"),
        "scanPerson": _("Scan ID card or personal code"),
        "nth": _("Person %(n)s"),
        "changeTube": _("Change tube"),
        "changeTubeSpoken": _("Change tube"),
        "tubeOpened": _("Tube %(tube)s opened: scan the persons."),
        "tubeReplaced": _("The empty tube was put aside; tube %(tube)s is open now."),
        "closedEarly": _("Tube %(tube)s closed with %(n)s persons."),
        "sealed": _("Tube %(tube)s sealed."),
        "scanTubeFirst": _("Scan the tube barcode first."),
        "notTube": _("Not a tube barcode of this round: %(reason)s"),
        "badId": _("Not a valid resident ID: scan it again or type it in."),
        "savedOffline": _("Saved offline: it will be sent when the network is back."),
        "accepted": _("Received"),
        "duplicate": _("Received before"),
        "refused": _("Refused"),
        "unregistered": _("Not in the registry: the grid will register this person."),
        "queued": _("Waiting to upload"),
        "online": _("Online"),
        "offline": _("Offline"),
        "queue": _("To upload %(n)s"),
        "loginAgain": _("Your session has ended: log in again; the scans stay saved here."),
        "nameRequired": _("Type the person's name."),
        "noCamera": _("The camera cannot be opened here: %(reason)s"),
        "cameraNotSupported": _("This browser cannot read barcodes from the camera."),
        "emptyTube": _("The tube is empty: nothing to close."),
        "noTubeToSeal": _("No closed tube to seal."),
        "prefix": _("it does not start with %(prefix)s"),
        "length": _("it has %(n)s characters, not %(length)s"),
        "pattern": _("it does not match the round's pattern"),
        "checksum": _("its check digit is wrong (a misread)"),
        "characters": _("it has characters a barcode cannot have"),
        "nPersons": _("%(n)s persons"),
        "tube": _("Tube"),
        # Naming an unregistered person after the scan.
        "nameFor": _("Document %(number)s"),
        "nameLabel": _("Name · %(number)s"),
        "named": _("Name saved: %(name)s"),
        "nameDuplicate": _("This person already has a name."),
        # Pre-formed groups.
        "groupScan": _("Scan the pre-formed group's code"),
        "groupNeedsNetwork": _("Pre-formed groups need the network: scan the persons one by one."),
        "groupLooking": _("Looking up group %(code)s…"),
        "groupUnknown": _("No pre-formed group %(code)s in this round."),
        "groupFailed": _("The group could not be looked up: try again."),
        "groupTitle": _("Group %(code)s · %(n)s persons"),
        "groupLabel": _("Group %(code)s"),
        "groupNoRoom": _("The tube has room for %(room)s more; the group has %(n)s: change the tube first."),
        "groupTooBig": _(
            "The group has %(n)s persons, more than a tube holds (%(capacity)s): scan them one by one."
        ),
        "groupEmpty": _("This group has no members."),
        "groupQueued": _("Group %(code)s: %(n)s persons added to the tube."),
    }


def _config(request, desk, summary):
    campaign = desk.point.campaign
    open_tube = summary["open_tube"]
    return {
        "user": request.user.pk,
        "desk": desk.pk,
        "deskName": str(desk),
        "campaign": campaign.pk,
        "pooling": campaign.pooling,
        "capacity": campaign.capacity,
        "perHousehold": campaign.per_household,
        "tubeRule": {
            "prefix": campaign.tube_prefix.upper(),
            "length": campaign.tube_length,
            "pattern": campaign.tube_pattern,
            "check": campaign.tube_check,
        },
        "openTube": {"barcode": open_tube.barcode, "count": open_tube.count, "capacity": open_tube.capacity}
        if open_tube
        else None,
        # When the page was made: a saved local state newer than this wins (a cached page offline).
        "renderedAt": timezone.now().isoformat(),
        "batchUrl": reverse("sample-batch"),
        # A pre-formed group's members: desk.js puts the scanned code in place of {code}.
        "groupUrl": reverse("campaign-group", kwargs={"pk": campaign.pk, "code": "CODE"}).replace(
            "/CODE/", "/{code}/"
        ),
        "swUrl": reverse("testing:desk_sw"),
        "scope": reverse("testing:desk_home"),
        "polyfillUrl": static("vendor/barcode-detector/index.js"),
        "wasmUrl": static("vendor/zxing-wasm/zxing_reader.wasm"),
        "strings": _strings(),
    }


# The camera's barcode polyfill compiles ZXing's WebAssembly: only this page allows that.
@csp_update({"script-src": [WASM_UNSAFE_EVAL]})
@login_required
def desk_page(request, pk):
    desk = (
        Desk.objects.filter(pk=pk, point__in=_points(request.user).values("pk"))
        .select_related("point", "point__campaign")
        .first()
    )
    if desk is None:
        raise Http404(_("No such desk among your posts."))
    summary = services.tube_summary(desk)
    return render(
        request,
        "testing/desk.html",
        {
            "desk": desk,
            "point": desk.point,
            "campaign": desk.point.campaign,
            "summary": summary,
            "config": _config(request, desk, summary),
            "document_types": DocumentType.choices,
            "not_started": desk.point.campaign.status == Campaign.Status.PLANNED,
        },
    )


@lru_cache(maxsize=1)
def _worker_source():
    return SERVICE_WORKER.read_bytes()


@require_GET
def service_worker(request):
    """The desk's service worker, served under /testing/desk/ so its scope is the desk pages. No
    login: a worker script holds nothing private, and its update check must not be redirected."""
    response = HttpResponse(_worker_source(), content_type="application/javascript; charset=utf-8")
    # Browsers check for a new worker on each visit; the file must never be served stale.
    response["Cache-Control"] = "no-cache"
    return response

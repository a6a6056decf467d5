"""Pages of sample transport: the box list and page, labs, and a scan page for each custody step —
packing at the point (samplers), pick-up (couriers), receipt with the tube check (lab staff).

Every write goes through transport.services; a refusal comes back as a message on the page and
loses nothing (the scan field is empty and focused again). Reads go through `restrict`: out of
scope → 404, in scope without the step's right → 403."""

from csp.constants import WASM_UNSAFE_EVAL
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.core.views import ObjectDetailView, ObjectEditView, ObjectListView, TransitionView
from epigrid.testing.models import Campaign, SamplingPoint
from epigrid.transport import services
from epigrid.transport.filtersets import BoxFilterSet, LabFilterSet
from epigrid.transport.forms import LabForm, OpenBoxForm, ReceiptForm, RerouteForm, ScanForm, SealForm
from epigrid.transport.models import Box, BoxTube, Lab
from epigrid.transport.tables import BoxTable, LabTable

PACK, PICKUP, RECEIVE = "transport.pack_box", "transport.pickup_box", "transport.receive_box"
LIST_LIMIT = 50
# The scan pages' camera reads codes with ZXing compiled to WebAssembly (the barcode-detector
# polyfill, as on the sampling desk): only these pages allow compiling it.
camera = csp_update({"script-src": [WASM_UNSAFE_EVAL]})


def _error(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


def _holds(user, box, perm):
    return Box.objects.restrict(user, perm=perm).filter(pk=box.pk).exists()


def _require(user, perm, message):
    if not user.has_scoped_perm(perm):
        raise PermissionDenied(message)


def _box_for(user, pk, perm):
    """The box if the user sees it (404 otherwise) and holds `perm` where it lies (403)."""
    box = get_object_or_404(
        Box.objects.restrict(user, "view").select_related("campaign", "point", "lab"), pk=pk
    )
    if not _holds(user, box, perm):
        raise PermissionDenied
    return box


# Boxes


class BoxListView(ObjectListView):
    model = Box
    table_class = BoxTable
    filterset_class = BoxFilterSet
    add_url_name = "transport:pack"
    export_name = "boxes"

    def get_queryset(self):
        # Tubes of boxes still packing are counted (a sealed box shows its count at sealing); a
        # correlated subquery, computed for the page's rows only, not a GROUP BY over the list.
        packed = (
            BoxTube.objects.filter(box=OuterRef("pk"), state=BoxTube.State.PACKED)
            .order_by()
            .values("box")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset()
            .select_related("point", "lab", "picked_up_by")
            .annotate(packed=Coalesce(Subquery(packed), 0))
        )


def box_context(request, box):
    user = request.user
    now = timezone.now()
    entries = list(box.tubes.select_related("added_by", "checked_by").order_by("state", "barcode"))
    events = list(box.events.select_related("user", "point", "lab"))
    return {
        "box": box,
        "now": now,
        "late": box.is_late(now),
        "minutes_left": box.minutes_left(now),
        "minutes_over": -box.minutes_left(now) if (box.minutes_left(now) or 0) < 0 else 0,
        "entries": entries,
        "events": events,
        "reconciliation": services.reconciliation(box) if box.status == Box.Status.RECEIVED else None,
        "can_pack": box.status == Box.Status.OPEN and _holds(user, box, PACK),
        "can_pickup": box.status == Box.Status.SEALED and _holds(user, box, PICKUP),
        "can_receive": box.status in (Box.Status.SEALED, Box.Status.IN_TRANSIT)
        and _holds(user, box, RECEIVE),
        "can_reroute": box.in_use and _holds(user, box, "transport.change_box"),
    }


class BoxDetailView(ObjectDetailView):
    model = Box
    template_name = "transport/box_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "campaign", "point", "lab", "opened_by", "sealed_by", "picked_up_by", "received_by"
            )
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(box_context(self.request, self.object))
        return ctx


class BoxEditView(ObjectEditView):
    """The box's edit page: sending it to another lab, with the reason (the command centre)."""

    model = Box
    form_class = RerouteForm
    template_name = "transport/box_reroute.html"

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["lab"].queryset = Lab.objects.restrict(self.request.user, "view").filter(is_active=True)
        return form

    def form_valid(self, form):
        lab = form.cleaned_data["lab"]
        box = Box.objects.get(pk=self.object.pk)  # the form changed self.object's lab in memory
        try:
            self.object = services.reroute(self.request.user, box, lab, form.cleaned_data["note"])
        except ValidationError as exc:
            for field, errors in getattr(exc, "error_dict", {None: exc.error_list}).items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        messages.success(
            self.request, _("Box %(box)s now goes to %(lab)s.") % {"box": box.barcode, "lab": lab}
        )
        return redirect(self.object.get_absolute_url())


# Labs


class LabListView(ObjectListView):
    model = Lab
    table_class = LabTable
    filterset_class = LabFilterSet
    add_url_name = "transport:lab_add"

    def get_queryset(self):
        return super().get_queryset().select_related("area")


class LabDetailView(ObjectDetailView):
    model = Lab
    template_name = "transport/lab_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        boxes = Box.objects.restrict(self.request.user, "view").filter(lab=self.object)
        by_status = dict(boxes.order_by().values_list("status").annotate(n=Count("id")))
        ctx["box_counts"] = [(value, label, by_status.get(value, 0)) for value, label in Box.Status.choices]
        ctx["staff"] = list(self.object.staff.order_by("username"))
        return ctx


class LabEditView(ObjectEditView):
    model = Lab
    form_class = LabForm


# Packing at the point


def _packing_points(user):
    return SamplingPoint.objects.restrict(user, perm="transport.add_box").filter(
        campaign__status=Campaign.Status.RUNNING
    )


@camera
@login_required
def pack_home(request):
    """Open (or resume) a box at one of the user's points."""
    user = request.user
    _require(user, "transport.add_box", _("Only samplers posted at a point pack boxes."))
    points = _packing_points(user).select_related("campaign").order_by("campaign", "name")
    labs = Lab.objects.restrict(user, "view").filter(is_active=True)
    form = OpenBoxForm(request.POST or None, points=points, labs=labs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            box, created = services.open_box(user, data["code"], data["point"], data["lab"])
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
        else:
            if created:
                messages.success(request, _("Box %(box)s opened: scan its tubes.") % {"box": box.barcode})
            else:
                messages.info(request, _("Box %(box)s is open here: go on scanning.") % {"box": box.barcode})
            return redirect("transport:pack_box", box.pk)
    open_boxes = (
        Box.objects.restrict(user, perm=PACK)
        .filter(status=Box.Status.OPEN)
        .select_related("point", "lab")
        .annotate(n=Count("tubes"))
        .order_by("-opened_at")[:LIST_LIMIT]
    )
    return render(request, "transport/pack_home.html", {"form": form, "open_boxes": open_boxes})


@camera
@login_required
def pack_box(request, pk):
    """Scan tubes into the open box; take one out; seal it."""
    user = request.user
    box = _box_for(user, pk, PACK)
    if request.method == "POST":
        form = ScanForm(request.POST)
        if form.is_valid():
            try:
                entry, created = services.add_tube(user, box, form.cleaned_data["code"])
            except (ValidationError, PermissionDenied) as exc:
                _error(request, exc)
            else:
                if created:
                    messages.success(request, _("Tube %(tube)s is in the box.") % {"tube": entry.barcode})
                else:
                    messages.info(
                        request, _("Tube %(tube)s was in the box already.") % {"tube": entry.barcode}
                    )
        return redirect("transport:pack_box", box.pk)
    if box.status != Box.Status.OPEN:
        return redirect(box.get_absolute_url())
    ctx = box_context(request, box)
    ctx.update(
        {
            "form": ScanForm(),
            "seal_form": SealForm(),
            "packed": [e for e in ctx["entries"] if e.state == BoxTube.State.PACKED],
        }
    )
    return render(request, "transport/pack_box.html", ctx)


class BoxStepView(TransitionView):
    """A step on a box's scan page (`page`), a `step_<name>` method returning (message, where to
    go next or None); a refusal comes back on the scan page."""

    model = Box
    related = ("campaign", "point", "lab")
    page = None

    def move(self, box, data):
        step = getattr(self, f"step_{self.kwargs['step']}", None)
        if step is None:
            raise Http404
        self.done, self.target = step(box)
        return box

    def get_success_message(self, box):
        return self.done

    def get_redirect_url(self, box):
        return getattr(self, "target", None) or reverse(self.page, args=[box.pk])


class PackStepView(BoxStepView):
    """Remove a tube, seal the box, or discard an empty one."""

    object_permission = PACK
    page = "transport:pack_box"

    def step_remove(self, box):
        tube = self.request.POST.get("tube", "")
        services.remove_tube(self.request.user, box, tube)
        return _("Tube %(tube)s taken out.") % {"tube": tube}, None

    def step_seal(self, box):
        form = SealForm(self.request.POST)
        if not form.is_valid():
            raise ValidationError(form.errors["count"])
        box = services.seal_box(self.request.user, box, form.cleaned_data.get("count"))
        done = _("Box %(box)s sealed with %(n)d tubes.") % {"box": box.barcode, "n": box.tube_count}
        return done, box.get_absolute_url()

    def step_discard(self, box):
        services.discard_box(self.request.user, box, _("Opened by mistake"))
        return _("Box %(box)s discarded.") % {"box": box.barcode}, reverse("transport:pack")


# Pick-up


@camera
@login_required
def pickup(request):
    """The courier scans a sealed box: it is theirs now. Lists the boxes waiting at the points of
    their area and the boxes they carry."""
    user = request.user
    _require(user, PICKUP, _("Only couriers pick boxes up."))
    form = ScanForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            _pick(request, form.cleaned_data["code"])
        return redirect("transport:pickup")
    mine = Box.objects.restrict(user, perm=PICKUP)
    rows = mine.select_related("point", "lab").order_by("due_at", "id")
    return render(
        request,
        "transport/pickup.html",
        {
            "form": ScanForm(),
            "now": timezone.now(),
            "waiting": rows.filter(status=Box.Status.SEALED)[:LIST_LIMIT],
            "carrying": rows.filter(status=Box.Status.IN_TRANSIT, picked_up_by=user)[:LIST_LIMIT],
        },
    )


def _pick(request, code):
    user = request.user
    box = services.current_box(Box.objects.restrict(user, "view").select_related("point", "lab"), code)
    if box is None:
        messages.error(request, _("No box %(box)s in your area.") % {"box": code.strip()[:32]})
        return
    try:
        box, picked = services.pick_up(user, box)
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
        return
    due = timezone.localtime(box.due_at).strftime("%H:%M") if box.due_at else "—"
    text = _("Box %(box)s picked up at %(point)s: deliver it to %(lab)s by %(due)s.") % {
        "box": box.barcode,
        "point": box.point.name,
        "lab": box.lab.name,
        "due": due,
    }
    if picked:
        messages.success(request, text)
    else:
        messages.info(request, _("You had picked this box up already.") + " " + text)


# Receipt at the lab


@camera
@login_required
def receive_home(request):
    """The lab scans an arriving box; lists the boxes heading to the user's labs."""
    user = request.user
    _require(user, RECEIVE, _("Only a lab's staff receive boxes."))
    form = ScanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        box = services.current_box(Box.objects.restrict(user, "view"), code)
        if box is None:
            messages.error(request, _("No box %(box)s is heading to your lab.") % {"box": code.strip()[:32]})
        else:
            try:
                box = services.start_receipt(user, box)
            except (ValidationError, PermissionDenied) as exc:
                _error(request, exc)
            else:
                return redirect("transport:receive_box", box.pk)
        return redirect("transport:receive")
    rows = (
        Box.objects.restrict(user, perm=RECEIVE)
        .select_related("point", "lab", "picked_up_by")
        .order_by("due_at", "id")
    )
    return render(
        request,
        "transport/receive_home.html",
        {
            "form": ScanForm(),
            "now": timezone.now(),
            "coming": rows.filter(status__in=(Box.Status.SEALED, Box.Status.IN_TRANSIT))[:LIST_LIMIT],
            "received": rows.filter(status=Box.Status.RECEIVED).order_by("-received_at")[:20],
        },
    )


@camera
@login_required
def receive_box(request, pk):
    """Check the box's tubes (each scan marks one found, or extra) and confirm the receipt."""
    user = request.user
    box = _box_for(user, pk, RECEIVE)
    if request.method == "POST":
        form = ScanForm(request.POST)
        if form.is_valid():
            try:
                entry, outcome = services.check_tube(user, box, form.cleaned_data["code"])
            except (ValidationError, PermissionDenied) as exc:
                _error(request, exc)
            else:
                text = {
                    "found": _("Tube %(tube)s found."),
                    "extra": _("Tube %(tube)s is not on this box's list: kept as extra."),
                    "again": _("Tube %(tube)s was scanned already."),
                }[outcome] % {"tube": entry.barcode}
                (messages.warning if outcome == "extra" else messages.success)(request, text)
        return redirect("transport:receive_box", box.pk)
    if box.status not in (Box.Status.SEALED, Box.Status.IN_TRANSIT):
        return redirect(box.get_absolute_url())
    ctx = box_context(request, box)
    ctx.update(
        {
            "form": ScanForm(),
            "receipt_form": ReceiptForm(),
            "check": services.reconciliation(box),
        }
    )
    return render(request, "transport/receive_box.html", ctx)


class ReceiveStepView(BoxStepView):
    """Undo a tube scan, or confirm the receipt."""

    object_permission = RECEIVE
    page = "transport:receive_box"

    def step_uncheck(self, box):
        services.uncheck_tube(self.request.user, box, self.request.POST.get("tube", ""))
        return None, None

    def step_confirm(self, box):
        note = ReceiptForm(self.request.POST).data.get("note", "")
        box = services.receive_box(self.request.user, box, note=note)
        return _("Box %(box)s received.") % {"box": box.barcode}, box.get_absolute_url()

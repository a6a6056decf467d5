"""Shops-and-markets pages (/markets/): outlets (the page of one with its report history, changes
and alerts), the alerts list, the price trend, baselines and the catalogue, the shop staff ledger,
inspections with the market inspector's phone page, closures with re-inspection, the wildlife
ledger.

Every write goes through markets.services; a refusal comes back as a message on the page. Reads go
through `restrict`: out of scope → 404, in scope without the right → 403."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from epigrid.areas.models import Area
from epigrid.audit.services import history
from epigrid.core.forms import style_form
from epigrid.core.scoping import may
from epigrid.core.views import ObjectDetailView, ObjectEditView, ObjectListView, TransitionView, refusal_text
from epigrid.markets import alerts as calc
from epigrid.markets import reporting, services
from epigrid.markets.filtersets import (
    BaselineFilterSet,
    ClosureFilterSet,
    InspectionFilterSet,
    OutletFilterSet,
    PriceAlertFilterSet,
    ShopStaffFilterSet,
    WildlifeCheckFilterSet,
)
from epigrid.markets.forms import (
    AddStaffForm,
    BaselineForm,
    CloseForm,
    CommodityForm,
    HandleAlertForm,
    InspectionEditForm,
    InspectionForm,
    OutletForm,
    ReinspectForm,
    ShopStaffForm,
    WildlifeCheckForm,
)
from epigrid.markets.models import (
    Baseline,
    Closure,
    Commodity,
    Inspection,
    Outlet,
    PriceAlert,
    ShopStaff,
    WildlifeCheck,
)
from epigrid.markets.tables import (
    CLOSURE_BADGES,
    BaselineTable,
    ClosureTable,
    InspectionTable,
    OutletTable,
    PriceAlertTable,
    ShopStaffTable,
    WildlifeCheckTable,
    badge,
)
from epigrid.people.forms import RevealForm


def _form_errors(form, exc):
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, refusal_text(exc))


def _history_rows(obj, labels):
    return [
        {
            "time": h.time,
            "user": h.user_name,
            "source": labels.get(h.source, h.source),
            "target": labels.get(h.target, h.target),
            "note": h.note,
        }
        for h in history(obj).order_by("time", "pk")
    ]


class _PlainDetailView(ObjectDetailView):
    """A ledger row's page: its fields (markets/object_detail.html) and the edit button."""

    template_name = "markets/object_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["edit_url_name"] = f"markets:{self.model._meta.model_name}_edit"
        ctx["can_change"] = may(self.request.user, self.object, "change")
        return ctx


# Outlets


class OutletListView(ObjectListView):
    template_name = "markets/list.html"
    model = Outlet
    table_class = OutletTable
    filterset_class = OutletFilterSet
    add_url_name = "markets:outlet_add"
    export_name = "markets-outlets"
    import_name = "markets-outlets"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent")


class OutletDetailView(ObjectDetailView):
    model = Outlet
    template_name = "markets/outlet_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        outlet, user = self.object, self.request.user
        items = services.catalogue()
        rows = services.history(outlet)
        for row in rows:
            row["items"] = [(c, row["changes"].get(c.code)) for c in items]
        latest = next((r for r in rows if r["reported"]), None)
        form = reporting.report_form()
        today = timezone.localdate()
        ctx.update(
            {
                "items": items,
                "history": rows,
                "latest": latest,
                "alerts": PriceAlert.objects.restrict(user)
                .filter(outlet=outlet)
                .select_related("commodity")[:30],
                "closures": Closure.objects.restrict(user).filter(outlet=outlet)[:10],
                "inspections": Inspection.objects.restrict(user)
                .filter(outlet=outlet)
                .select_related("inspector")[:10],
                "staff_count": ShopStaff.objects.restrict(user).filter(outlet=outlet, active=True).count(),
                # The reports app's completeness over the history's two weeks (due, received, late).
                "completeness": reporting.completeness(
                    [outlet.pk], today - timedelta(days=services.TREND_DAYS - 1), today
                ).get(outlet.pk)
                if outlet.monitored
                else None,
                "report_url": reporting.fill_url(form, outlet, today)
                if reporting.may_send(user, form, outlet)
                else "",
                "can_reveal": bool(outlet.phone) and user.has_scoped_perm("people.reveal_person"),
                "reveal_form": RevealForm(),
                "can_change": may(user, outlet, "change"),
                "may_close": outlet.is_open and may(user, outlet, perm=services.CLOSE),
                "close_form": CloseForm(),
            }
        )
        return ctx


class OutletEditView(ObjectEditView):
    """Add (search before create: the same name in the same area opens that outlet) or edit."""

    model = Outlet
    form_class = OutletForm

    def form_valid(self, form):
        try:
            outlet, created = services.save_outlet(
                self.request.user,
                Outlet.objects.get(pk=self.object.pk) if self.object else None,
                **form.fields_for_service(),
            )
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
            return self.form_invalid(form)
        if self.object is None and not created:
            messages.warning(
                self.request,
                _("%(name)s is already registered in this area; here it is.") % {"name": outlet.name},
            )
        else:
            messages.success(self.request, _("Saved %(object)s.") % {"object": outlet})
        return redirect(outlet.get_absolute_url())


@login_required
@require_POST
def reveal_phone(request, pk):
    outlet = get_object_or_404(Outlet.objects.restrict(request.user, "view"), pk=pk)
    if not request.user.has_scoped_perm("people.reveal_person"):
        raise PermissionDenied
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render(request, "markets/_revealed.html", {"form": form}, status=200 if request.htmx else 400)
    phone = services.reveal_phone(request.user, outlet, form.cleaned_data["reason"])
    return render(request, "markets/_revealed.html", {"phone": phone})


class CloseView(TransitionView):
    """Close a point until re-inspected; on to the closure."""

    model = Outlet
    object_permission = services.CLOSE
    form_class = CloseForm
    refusals = (ValidationError,)

    def move(self, outlet, data):
        return services.close_outlet(self.request.user, outlet, **data)

    def get_success_message(self, closure):
        return _("%(outlet)s is closed until re-inspected.") % {"outlet": self.object.name}


# Alerts and prices


class PriceAlertListView(ObjectListView):
    template_name = "markets/list.html"
    model = PriceAlert
    table_class = PriceAlertTable
    filterset_class = PriceAlertFilterSet
    export_name = "markets-alerts"

    def get_queryset(self):
        return super().get_queryset().select_related("outlet", "commodity")


class PriceAlertDetailView(ObjectDetailView):
    model = PriceAlert
    template_name = "markets/pricealert_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("outlet__area", "commodity", "handled_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        alert = self.object
        ctx["history_rows"] = _history_rows(alert, dict(PriceAlert.Status.choices))
        ctx["may_handle"] = alert.status == PriceAlert.Status.OPEN and may(self.request.user, alert, "change")
        ctx["handle_form"] = HandleAlertForm()
        ctx["badge"] = badge(
            "text-bg-danger" if alert.status == "open" else "text-bg-light", alert.get_status_display()
        )
        return ctx


class HandleAlertView(TransitionView):
    model = PriceAlert
    object_permission = "markets.change_pricealert"
    form_class = HandleAlertForm
    refusals = (ValidationError,)
    success_message = gettext_lazy("The alert is handled.")

    def move(self, alert, data):
        return services.handle_alert(self.request.user, alert, data["action_taken"])

    def form_invalid(self, form):
        messages.error(self.request, _("Say what was done about the alert."))


@login_required
def trend(request):
    """The price of one item per day over the outlets the user sees (in an area if chosen): mean,
    lowest, highest, against the baseline of the user's area."""
    user = request.user
    if not user.has_scoped_perm("markets.view_outlet"):
        raise PermissionDenied
    items = services.catalogue()
    if not items:
        return render(request, "markets/trend.html", {"items": [], "rows": []})
    code = request.GET.get("item") or items[0].code
    item = next((c for c in items if c.code == code), items[0])
    outlets = Outlet.objects.restrict(user, "view")
    area = None
    if request.GET.get("area"):
        area = get_object_or_404(Area.objects.restrict(user, "view"), code=request.GET["area"])
        outlets = outlets.filter(area__path__startswith=area.path)
    kind = request.GET.get("kind")
    if kind in Outlet.Kind.values:
        outlets = outlets.filter(kind=kind)
    try:
        days = max(7, min(60, int(request.GET.get("days", services.TREND_DAYS))))
    except ValueError:
        days = services.TREND_DAYS
    points = services.price_trend(outlets, item, days=days)
    base_area = area or Area.objects.restrict(user, "view").order_by("path").first()
    baseline = services.baselines_for(base_area).get(item.code) if base_area else None
    top = max([p[3] for p in points] + [baseline or 0]) or 1
    rows = [
        {
            "day": d,
            "mean": m,
            "low": lo,
            "high": hi,
            "n": n,
            "pct": calc.percent_change(m, baseline),
            "top": top,
        }
        for d, m, lo, hi, n in points
    ]
    return render(
        request,
        "markets/trend.html",
        {
            "items": items,
            "item": item,
            "rows": rows,
            "baseline": baseline,
            "area": area,
            "days": days,
            "kinds": Outlet.Kind.choices,
            "kind": kind,
            "top": top,
        },
    )


class BaselineListView(ObjectListView):
    template_name = "markets/list.html"
    model = Baseline
    table_class = BaselineTable
    filterset_class = BaselineFilterSet
    add_url_name = "markets:baseline_add"

    def get_queryset(self):
        return super().get_queryset().select_related("commodity", "area__parent")


class BaselineDetailView(_PlainDetailView):
    model = Baseline


class BaselineEditView(ObjectEditView):
    """Set a baseline: a typed price or the mean of a reference period (services.set_baseline)."""

    model = Baseline
    form_class = BaselineForm

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            row = services.set_baseline(
                self.request.user,
                data["commodity"],
                data["area"],
                price=data.get("price"),
                period_from=data.get("period_from"),
                period_to=data.get("period_to"),
                note=data.get("note", ""),
            )
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved %(object)s.") % {"object": row})
        return redirect("markets:baseline_list")


@login_required
def catalogue(request):
    """The catalogue of the daily report's items with their thresholds (the same everywhere)."""
    if not request.user.has_scoped_perm("markets.view_outlet"):
        raise PermissionDenied
    return render(
        request,
        "markets/catalogue.html",
        {
            "items": Commodity.objects.all(),
            "may_edit": request.user.has_scoped_perm("markets.change_commodity"),
        },
    )


@login_required
def commodity_edit(request, pk=None):
    """Add or edit a catalogue item; its code names the report's fields, so it is fixed once used."""
    if not request.user.has_scoped_perm("markets.change_commodity"):
        raise PermissionDenied
    item = get_object_or_404(Commodity, pk=pk) if pk else None
    form = CommodityForm(request.POST or None, instance=item)
    if item is not None:
        form.fields["code"].disabled = True
    if request.method == "POST" and form.is_valid():
        item = form.save()
        messages.success(request, _("Saved %(object)s.") % {"object": item})
        return redirect("markets:commodity_list")
    return render(
        request, "core/object_edit.html", {"form": form, "object": item, "model_meta": Commodity._meta}
    )


# Shop staff


class ShopStaffListView(ObjectListView):
    template_name = "markets/list.html"
    model = ShopStaff
    table_class = ShopStaffTable
    filterset_class = ShopStaffFilterSet
    add_url_name = "markets:shopstaff_add"
    export_name = "markets-staff"
    import_name = "markets-staff"

    def get_queryset(self):
        return services.staff_with_status(super().get_queryset().select_related("outlet", "person"))


class ShopStaffDetailView(ObjectDetailView):
    model = ShopStaff
    template_name = "markets/shopstaff_detail.html"

    def get_queryset(self):
        return services.staff_with_status(super().get_queryset().select_related("outlet", "person"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        test, valid, key_person = services.describe_status(self.object)
        ctx.update(
            {
                "test": test,
                "valid": valid,
                "key_person": key_person,
                "may_see_person": self.request.user.has_scoped_perm("people.view_person"),
            }
        )
        return ctx


class ShopStaffEditView(ObjectEditView):
    model = ShopStaff
    form_class = ShopStaffForm
    creates = False


@login_required
def add_staff(request):
    """Put a registry person on an outlet's staff, found by their document number."""
    if not request.user.has_scoped_perm("markets.add_shopstaff"):
        raise PermissionDenied
    form = AddStaffForm(
        request.POST or None, user=request.user, initial={"outlet": request.GET.get("outlet")}
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        outlet = data.pop("outlet")
        try:
            row, created = services.add_staff(
                request.user, outlet, data.pop("doc_type"), data.pop("doc_number"), **data
            )
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
        else:
            if created:
                messages.success(
                    request,
                    _("%(name)s is on the staff of %(outlet)s.")
                    % {"name": row.person.name, "outlet": outlet.name},
                )
            else:
                messages.warning(
                    request, _("%(name)s is already on this outlet's staff.") % {"name": row.person.name}
                )
            return redirect(row.get_absolute_url())
    return render(
        request, "core/object_edit.html", {"form": form, "object": None, "model_meta": ShopStaff._meta}
    )


# Inspections, closures, wildlife


class InspectionListView(ObjectListView):
    template_name = "markets/list.html"
    model = Inspection
    table_class = InspectionTable
    filterset_class = InspectionFilterSet
    add_url_name = "markets:inspect"

    def get_queryset(self):
        return super().get_queryset().select_related("outlet", "inspector")


class InspectionDetailView(_PlainDetailView):
    model = Inspection


class InspectionEditView(ObjectEditView):
    model = Inspection
    form_class = InspectionEditForm
    creates = False


@login_required
def inspect(request):
    """The market inspector's phone page: record a visit (closing the outlet if it must be), the
    closures waiting for a re-inspection, the latest wildlife checks."""
    user = request.user
    if not user.has_scoped_perm(services.INSPECT):
        raise PermissionDenied
    form = InspectionForm(
        request.POST or None,
        initial={"outlet": request.GET.get("outlet"), "inspected_on": timezone.localdate()},
    )
    form.fields["outlet"].queryset = Outlet.objects.restrict(user, perm=services.INSPECT)
    style_form(form)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        outlet, result = data.pop("outlet"), data.pop("result")
        try:
            inspection = services.record_inspection(user, outlet, result, **data)
        except (ValidationError, PermissionDenied) as exc:
            _form_errors(form, exc)
        else:
            if inspection.result == Inspection.Result.CLOSED:
                messages.warning(
                    request, _("%(outlet)s is closed until re-inspected.") % {"outlet": outlet.name}
                )
            else:
                messages.success(request, _("Inspection of %(outlet)s recorded.") % {"outlet": outlet.name})
            return redirect("markets:inspect")
    closures = list(
        Closure.objects.restrict(user, "view")
        .filter(status__in=Closure.OPEN_STATES)
        .select_related("outlet__area")
        .order_by("reinspect_due", "closed_on")[:30]
    )
    today = timezone.localdate()
    for c in closures:
        c.badge = badge(CLOSURE_BADGES.get(c.status, ""), c.get_status_display())
        c.overdue = c.reinspect_due is not None and c.reinspect_due < today
        c.may_reinspect = may(user, c, perm=services.REINSPECT)
    recent = (
        Inspection.objects.restrict(user, "view")
        .select_related("outlet")
        .order_by("-inspected_on", "-id")[:10]
    )
    return render(
        request,
        "markets/inspect.html",
        {
            "form": form,
            "closures": closures,
            "recent": recent,
            "reinspect_form": ReinspectForm(),
            "may_wildlife": user.has_scoped_perm("markets.add_wildlifecheck"),
        },
    )


class ClosureListView(ObjectListView):
    template_name = "markets/list.html"
    model = Closure
    table_class = ClosureTable
    filterset_class = ClosureFilterSet
    export_name = "markets-closures"

    def get_queryset(self):
        return super().get_queryset().select_related("outlet")


class ClosureDetailView(ObjectDetailView):
    model = Closure
    template_name = "markets/closure_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("outlet__area", "closed_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        closure = self.object
        ctx["history_rows"] = _history_rows(closure, dict(Closure.Status.choices))
        ctx["badge"] = badge(CLOSURE_BADGES.get(closure.status, ""), closure.get_status_display())
        ctx["may_reinspect"] = (
            closure.status in Closure.OPEN_STATES
            and closure.status != Closure.Status.REINSPECTED
            and may(self.request.user, closure, perm=services.REINSPECT)
        )
        ctx["reinspect_form"] = ReinspectForm()
        return ctx


class ReinspectView(TransitionView):
    """Re-inspect a closed point, from its closure's page or the inspector's phone page."""

    model = Closure
    object_permission = services.REINSPECT
    form_class = ReinspectForm
    refusals = (ValidationError,)
    next_urls = {"inspect": "markets:inspect"}

    def move(self, closure, data):
        return services.reinspect(self.request.user, closure, **data)

    def succeeded(self, closure):
        names = {"outlet": closure.outlet.name}
        if closure.status == Closure.Status.REOPENED:
            messages.success(self.request, _("%(outlet)s is reopened.") % names)
        else:
            messages.warning(self.request, _("%(outlet)s stays closed.") % names)


class WildlifeCheckListView(ObjectListView):
    template_name = "markets/list.html"
    model = WildlifeCheck
    table_class = WildlifeCheckTable
    filterset_class = WildlifeCheckFilterSet
    add_url_name = "markets:wildlifecheck_add"
    export_name = "markets-wildlife"
    import_name = "markets-wildlife"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent")


class WildlifeCheckDetailView(_PlainDetailView):
    model = WildlifeCheck


class WildlifeCheckEditView(ObjectEditView):
    model = WildlifeCheck
    form_class = WildlifeCheckForm

    def get_initial(self):
        return {
            "check_date": timezone.localdate(),
            "checker": self.request.user.get_full_name() or self.request.user.get_username(),
        }

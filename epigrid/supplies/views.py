"""Supplies pages (/supplies/): the stock board with days of cover, stores and a store's page
(stock, ledger, moves, levels), the catalogue, the ledger, the requisition workflow, the donation
register with allocations and certificates, the public allocation table, and purchases made with
donated money (propose, approve and pay, receive into a store).

Every write goes through supplies.services; a refusal comes back as a message on the page.
Reads go through `restrict`: out of scope → 404, in scope without the right → 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from epigrid.audit.services import history, log_export
from epigrid.core.forms import style_form
from epigrid.core.pdf import pdf_response
from epigrid.core.scoping import may, may_at
from epigrid.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TransitionView,
    get_scoped_or_404,
    restrict_form_choices,
)
from epigrid.supplies import services
from epigrid.supplies.filtersets import (
    AllocationFilterSet,
    DonationFilterSet,
    DonationLineFilterSet,
    ItemFilterSet,
    MovementFilterSet,
    PurchaseFilterSet,
    RequisitionFilterSet,
    StockLevelFilterSet,
    StoreFilterSet,
)
from epigrid.supplies.forms import (
    AllocateForm,
    DecisionForm,
    DonationForm,
    ItemForm,
    LevelsForm,
    MoveForm,
    PurchaseEditForm,
    PurchaseForm,
    ReasonForm,
    RequisitionForm,
    StoreForm,
    money_lines,
)
from epigrid.supplies.models import (
    Allocation,
    Donation,
    DonationLine,
    Item,
    Movement,
    Purchase,
    PurchaseLine,
    Requisition,
    RequisitionLine,
    StockLevel,
    Store,
)
from epigrid.supplies.pdf import certificate
from epigrid.supplies.tables import (
    AllocationTable,
    DonationTable,
    ItemTable,
    MovementTable,
    PurchaseTable,
    RequisitionTable,
    StockLevelTable,
    StoreTable,
    cover_badge,
    number,
    purchase_badge,
    requisition_badge,
)

S = Requisition.Status


def _error(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


def _form_errors(request, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _needs(request, perm):
    if not request.user.has_scoped_perm(perm):
        raise PermissionDenied


class SuppliesListView(ObjectListView):
    """A supplies list with the module's links above the table."""

    template_name = "supplies/list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["sees_donations"] = self.request.user.has_scoped_perm("supplies.view_donation")
        return ctx


# -- the stock board, stores, the catalogue, the ledger ------------------------------------------


class StockBoardView(SuppliesListView):
    """Every item at every store the user sees: under the minimum first, then fewest days."""

    model = StockLevel
    table_class = StockLevelTable
    filterset_class = StockLevelFilterSet
    export_name = "supplies-stock"
    import_name = "stock-counts"
    template_name = "supplies/board.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("store__area", "item")
            .order_by("store__area__path", "store__name", "item__name")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["below_count"] = services.below_minimum(user).count()
        ctx["to_decide_count"] = (
            Requisition.objects.restrict(user).filter(services.to_decide_q(user)).count()
            if user.has_scoped_perm(services.APPROVE)
            else 0
        )
        ctx["open_count"] = Requisition.objects.restrict(user).filter(services.open_requisitions_q()).count()
        ctx["can_add"] = user.has_scoped_perm(services.MOVE)
        ctx["sees_donations"] = user.has_scoped_perm("supplies.view_donation")
        return ctx


class StoreListView(SuppliesListView):
    model = Store
    table_class = StoreTable
    filterset_class = StoreFilterSet
    add_url_name = "supplies:store_add"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent")


class StoreEditView(ObjectEditView):
    model = Store
    form_class = StoreForm


class StoreDetailView(ObjectDetailView):
    model = Store
    template_name = "supplies/store_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        store, user = self.object, self.request.user
        levels = services.stock_board(StockLevel.objects.filter(store=store))
        for level in levels:
            level.cover = cover_badge(level)
        may_move = may(user, store, perm=services.MOVE)
        ctx.update(
            {
                "store": store,
                "levels": levels,
                "movements": Movement.objects.filter(store=store)
                .select_related("item", "counterpart", "by")
                .order_by("-at", "-id")[:30],
                "requisitions": Requisition.objects.restrict(user)
                .filter(store=store)
                .prefetch_related("lines__item")
                .order_by("-requested_at")[:10],
                "may_move": may_move,
                "may_levels": may(user, store, perm=services.SET_LEVELS),
                "may_request": may(user, store, perm=services.REQUEST),
                "move_form": MoveForm(user=user, store=store) if may_move else None,
                "levels_form": LevelsForm(user=user),
                "keepers": list(store.keepers.order_by("username")),
            }
        )
        return ctx


@login_required
@require_POST
def move(request, pk):
    store = get_scoped_or_404(Store, request.user, pk)
    if not may(request.user, store, perm=services.MOVE):
        raise PermissionDenied
    form = MoveForm(request.POST, user=request.user, store=store)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(store.get_absolute_url())
    data, user = form.cleaned_data, request.user
    calls = {
        "receipt": lambda: services.receive_stock(
            user, store, data["item"], data["quantity"], data["reason"]
        ),
        "issue": lambda: services.issue(user, store, data["item"], data["quantity"], data["reason"]),
        "count": lambda: services.count(user, store, data["item"], data["quantity"], data["reason"]),
        "transfer": lambda: services.transfer(
            user, store, data["target"], data["item"], data["quantity"], data["reason"]
        ),
    }
    try:
        calls[data["kind"]]()
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Recorded: %(item)s.") % {"item": data["item"]})
    return redirect(store.get_absolute_url())


@login_required
@require_POST
def set_levels(request, pk):
    store = get_scoped_or_404(Store, request.user, pk)
    if not may(request.user, store, perm=services.SET_LEVELS):
        raise PermissionDenied
    form = LevelsForm(request.POST, user=request.user)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(store.get_absolute_url())
    data = form.cleaned_data
    try:
        services.set_levels(
            request.user, store, data["item"], data["daily_use"], data["min_days"], data["max_days"]
        )
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Saved the levels of %(item)s.") % {"item": data["item"]})
    return redirect(store.get_absolute_url())


class ItemListView(SuppliesListView):
    model = Item
    table_class = ItemTable
    filterset_class = ItemFilterSet
    add_url_name = "supplies:item_add"


class ItemDetailView(ObjectDetailView):
    model = Item
    template_name = "supplies/item_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        levels = StockLevel.objects.restrict(self.request.user).filter(item=self.object)
        rows = services.stock_board(levels)
        for level in rows:
            level.cover = cover_badge(level)
        ctx["levels"] = rows
        ctx["item"] = self.object
        return ctx


class ItemEditView(ObjectEditView):
    model = Item
    form_class = ItemForm

    def get_success_url(self):
        return self.object.get_absolute_url()


class MovementListView(SuppliesListView):
    model = Movement
    table_class = MovementTable
    filterset_class = MovementFilterSet
    export_name = "supplies-movements"

    def get_queryset(self):
        return super().get_queryset().select_related("store", "item", "counterpart", "by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_add"] = False  # movements are recorded on a store's page
        return ctx


# -- requisitions ---------------------------------------------------------------------------------


class RequisitionListView(SuppliesListView):
    model = Requisition
    table_class = RequisitionTable
    filterset_class = RequisitionFilterSet
    add_url_name = "supplies:requisition_add"
    export_name = "supplies-requisitions"

    def get_queryset(self):
        lines = Prefetch("lines", queryset=RequisitionLine.objects.select_related("item"))
        return super().get_queryset().select_related("store").prefetch_related(lines)


@login_required
def requisition_add(request):
    _needs(request, services.REQUEST)
    user = request.user
    stores = Store.objects.restrict(user, perm=services.REQUEST).filter(is_active=True)
    items = Item.objects.restrict(user, "view").filter(is_active=True)
    initial = {"store": request.GET.get("store")} if request.GET.get("store", "").isdigit() else {}
    form = RequisitionForm(request.POST or None, stores=stores, items=items, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = services.request(
                user, data["store"], data["lines"], data["purpose"], data["needed_by"], data["priority"]
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", None) or [str(exc)]))
        else:
            messages.success(request, _("Submitted %(req)s for approval.") % {"req": req})
            return redirect(req.get_absolute_url())
    return render(request, "supplies/form.html", {"form": form, "title": _("Ask for supplies")})


class RequisitionDetailView(ObjectDetailView):
    model = Requisition
    template_name = "supplies/requisition_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "store__area", "supplier", "requested_by", "approver", "delivered_by", "received_by"
            )
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        req, user = self.object, self.request.user
        labels = dict(S.choices)
        may_decide = (
            req.status == S.SUBMITTED
            and user.has_scoped_perm(services.APPROVE)
            and services.may_approve(user, req.store)
            and req.requested_by_id != user.pk
        )
        ctx.update(
            {
                "req": req,
                "badge": requisition_badge(req),
                "lines": list(req.lines.select_related("item")),
                "movements": req.movements.select_related("store", "item").order_by("at", "id"),
                "history_rows": [
                    {
                        "time": h.time,
                        "user": h.user_name,
                        "target": labels.get(h.target, h.target),
                        "note": h.note,
                    }
                    for h in history(req).order_by("time", "pk")
                ],
                "may_decide": may_decide,
                "may_deliver": req.status == S.APPROVED
                and req.supplier is not None
                and may(user, req.supplier, perm=services.DELIVER),
                "may_receive": req.status == S.DELIVERED and may(user, req.store, perm=services.RECEIVE),
                "may_cancel": req.status in (S.SUBMITTED, S.APPROVED)
                and may(user, req.store, perm=services.REQUEST),
                "decision_form": DecisionForm(
                    suppliers=Store.objects.restrict(user, "view")
                    .filter(is_active=True)
                    .exclude(pk=req.store_id)
                )
                if may_decide
                else None,
                "reason_form": ReasonForm(),
            }
        )
        return ctx


def _quantities(request, prefix, lines):
    """Per-line quantities posted as <prefix>_<line id>; blank keeps the default."""
    out = {}
    for line in lines:
        raw = (request.POST.get(f"{prefix}_{line.pk}") or "").strip()
        if raw:
            out[line.pk] = raw
    return out


class RequisitionMove(TransitionView):
    """A move of a requisition from its page; its quantities and reasons are posted per line."""

    model = Requisition
    context_object_name = "req"


class ApproveView(RequisitionMove):
    permission = services.APPROVE
    success_message = gettext_lazy("%(req)s: approved.")

    def move(self, req, data):
        form = DecisionForm(self.request.POST, suppliers=Store.objects.restrict(self.request.user, "view"))
        if not form.is_valid() or form.cleaned_data["supplier"] is None:
            raise ValidationError(_("Choose the supplying store."))
        quantities = _quantities(self.request, "approved", req.lines.all())
        return services.approve(
            self.request.user, req, form.cleaned_data["supplier"], quantities, form.cleaned_data["note"]
        )


class RejectView(RequisitionMove):
    permission = services.APPROVE
    success_message = gettext_lazy("%(req)s: rejected.")

    def move(self, req, data):
        return services.reject(self.request.user, req, self.request.POST.get("reason", ""))


class DeliverView(RequisitionMove):
    permission = services.DELIVER
    success_message = gettext_lazy("%(req)s: delivered.")

    def move(self, req, data):
        return services.deliver(
            self.request.user,
            req,
            _quantities(self.request, "delivered", req.lines.all()),
            self.request.POST.get("carrier", "")[:100],
        )


class ReceiveView(RequisitionMove):
    permission = services.RECEIVE
    success_message = gettext_lazy("%(req)s: received.")

    def move(self, req, data):
        quantities = _quantities(self.request, "received", req.lines.all())
        received = {
            line.pk: (quantities.get(line.pk, line.delivered), self.request.POST.get(f"reason_{line.pk}", ""))
            for line in req.lines.all()
        }
        return services.receive(self.request.user, req, received)


class CancelView(RequisitionMove):
    permission = services.REQUEST
    success_message = gettext_lazy("%(req)s: cancelled.")

    def move(self, req, data):
        return services.cancel(self.request.user, req, self.request.POST.get("reason", ""))


# -- donations ------------------------------------------------------------------------------------


class DonationListView(ObjectListView):
    model = Donation
    table_class = DonationTable
    filterset_class = DonationFilterSet
    add_url_name = "supplies:donation_add"
    export_name = "supplies-donations"
    import_name = "donations"
    template_name = "supplies/donation_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .prefetch_related(Prefetch("lines", queryset=DonationLine.objects.select_related("item")))
        )


@login_required
def donation_add(request):
    _needs(request, services.DONATE)
    form = DonationForm(
        request.POST or None, user=request.user, initial={"received_on": timezone.localdate()}
    )
    restrict_form_choices(form, request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            donation, created = services.register_donation(
                request.user,
                number=data["number"],
                donor_name=data["donor_name"],
                donor_kind=data["donor_kind"],
                anonymous=data["anonymous"],
                received_on=data["received_on"],
                area=data["area"],
                recipient_unit=data["recipient_unit"],
                store=data["store"],
                directed=data["directed"],
                directed_to=data["directed_to"],
                note=data["note"],
                lines=data["lines"],
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", None) or [str(exc)]))
        else:
            if created:
                messages.success(request, _("Registered %(donation)s.") % {"donation": donation})
            else:
                messages.warning(request, _("%(donation)s was registered before.") % {"donation": donation})
            return redirect(donation.get_absolute_url())
    return render(request, "supplies/form.html", {"form": form, "title": _("Register a donation")})


class DonationDetailView(ObjectDetailView):
    model = Donation
    template_name = "supplies/donation_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area", "store", "registered_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        donation, user = self.object, self.request.user
        may_allocate = may_at(user, services.ALLOCATE, donation.area)
        ctx.update(
            {
                "donation": donation,
                "rows": services.allocation_table(donation.lines.all()),
                "may_allocate": may_allocate,
                "allocate_form": AllocateForm(donation=donation, user=user) if may_allocate else None,
                "may_purchase": may_at(user, services.PURCHASE, donation.area),
            }
        )
        return ctx


@login_required
@require_POST
def allocate(request, pk):
    _needs(request, services.ALLOCATE)
    donation = get_scoped_or_404(Donation, request.user, pk)
    form = AllocateForm(request.POST, donation=donation, user=request.user)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(donation.get_absolute_url())
    data = form.cleaned_data
    try:
        allocation = services.allocate(
            request.user,
            data["line"],
            data["quantity"],
            data["recipient_name"],
            data["reason"],
            data["recipient_store"],
        )
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Allocated: %(allocation)s.") % {"allocation": allocation})
    return redirect(donation.get_absolute_url())


@login_required
def donation_certificate(request, pk):
    donation = get_scoped_or_404(Donation, request.user, pk)
    log_export(Donation, 1, f"certificate={donation.number}", False)
    return pdf_response(certificate(donation), f"certificate-{donation.number}.pdf")


class AllocationListView(SuppliesListView):
    model = Allocation
    table_class = AllocationTable
    filterset_class = AllocationFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("line__donation", "line__item", "approved_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_add"] = False  # allocations are made on a donation's page
        return ctx


@login_required
def public_table(request):
    """捐赠款物分配公示表: every donation line the user sees with received, allocated (to whom, why,
    approved by whom) and in stock, computed from the ledger."""
    _needs(request, "supplies.view_donation")
    # Lines are read with their donation's right (no role holds one of its own).
    lines = DonationLine.objects.restrict(request.user, perm="supplies.view_donation")
    filterset = DonationLineFilterSet(request.GET, queryset=lines, request=request)
    style_form(filterset.form)
    rows = services.allocation_table(filterset.qs if filterset.is_valid() else lines.none())
    return render(
        request,
        "supplies/public_table.html",
        {"rows": rows, "totals": services.totals(rows), "filter": filterset, "number": number},
    )


# -- purchases 采购: donated money spent on goods ----------------------------------------------------
# New code kept apart from the requisition moves above (which a generic core view is taking over):
# a purchase's moves answer the same way — a refusal is a message on the purchase's page.

PS = Purchase.Status


class PurchaseListView(SuppliesListView):
    model = Purchase
    table_class = PurchaseTable
    filterset_class = PurchaseFilterSet
    add_url_name = "supplies:purchase_add"
    export_name = "supplies-purchases"
    template_name = "supplies/purchase_list.html"

    def get_queryset(self):
        lines = Prefetch("lines", queryset=PurchaseLine.objects.select_related("item"))
        return super().get_queryset().select_related("store", "area").prefetch_related(lines)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["to_decide_count"] = (
            Purchase.objects.restrict(user).filter(services.purchases_to_decide_q(user)).count()
            if user.has_scoped_perm(services.APPROVE_PURCHASE)
            else 0
        )
        return ctx


@login_required
def purchase_add(request):
    """A purchase proposed; `?line=<money line>` (from a donation's page) fills in its money and unit."""
    _needs(request, services.PURCHASE)
    user = request.user
    initial = {"purchased_on": timezone.localdate()}
    line_id = request.GET.get("line", "")
    if line_id.isdigit():
        line = money_lines(user).filter(pk=line_id).first()
        if line is not None:
            initial.update({"fund_1": line.pk, "area": line.donation.area_id})
    if request.GET.get("store", "").isdigit():
        initial["store"] = request.GET["store"]
    form = PurchaseForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            purchase = services.propose_purchase(
                user,
                area=data["area"],
                supplier=data["supplier"],
                invoice=data["invoice"],
                purchased_on=data["purchased_on"],
                reason=data["reason"],
                store=data["store"],
                recipient_name=data["recipient_name"],
                lines=data["lines"],
                funding=data["funding"],
                pooled=data["pooled"],
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", None) or [str(exc)]))
        else:
            messages.success(request, _("Submitted %(purchase)s for approval.") % {"purchase": purchase})
            return redirect(purchase.get_absolute_url())
    return render(request, "supplies/form.html", {"form": form, "title": _("Buy goods with donated money")})


class PurchaseDetailView(ObjectDetailView):
    model = Purchase
    template_name = "supplies/purchase_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("area", "store__area", "requested_by", "approver", "received_by")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        purchase, user = self.object, self.request.user
        labels = dict(PS.choices)
        may_decide = (
            purchase.status == PS.SUBMITTED
            and user.has_scoped_perm(services.APPROVE_PURCHASE)
            and services.may_decide_purchase(user, purchase)
        )
        ctx.update(
            {
                "purchase": purchase,
                "badge": purchase_badge(purchase),
                "lines": list(purchase.lines.select_related("item")),
                "funding": list(purchase.funding.select_related("line__donation")),
                "movements": purchase.movements.select_related(
                    "store", "item", "donation_line__donation"
                ).order_by("at", "id"),
                "history_rows": [
                    {
                        "time": h.time,
                        "user": h.user_name,
                        "target": labels.get(h.target, h.target),
                        "note": h.note,
                    }
                    for h in history(purchase).order_by("time", "pk")
                ],
                "may_decide": may_decide,
                "may_receive": purchase.status == PS.APPROVED
                and may(user, purchase.store, perm=services.RECEIVE_PURCHASE),
                "may_cancel": services.may_cancel_purchase(user, purchase),
                "may_edit": may(user, purchase),
            }
        )
        return ctx


class PurchaseEditView(ObjectEditView):
    model = Purchase
    form_class = PurchaseEditForm
    creates = False  # proposed through purchase_add (the service checks the money)


class PurchaseMove(TransitionView):
    """A move of a purchase from its page (decision 0039); notes and reasons are posted as is."""

    model = Purchase
    context_object_name = "purchase"


class PurchaseApproveView(PurchaseMove):
    permission = services.APPROVE_PURCHASE
    success_message = gettext_lazy("%(purchase)s: approved and paid.")

    def move(self, purchase, data):
        return services.approve_purchase(self.request.user, purchase, self.request.POST.get("note", "")[:300])


class PurchaseRejectView(PurchaseMove):
    permission = services.APPROVE_PURCHASE
    success_message = gettext_lazy("%(purchase)s: rejected.")

    def move(self, purchase, data):
        return services.reject_purchase(self.request.user, purchase, self.request.POST.get("reason", "")[:300])


class PurchaseReceiveView(PurchaseMove):
    permission = services.RECEIVE_PURCHASE
    success_message = gettext_lazy("%(purchase)s: received.")

    def move(self, purchase, data):
        # Per line: received_<id> (blank: as ordered) and reason_<id>.
        received = {}
        for line in purchase.lines.all():
            quantity = (self.request.POST.get(f"received_{line.pk}") or "").strip() or line.quantity
            received[line.pk] = (quantity, self.request.POST.get(f"reason_{line.pk}", "")[:200])
        return services.receive_purchase(self.request.user, purchase, received)


class PurchaseCancelView(PurchaseMove):
    permission = services.PURCHASE
    success_message = gettext_lazy("%(purchase)s: cancelled.")

    def move(self, purchase, data):
        return services.cancel_purchase(self.request.user, purchase, self.request.POST.get("reason", "")[:300])

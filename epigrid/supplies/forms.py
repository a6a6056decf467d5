"""Forms of the supplies pages. The catalogue and the stores are edited as records; every stock
movement, requisition step, donation, allocation and purchase goes through `supplies.services`
(a purchase's supplier, invoice and date are corrected as a record)."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Area
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect
from epigrid.supplies.models import Donation, DonationLine, Item, Purchase, Requisition, Store

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
QTY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}
LINES = 4  # item rows on the requisition and donation forms


class ItemForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Item
        fields = ["code", "name", "spec", "category", "unit", "area", "is_active"]
        widgets = {"area": AutocompleteSelect("areas.area")}


class StoreForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Store
        fields = ["code", "name", "kind", "area", "place_label", "keepers", "is_active"]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only accounts holding the warehouse keeper role: a store is kept by its keepers.
        self.fields["keepers"].queryset = (
            get_user_model().objects.filter(grants__role="warehouse_keeper").distinct().order_by("username")
        )
        self.fields["keepers"].required = False
        self.fields["place_label"].help_text = _(
            "The checkpoint, sampling point or site this store stands at."
        )


class MoveForm(StyledFormMixin, forms.Form):
    KINDS = [
        ("receipt", _("Receipt")),
        ("issue", _("Issue")),
        ("count", _("Stock count")),
        ("transfer", _("Transfer to another store")),
    ]
    kind = forms.ChoiceField(label=_("Movement"), choices=KINDS)
    item = forms.ModelChoiceField(label=_("Item"), queryset=Item.objects.none())
    quantity = forms.DecimalField(label=_("Quantity (counted, for a count)"), **QTY)
    target = forms.ModelChoiceField(label=_("To store"), queryset=Store.objects.none(), required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, user=None, store=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = Item.objects.restrict(user, "view").filter(is_active=True)
        self.fields["target"].queryset = Store.objects.restrict(user, "view").exclude(
            pk=getattr(store, "pk", None)
        )

    def clean(self):
        data = super().clean()
        if data.get("kind") == "transfer" and not data.get("target"):
            self.add_error("target", _("Choose the store to transfer to."))
        return data


class LevelsForm(StyledFormMixin, forms.Form):
    item = forms.ModelChoiceField(label=_("Item"), queryset=Item.objects.none())
    daily_use = forms.DecimalField(label=_("Daily use"), **QTY)
    min_days = forms.DecimalField(label=_("Minimum (days)"), max_digits=6, decimal_places=1, min_value=0)
    max_days = forms.DecimalField(label=_("Maximum (days)"), max_digits=6, decimal_places=1, min_value=0)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = Item.objects.restrict(user, "view").filter(is_active=True)


def _line_fields(form, items, with_value=False):
    for n in range(1, LINES + 1):
        form.fields[f"item_{n}"] = forms.ModelChoiceField(
            label=_("Item %(n)d") % {"n": n}, queryset=items, required=False
        )
        form.fields[f"quantity_{n}"] = forms.DecimalField(
            label=_("Quantity %(n)d") % {"n": n}, required=False, **QTY
        )
        if with_value:
            form.fields[f"value_{n}"] = forms.DecimalField(
                label=_("Value in yuan %(n)d") % {"n": n}, required=False, **QTY
            )


def _lines(form, with_value=False):
    """The filled item rows as [(item, quantity[, value])]; a half-filled row is an error."""
    rows = []
    for n in range(1, LINES + 1):
        item, quantity = form.cleaned_data.get(f"item_{n}"), form.cleaned_data.get(f"quantity_{n}")
        if item is None and not quantity:
            continue
        if item is None or not quantity:
            form.add_error(
                f"quantity_{n}" if item else f"item_{n}", _("Give both the item and its quantity.")
            )
            continue
        rows.append((item, quantity, form.cleaned_data.get(f"value_{n}")) if with_value else (item, quantity))
    return rows


class RequisitionForm(StyledFormMixin, forms.Form):
    store = forms.ModelChoiceField(label=_("Requesting store"), queryset=Store.objects.none())
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Requisition.Priority.choices, initial=Requisition.Priority.NORMAL
    )
    needed_by = forms.DateField(label=_("Needed by"), required=False, widget=DATE)
    purpose = forms.CharField(label=_("Purpose"), max_length=200, required=False)

    def __init__(self, *args, stores=None, items=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        _line_fields(self, items)

    def clean(self):
        data = super().clean()
        data["lines"] = _lines(self)
        if not data["lines"] and not self.errors:
            self.add_error(None, _("Ask for at least one item."))
        return data


class DecisionForm(StyledFormMixin, forms.Form):
    supplier = forms.ModelChoiceField(
        label=_("Supplying store"), queryset=Store.objects.none(), required=False
    )
    note = forms.CharField(label=_("Note or reason"), max_length=300, required=False)

    def __init__(self, *args, suppliers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if suppliers is not None:
            self.fields["supplier"].queryset = suppliers
        # The line quantities sit in the table above: one form joined by its id.
        self.fields["supplier"].widget.attrs["form"] = "approve-form"


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class DonationForm(StyledFormMixin, forms.ModelForm):
    money = forms.DecimalField(label=_("Money (yuan)"), required=False, **QTY)

    class Meta:
        model = Donation
        fields = [
            "number",
            "donor_name",
            "donor_kind",
            "anonymous",
            "received_on",
            "area",
            "recipient_unit",
            "store",
            "directed",
            "directed_to",
            "note",
        ]
        widgets = {"area": AutocompleteSelect("areas.area"), "received_on": DATE}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = Store.objects.restrict(user, "view").filter(is_active=True)
        _line_fields(self, Item.objects.restrict(user, "view").filter(is_active=True), with_value=True)

    def clean(self):
        data = super().clean()
        lines = [
            {"kind": DonationLine.Kind.GOODS, "item": item, "quantity": quantity, "value": value}
            for item, quantity, value in _lines(self, with_value=True)
        ]
        if data.get("money"):
            lines.append({"kind": DonationLine.Kind.MONEY, "quantity": data["money"]})
        if not lines and not self.errors:
            self.add_error(None, _("A donation has at least one line of money or goods."))
        data["lines"] = lines
        return data

    def validate_unique(self):
        # The service answers a known number with the donation already registered.
        pass


class AllocateForm(StyledFormMixin, forms.Form):
    line = forms.ModelChoiceField(label=_("Donation line"), queryset=DonationLine.objects.none())
    quantity = forms.DecimalField(label=_("Quantity"), **QTY)
    recipient_store = forms.ModelChoiceField(
        label=_("Into store"), queryset=Store.objects.none(), required=False
    )
    recipient_name = forms.CharField(label=_("Recipient"), max_length=100, required=False)
    reason = forms.CharField(label=_("Reason"), max_length=300)

    def __init__(self, *args, donation=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if donation is not None:
            self.fields["line"].queryset = donation.lines.select_related("item")
            self.fields["line"].label_from_instance = _line_label
        self.fields["recipient_store"].queryset = Store.objects.restrict(user, "view").filter(is_active=True)


def _line_label(line):
    left = f"{line.remaining.normalize():f}"
    return f"{'资金' if line.kind == 'money' else line.item}（{_('left')} {left} {line.unit}）"


FUNDS = 3  # donated-money rows on the purchase form


def money_lines(user):
    """The donated money the user sees with some left to spend, oldest gift first."""
    return (
        DonationLine.objects.restrict(user, perm="supplies.view_donation")
        .filter(kind=DonationLine.Kind.MONEY, allocated__lt=F("quantity") - F("spent"))
        .select_related("donation")
        .order_by("donation__received_on", "donation__number", "id")
    )


def _money_label(line):
    donation = line.donation
    label = f"{donation.number} {donation.donor_name}（{_('left')} ¥{line.remaining.normalize():f}）"
    if donation.directed:
        label += " · " + _("directed to %(to)s") % {"to": donation.directed_to}
    return label


class PurchaseForm(StyledFormMixin, forms.Form):
    area = forms.ModelChoiceField(
        label=_("Purchasing unit"), queryset=Area.objects.none(), widget=AutocompleteSelect("areas.area")
    )
    supplier = forms.CharField(label=_("Supplier"), max_length=100)
    invoice = forms.CharField(label=_("Invoice or contract number"), max_length=64, required=False)
    purchased_on = forms.DateField(label=_("Purchase date"), widget=DATE)
    store = forms.ModelChoiceField(label=_("Received into store"), queryset=Store.objects.none())
    recipient_name = forms.CharField(
        label=_("Bought for"),
        max_length=100,
        required=False,
        help_text=_("By default the store's name. Directed money buys for its named recipient only."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300)
    pooled = forms.BooleanField(
        label=_("Pay from the unit's undirected money"),
        required=False,
        help_text=_(
            "Drawn when the purchase is approved, oldest gift first; or name the donated money below."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.restrict(user, "view")
        self.fields["store"].queryset = Store.objects.restrict(user, "view").filter(is_active=True)
        _line_fields(self, Item.objects.restrict(user, "view").filter(is_active=True))
        for n in range(1, LINES + 1):
            self.fields[f"price_{n}"] = forms.DecimalField(
                label=_("Unit price in yuan %(n)d") % {"n": n}, required=False, **QTY
            )
        money = money_lines(user)
        for n in range(1, FUNDS + 1):
            self.fields[f"fund_{n}"] = forms.ModelChoiceField(
                label=_("Donated money %(n)d") % {"n": n}, queryset=money, required=False
            )
            self.fields[f"fund_{n}"].label_from_instance = _money_label
            self.fields[f"fund_amount_{n}"] = forms.DecimalField(
                label=_("Amount in yuan %(n)d") % {"n": n}, required=False, **QTY
            )
        # Each goods row reads item, quantity, unit price; the money rows follow the choice of pool.
        self.order_fields(
            [
                *("area", "supplier", "invoice", "purchased_on", "store", "recipient_name", "reason"),
                *(f"{kind}_{n}" for n in range(1, LINES + 1) for kind in ("item", "quantity", "price")),
                "pooled",
                *(f"{kind}_{n}" for n in range(1, FUNDS + 1) for kind in ("fund", "fund_amount")),
            ]
        )

    def clean(self):
        data = super().clean()
        lines = []
        for n, (item, quantity) in enumerate(self._filled_rows(), start=1):
            price = self.cleaned_data.get(f"price_{n}")
            if item is None:
                continue
            if not price:
                self.add_error(f"price_{n}", _("Give the unit price."))
                continue
            lines.append((item, quantity, price))
        funding = []
        for n in range(1, FUNDS + 1):
            line, amount = data.get(f"fund_{n}"), data.get(f"fund_amount_{n}")
            if line is None and not amount:
                continue
            if line is None or not amount:
                self.add_error(
                    f"fund_amount_{n}" if line else f"fund_{n}", _("Give both the money and the amount.")
                )
                continue
            funding.append((line, amount))
        if not self.errors:
            if not lines:
                self.add_error(None, _("Buy at least one item."))
            elif bool(funding) == bool(data.get("pooled")):
                self.add_error(
                    None, _("Name the donated money that pays, or pay from the unit's undirected money.")
                )
        data["lines"], data["funding"] = lines, funding
        return data

    def _filled_rows(self):
        """(item, quantity) per row in row order, None for an empty row; a half-filled row is an error."""
        for n in range(1, LINES + 1):
            item, quantity = self.cleaned_data.get(f"item_{n}"), self.cleaned_data.get(f"quantity_{n}")
            if item is not None and quantity:
                yield item, quantity
            elif item is None and not quantity:
                yield None, None
            else:
                self.add_error(
                    f"quantity_{n}" if item else f"item_{n}", _("Give both the item and its quantity.")
                )
                yield None, None


class PurchaseEditForm(StyledFormMixin, forms.ModelForm):
    """What is corrected on a purchase as a record: the supplier, the invoice when it comes, the
    date. The money, the goods and the store move only through the workflow."""

    class Meta:
        model = Purchase
        fields = ["supplier", "invoice", "purchased_on"]
        widgets = {"purchased_on": DATE}

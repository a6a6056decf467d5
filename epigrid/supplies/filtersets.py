"""One filterset per supplies list, shared by the pages, the API and the exports."""

import django_filters
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.core.widgets import AutocompleteSelect
from epigrid.supplies import services
from epigrid.supplies.models import (
    Allocation,
    Category,
    Donation,
    DonationLine,
    Item,
    Movement,
    Purchase,
    Requisition,
    StockLevel,
    Store,
    below_min_q,
)


def _stores(request):
    return Store.objects.restrict(request.user, "view") if request is not None else Store.objects.none()


def _items(request):
    return Item.objects.restrict(request.user, "view") if request is not None else Item.objects.none()


class ItemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Name, code or specification"))
    category = django_filters.ChoiceFilter(
        choices=Category.choices, label=pgettext_lazy("supplies", "Category")
    )
    is_active = django_filters.BooleanFilter(label=_("In use"))

    class Meta:
        model = Item
        fields = ["q", "category", "is_active"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__contains=value) | Q(code__startswith=value) | Q(spec__contains=value))


class StoreFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Store"))
    kind = django_filters.MultipleChoiceFilter(choices=Store.Kind.choices, label=_("Kind"))
    area = ScopedAreaFilter(label=_("Area"))
    below_min = django_filters.BooleanFilter(method="filter_below_min", label=_("Below minimum"))

    class Meta:
        model = Store
        fields = ["q", "kind", "area", "below_min"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__contains=value) | Q(code__startswith=value)) if value else queryset

    def filter_below_min(self, queryset, name, value):
        if value is None:
            return queryset
        low = Store.objects.filter(below_min_q("levels__")).values("pk")
        return queryset.filter(pk__in=low) if value else queryset.exclude(pk__in=low)


class StockLevelFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Store or item"))
    store = django_filters.ModelChoiceFilter(
        queryset=_stores, label=_("Store"), widget=AutocompleteSelect("supplies.store")
    )
    item = django_filters.ModelChoiceFilter(
        queryset=_items, label=_("Item"), widget=AutocompleteSelect("supplies.item")
    )
    kind = django_filters.MultipleChoiceFilter(
        field_name="store__kind", choices=Store.Kind.choices, label=_("Post kind")
    )
    area = ScopedAreaFilter(label=_("Area"), path_lookup="store__area__path")
    below_min = django_filters.BooleanFilter(method="filter_below_min", label=_("Below minimum"))

    class Meta:
        model = StockLevel
        fields = ["q", "below_min", "store", "item", "kind", "area"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(store__name__contains=value) | Q(item__name__contains=value) | Q(item__spec__contains=value)
        )

    def filter_below_min(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(below_min_q()) if value else queryset.exclude(below_min_q())


class MovementFilterSet(django_filters.FilterSet):
    store = django_filters.ModelChoiceFilter(
        queryset=_stores, label=_("Store"), widget=AutocompleteSelect("supplies.store")
    )
    item = django_filters.ModelChoiceFilter(
        queryset=_items, label=_("Item"), widget=AutocompleteSelect("supplies.item")
    )
    kind = django_filters.MultipleChoiceFilter(choices=Movement.Kind.choices, label=_("Kind"))
    area = ScopedAreaFilter(label=_("Area"))
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("Until"))
    requisition = django_filters.NumberFilter(field_name="requisition_id", label=_("Requisition"))
    purchase = django_filters.NumberFilter(field_name="purchase_id", label=_("Purchase"))

    class Meta:
        model = Movement
        fields = ["store", "item", "kind", "area", "since", "until", "requisition", "purchase"]


class RequisitionFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Requisition.Status.choices, label=_("Status"))
    open = django_filters.BooleanFilter(method="filter_open", label=pgettext_lazy("requisition", "Open"))
    to_decide = django_filters.BooleanFilter(method="filter_to_decide", label=_("Awaiting my approval"))
    store = django_filters.ModelChoiceFilter(
        queryset=_stores, label=_("Store"), widget=AutocompleteSelect("supplies.store")
    )
    priority = django_filters.ChoiceFilter(choices=Requisition.Priority.choices, label=_("Priority"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="store__area__path")
    discrepancy = django_filters.BooleanFilter(
        field_name="has_discrepancy", label=_("Discrepancy on receipt")
    )

    class Meta:
        model = Requisition
        fields = ["status", "open", "to_decide", "store", "priority", "area", "discrepancy"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        q = services.open_requisitions_q()
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_to_decide(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        return queryset.filter(services.to_decide_q(user))


class DonationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Number or donor"))
    kind = django_filters.ChoiceFilter(
        choices=DonationLine.Kind.choices, method="filter_kind", label=_("Money or goods")
    )
    directed = django_filters.BooleanFilter(label=_("Directed"))
    area = ScopedAreaFilter(label=_("Receiving level"))
    since = django_filters.DateFilter(field_name="received_on", lookup_expr="gte", label=_("From"))
    until = django_filters.DateFilter(field_name="received_on", lookup_expr="lte", label=_("Until"))
    unallocated = django_filters.BooleanFilter(method="filter_unallocated", label=_("Not fully allocated"))

    class Meta:
        model = Donation
        fields = ["q", "kind", "directed", "area", "since", "until", "unallocated"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(number__startswith=value) | Q(donor_name__contains=value))
            if value
            else queryset
        )

    def filter_kind(self, queryset, name, value):
        return (
            queryset.filter(pk__in=DonationLine.objects.filter(kind=value).values("donation"))
            if value
            else queryset
        )

    def filter_unallocated(self, queryset, name, value):
        if value is None:
            return queryset
        # Money spent on purchases is used as much as money allocated.
        open_lines = DonationLine.objects.filter(allocated__lt=F("quantity") - F("spent")).values("donation")
        return queryset.filter(pk__in=open_lines) if value else queryset.exclude(pk__in=open_lines)


class AllocationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Recipient or donor"))
    area = ScopedAreaFilter(label=_("Receiving level"), path_lookup="line__donation__area__path")
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("Until"))

    class Meta:
        model = Allocation
        fields = ["q", "area", "since", "until"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(recipient_name__contains=value) | Q(line__donation__donor_name__contains=value)
        )


class DonationLineFilterSet(django_filters.FilterSet):
    """The public allocation table's rows (donation lines), filtered as the donations are."""

    area = ScopedAreaFilter(label=_("Receiving level"), path_lookup="donation__area__path")
    since = django_filters.DateFilter(field_name="donation__received_on", lookup_expr="gte", label=_("From"))
    until = django_filters.DateFilter(field_name="donation__received_on", lookup_expr="lte", label=_("Until"))
    kind = django_filters.ChoiceFilter(choices=DonationLine.Kind.choices, label=_("Money or goods"))

    class Meta:
        model = DonationLine
        fields = ["area", "since", "until", "kind"]


class PurchaseFilterSet(django_filters.FilterSet):
    """Purchases 采购, also by the donation whose money paid (its number): the donor's goods."""

    q = django_filters.CharFilter(method="filter_q", label=_("Supplier or invoice"))
    status = django_filters.MultipleChoiceFilter(choices=Purchase.Status.choices, label=_("Status"))
    to_decide = django_filters.BooleanFilter(method="filter_to_decide", label=_("Awaiting my approval"))
    donation = django_filters.CharFilter(method="filter_donation", label=_("Paid by donation (number)"))
    store = django_filters.ModelChoiceFilter(
        queryset=_stores, label=_("Store"), widget=AutocompleteSelect("supplies.store")
    )
    # Each item once per purchase (a constraint): the join repeats no purchase.
    item = django_filters.ModelChoiceFilter(
        field_name="lines__item", queryset=_items, label=_("Item"), widget=AutocompleteSelect("supplies.item")
    )
    area = ScopedAreaFilter(label=_("Purchasing unit"))
    since = django_filters.DateFilter(field_name="purchased_on", lookup_expr="gte", label=_("From"))
    until = django_filters.DateFilter(field_name="purchased_on", lookup_expr="lte", label=_("Until"))

    class Meta:
        model = Purchase
        fields = ["q", "status", "to_decide", "donation", "store", "item", "area", "since", "until"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(supplier__contains=value) | Q(invoice__startswith=value)) if value else queryset
        )

    def filter_to_decide(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None:
            return queryset
        return queryset.filter(services.purchases_to_decide_q(user))

    def filter_donation(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            pk__in=Purchase.objects.filter(funding__line__donation__number=value).values("pk")
        )

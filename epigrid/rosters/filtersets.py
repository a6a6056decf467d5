"""One filterset per roster list, shared by the pages, the API and the exports."""

import datetime

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.filtersets import ScopedAreaFilter
from epigrid.rosters.models import Assignment, Post, Shift, StaffMember, Team
from epigrid.rosters.services import short_of_staff


def _posts(request):
    return Post.objects.restrict(request.user, "view") if request is not None else Post.objects.none()


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class _PeriodMixin:
    """since / until (days, inclusive) on the shift's start."""

    start_field = "start"

    def filter_since(self, queryset, name, value):
        return queryset.filter(**{f"{self.start_field}__gte": _day_start(value)}) if value else queryset

    def filter_until(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self.start_field}__lt": _day_start(value + datetime.timedelta(days=1))})


class StaffMemberFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Name or sending unit"))
    kind = django_filters.MultipleChoiceFilter(choices=StaffMember.Kind.choices, label=_("Kind"))
    active = django_filters.BooleanFilter(method="filter_active", label=_("In service today"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = StaffMember
        fields = ["q", "kind", "active", "area"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__startswith=value) | Q(unit__contains=value))

    def filter_active(self, queryset, name, value):
        if value is None:
            return queryset
        today = timezone.localdate()
        active = Q(active_from__lte=today) & (Q(active_to__isnull=True) | Q(active_to__gte=today))
        return queryset.filter(active) if value else queryset.exclude(active)


class TeamFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Name"))
    kind = django_filters.ChoiceFilter(choices=Team.Kind.choices, label=_("Kind"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Team
        fields = ["q", "kind", "area"]


class PostFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="contains", label=_("Name"))
    kind = django_filters.ChoiceFilter(choices=Post.Kind.choices, label=_("Kind"))
    area = ScopedAreaFilter(label=_("Area"))

    class Meta:
        model = Post
        fields = ["q", "kind", "area"]


class ShiftFilterSet(_PeriodMixin, django_filters.FilterSet):
    post = django_filters.ModelChoiceFilter(queryset=_posts, label=_("Post"))
    since = django_filters.DateFilter(method="filter_since", label=_("From"))
    until = django_filters.DateFilter(method="filter_until", label=_("To"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="post__area__path")
    upcoming = django_filters.BooleanFilter(method="filter_upcoming", label=_("In the next 24 hours"))
    short = django_filters.BooleanFilter(method="filter_short", label=_("Short of staff"))

    class Meta:
        model = Shift
        fields = ["post", "since", "until", "area", "upcoming", "short"]

    def filter_upcoming(self, queryset, name, value):
        if value is None:
            return queryset
        now = timezone.now()
        window = Q(start__lt=now + datetime.timedelta(hours=24), end__gt=now)
        return queryset.filter(window) if value else queryset.exclude(window)

    def filter_short(self, queryset, name, value):
        if value is None:
            return queryset
        short = short_of_staff(queryset)
        return short if value else queryset.exclude(pk__in=short.values("pk"))


class AssignmentFilterSet(_PeriodMixin, django_filters.FilterSet):
    start_field = "shift__start"

    q = django_filters.CharFilter(field_name="staff__name", lookup_expr="startswith", label=_("Name"))
    post = django_filters.ModelChoiceFilter(field_name="shift__post", queryset=_posts, label=_("Post"))
    since = django_filters.DateFilter(method="filter_since", label=_("From"))
    until = django_filters.DateFilter(method="filter_until", label=_("To"))
    status = django_filters.MultipleChoiceFilter(choices=Assignment.Status.choices, label=_("Status"))
    late = django_filters.BooleanFilter(label=_("Late"))
    staff = django_filters.NumberFilter(field_name="staff", label=_("Staff member"))
    area = ScopedAreaFilter(label=_("Area"), path_lookup="shift__post__area__path")

    class Meta:
        model = Assignment
        fields = ["q", "post", "since", "until", "status", "late", "staff", "area"]

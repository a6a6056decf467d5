import django_filters
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from epigrid.audit.models import Action, ObjectChange


class ObjectChangeFilterSet(django_filters.FilterSet):
    content_type = django_filters.ModelChoiceFilter(
        label=_("Object type"),
        queryset=ContentType.objects.filter(app_label__in=["areas", "people", "accounts"]),
    )
    object_id = django_filters.NumberFilter(label=_("Object id"))
    user = django_filters.CharFilter(field_name="user_name", label=_("User"))
    action = django_filters.ChoiceFilter(choices=Action.choices, label=_("Action"))
    since = django_filters.DateFilter(field_name="time", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="time", lookup_expr="date__lte", label=_("To"))
    request_id = django_filters.UUIDFilter(label=_("Request id"))

    class Meta:
        model = ObjectChange
        fields = ["content_type", "object_id", "user", "action", "since", "until", "request_id"]

"""Report senders other than areas (decision 0033): an operation app whose records send a daily
report (an enterprise, a monitored outlet) registers its kind here from its AppConfig.ready();
a form whose `sender_kind` names that kind is then sent once a day per record rather than per
area, through the same submissions, deadlines, roll-up, missing list, history and export.

A submission of such a form keeps the sender's id and is filed under the sender's area, so the
area scoping, the roll-up by path prefix and every list work unchanged."""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

REGISTRY = {}


@dataclass(frozen=True)
class SenderKind:
    kind: str
    model_label: str  # "enterprises.enterprise"
    label: object  # lazy translation
    # day -> queryset of the records expected to send on that day (default: all of them)
    expected: Callable | None = None
    # The sender's area (its scope and its place in the roll-up).
    area_field: str = "area"
    # (form, sender, day) -> {field key: number}: live figures for the form's fields, if any
    live: Callable | None = None
    # (form, submission) -> None: a report of this kind was written, new or changed (never for an
    # identical retry), inside the sending's transaction right after the write — what the sender's
    # app does about it (an outlet's alerts) commits or rolls back with the report.
    on_submit: Callable | None = None

    @property
    def model(self):
        return apps.get_model(self.model_label)

    def expected_queryset(self, day):
        return self.expected(day) if self.expected else self.model.objects.all()

    def under(self, queryset, root_path):
        return queryset.filter(**{f"{self.area_field}__path__startswith": root_path})

    def area_of(self, sender):
        return getattr(sender, self.area_field)

    def visible(self, user):
        """The records the user may see (the sender model's own scoping, bound roles included)."""
        return self.model.objects.restrict(user, "view")

    def within_paths(self, queryset, paths):
        if paths is None:
            return queryset
        q = Q()
        for path in paths:
            q |= Q(**{f"{self.area_field}__path__startswith": path})
        return queryset.filter(q) if paths else queryset.none()


def register(kind, model_label, label, *, expected=None, area_field="area", live=None, on_submit=None):
    REGISTRY[kind] = SenderKind(kind, model_label.lower(), label, expected, area_field, live, on_submit)
    return REGISTRY[kind]


def get(kind):
    try:
        return REGISTRY[kind]
    except KeyError:
        raise ImproperlyConfigured(f"No report sender kind {kind!r} is registered.") from None


def choices():
    return [(k, s.label) for k, s in sorted(REGISTRY.items())]

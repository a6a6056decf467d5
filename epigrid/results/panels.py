"""The person page's "latest result" panel (core.panels, decision 0016): how grid workers see their
persons' results — through the person, never the results list."""

from django.utils.translation import gettext_lazy as _

from epigrid.core import panels
from epigrid.results import services

STATUS_LABELS = {
    "negative": _("Negative"),
    "pending_retest": _("Pooled positive: pending single-tube retest"),
    "positive": _("Positive"),
    "resample": _("Invalid: to be resampled"),
    "pending": _("Pending"),
}


def person_panel(request, person):
    # The person page is already scoped: whoever sees the person sees their latest result.
    latest = services.latest_result(person)
    if latest is None:
        return {"latest": None}
    return {"latest": latest, "status_label": STATUS_LABELS[latest["status"]]}


panels.register("people.person", "results/_person_panel.html", person_panel)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TracingConfig(AppConfig):
    name = "epigrid.tracing"
    label = "tracing"
    verbose_name = _("Contact tracing")

    def ready(self):
        from epigrid.core import panels
        from epigrid.tracing import exports  # noqa: F401 (registers the contact export)
        from epigrid.tracing.panels import person_panel, today_overdue

        # Overdue cases and contacts head today's work (decision 0016 addendum).
        panels.register_page(panels.TODAY, "tracing/_today_overdue.html", today_overdue)
        # A person's case, or "open a case" from the person page (a positive, a key-person entry).
        panels.register("people.person", "tracing/_person_panel.html", person_panel)

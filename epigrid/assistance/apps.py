from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "epigrid.assistance"
    label = "assistance"
    verbose_name = _("Assistance requests")

    def ready(self):
        # Each module registers itself when imported: the reply list (jobs.exports) and the import
        # ledger "assist-persons" (jobs.imports).
        from epigrid.assistance import exports, imports  # noqa: F401
        from epigrid.assistance.panels import today_rows
        from epigrid.core import panels

        # Persons of overdue or nearly due 协查 head today's work (decision 0016 addendum).
        panels.register_page(panels.TODAY, "assistance/_today.html", today_rows)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IsolationConfig(AppConfig):
    name = "epigrid.isolation"
    label = "isolation"
    verbose_name = _("Isolation sites")

    def ready(self):
        # Each module registers itself when imported: the ledger export (jobs.exports) and the
        # import ledger "isolation-stays" (jobs.imports).
        from epigrid.core import panels
        from epigrid.isolation import exports, imports  # noqa: F401
        from epigrid.isolation.panels import homecomings

        # Persons back home from a site head their community's today's work until received.
        panels.register_page(panels.TODAY, "isolation/_today_home.html", homecomings)

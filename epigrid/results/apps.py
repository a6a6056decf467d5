from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ResultsConfig(AppConfig):
    name = "epigrid.results"
    label = "results"
    verbose_name = _("Lab results")

    def ready(self):
        # The lab-results ledger and the results export register themselves; the person page
        # gets a "latest result" panel (core.panels, decision 0016).
        from epigrid.results import exports, imports, panels  # noqa: F401

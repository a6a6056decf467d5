from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "epigrid.reports"
    label = "reports"
    verbose_name = _("Daily reports")

    def ready(self):
        # The roll-up's Excel export registers itself with jobs.exports when imported.
        from epigrid.reports import exports  # noqa: F401

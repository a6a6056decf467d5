from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliesConfig(AppConfig):
    name = "epigrid.supplies"
    label = "supplies"
    verbose_name = _("Supplies and donations")

    def ready(self):
        # The exports (jobs.exports) and the import ledgers "stock-counts" and "donations"
        # (jobs.imports) register themselves when imported.
        from epigrid.supplies import exports, imports  # noqa: F401

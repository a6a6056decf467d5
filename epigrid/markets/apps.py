from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketsConfig(AppConfig):
    name = "epigrid.markets"
    label = "markets"
    verbose_name = _("Shops and markets")

    def ready(self):
        # The exports and import ledgers register themselves with jobs when imported.
        from epigrid.markets import exports, imports, reporting  # noqa: F401

        # Outlets send the daily supply-and-price report through the report forms (decision 0033).
        # A report written by any path (this app, the reports pages or API) raises its alerts.
        reporting.register_sender()

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
        reporting.register_sender()
        from django.db.models.signals import post_save

        from epigrid.markets.receivers import evaluate_outlet_report

        post_save.connect(
            evaluate_outlet_report, sender="reports.Submission", dispatch_uid="markets_evaluate_outlet_report"
        )

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "epigrid.enterprises"
    label = "enterprises"
    verbose_name = _("Enterprises back to work")

    def ready(self):
        # The exports (jobs.exports) and the import ledgers (jobs.imports) register themselves.
        from epigrid.enterprises import daily, exports, imports  # noqa: F401

        # Enterprises send the daily report through the report forms (decision 0033).
        daily.register()

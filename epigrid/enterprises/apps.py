from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "epigrid.enterprises"
    label = "enterprises"
    verbose_name = _("Enterprises back to work")

    def ready(self):
        # The exports (jobs.exports) and the import ledgers (jobs.imports) register themselves.
        from epigrid.enterprises import exports, imports  # noqa: F401

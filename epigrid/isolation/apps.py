from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IsolationConfig(AppConfig):
    name = "epigrid.isolation"
    label = "isolation"
    verbose_name = _("Isolation sites")

    def ready(self):
        # Each module registers itself when imported: the ledger export (jobs.exports) and the
        # import ledger "isolation-stays" (jobs.imports).
        from epigrid.isolation import exports, imports  # noqa: F401

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeservicesConfig(AppConfig):
    name = "epigrid.homeservices"
    label = "homeservices"
    verbose_name = _("Resident services")

    def ready(self):
        # The export and import ledgers register themselves with jobs when imported.
        from epigrid.homeservices import exports, imports  # noqa: F401

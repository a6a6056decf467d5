from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisinfectionConfig(AppConfig):
    name = "epigrid.disinfection"
    label = "disinfection"
    verbose_name = _("Disinfection")

    def ready(self):
        # The exports and the site ledger register themselves with jobs when imported.
        from epigrid.disinfection import exports, imports  # noqa: F401

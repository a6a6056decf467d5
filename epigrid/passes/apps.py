from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PassesConfig(AppConfig):
    name = "epigrid.passes"
    label = "passes"
    verbose_name = _("Household passes")

    def ready(self):
        # The uses export registers itself with jobs.exports when imported.
        from epigrid.passes import exports  # noqa: F401

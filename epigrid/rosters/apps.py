from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RostersConfig(AppConfig):
    name = "epigrid.rosters"
    label = "rosters"
    verbose_name = _("Staff and rosters")

    def ready(self):
        # The roster and hours exports register themselves with jobs.exports when imported.
        from epigrid.rosters import exports  # noqa: F401

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckpointsConfig(AppConfig):
    name = "epigrid.checkpoints"
    label = "checkpoints"
    verbose_name = _("Checkpoints")

    def ready(self):
        from epigrid.checkpoints import exports  # noqa: F401 (registers the exports)
        from epigrid.checkpoints.panels import today_arrivals
        from epigrid.core import panels

        # Arrivals handed to a community head its work list the minute the gate records them.
        panels.register_page(panels.TODAY, "checkpoints/_today_arrivals.html", today_arrivals)

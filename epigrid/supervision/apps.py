from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "epigrid.supervision"
    label = "supervision"
    verbose_name = _("Supervision")

    def ready(self):
        # The export "supervision-items" registers itself with jobs.exports when imported.
        from epigrid.supervision import exports  # noqa: F401

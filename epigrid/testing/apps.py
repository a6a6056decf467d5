from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TestingConfig(AppConfig):
    name = "epigrid.testing"
    label = "testing"
    verbose_name = _("Mass testing")

    def ready(self):
        # Each module registers its own exports or import ledgers when imported.
        from epigrid.testing import exports, imports, sweep_exports  # noqa: F401

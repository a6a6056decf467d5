from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AntigenConfig(AppConfig):
    name = "epigrid.antigen"
    label = "antigen"
    verbose_name = _("Antigen self-tests")

    def ready(self):
        # Each module registers its export or import ledger when imported; the household page
        # shows the household's kits and results through core.panels (decision 0016).
        from epigrid.antigen import exports, imports  # noqa: F401
        from epigrid.antigen.panels import household_panel, today_follow_ups
        from epigrid.core import panels

        panels.register("areas.household", "antigen/_household_panel.html", household_panel)
        # Positives to arrange a test for head today's work too.
        panels.register_page(panels.TODAY, "antigen/_today_follow_ups.html", today_follow_ups)

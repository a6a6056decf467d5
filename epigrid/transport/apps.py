from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransportConfig(AppConfig):
    name = "epigrid.transport"
    label = "transport"
    verbose_name = _("Sample transport")

    def ready(self):
        # The box export registers itself; a round's new delivery deadline reaches its boxes.
        from epigrid.transport import exports, receivers  # noqa: F401

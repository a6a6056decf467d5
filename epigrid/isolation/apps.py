from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IsolationConfig(AppConfig):
    name = "epigrid.isolation"
    label = "isolation"
    verbose_name = _("Isolation sites")

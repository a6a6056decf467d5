from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "epigrid.audit"
    label = "audit"

    def ready(self):
        from epigrid.audit import receivers  # noqa: F401  (connects the change-log receivers)

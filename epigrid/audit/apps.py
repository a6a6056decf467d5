from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "epigrid.audit"
    label = "audit"

    def ready(self):
        from epigrid.audit import exports, receivers  # noqa: F401  (change-log receivers, audit export)

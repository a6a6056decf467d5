from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "epigrid.jobs"
    label = "jobs"

    def ready(self):
        from epigrid.jobs import exports, imports  # noqa: F401  (registers the import and export handlers)

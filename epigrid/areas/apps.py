from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "epigrid.areas"
    label = "areas"

    def ready(self):
        from epigrid.areas import exports  # noqa: F401  (registers the household export)

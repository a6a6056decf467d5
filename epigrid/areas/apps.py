from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "epigrid.areas"
    label = "areas"

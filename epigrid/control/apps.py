from django.apps import AppConfig


class ControlConfig(AppConfig):
    name = "epigrid.control"
    label = "control"

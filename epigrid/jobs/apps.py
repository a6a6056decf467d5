from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "epigrid.jobs"
    label = "jobs"

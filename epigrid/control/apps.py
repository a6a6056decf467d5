from django.apps import AppConfig


class ControlConfig(AppConfig):
    name = "epigrid.control"
    label = "control"

    def ready(self):
        from epigrid.control import exports  # noqa: F401  (registers the key-person export)
        from epigrid.control.imports import KeyPersonResource
        from epigrid.jobs.imports import register_ledger

        register_ledger("keypersons", KeyPersonResource, "control.add_keyperson")

from django.apps import AppConfig


class ControlConfig(AppConfig):
    name = "epigrid.control"
    label = "control"

    def ready(self):
        from epigrid.control import exports  # noqa: F401  (registers the key-person export)
        from epigrid.control.imports import KeyPersonResource
        from epigrid.jobs.imports import register_ledger

        register_ledger("keypersons", KeyPersonResource, "control.add_keyperson")

        # The person and household pages show control through core.panels (decision 0016).
        from epigrid.control.panels import household_panel, person_panel
        from epigrid.core import panels

        panels.register("people.person", "control/_person_panel.html", person_panel)
        panels.register("areas.household", "control/_household_panel.html", household_panel)

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "epigrid.people"
    label = "people"

    def ready(self):
        from epigrid.jobs.imports import register_ledger
        from epigrid.people import exports  # noqa: F401  (registers the person export)
        from epigrid.people.imports import ResidentResource

        register_ledger("residents", ResidentResource, "people.add_person")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetestsConfig(AppConfig):
    name = "epigrid.retests"
    label = "retests"
    verbose_name = _("Pooled-positive follow-up")

    def ready(self):
        # The receiver of results_changed (results.signals): follow-ups open in the results' transaction.
        from epigrid.core import panels
        from epigrid.results.signals import results_changed
        from epigrid.retests.panels import today_tasks
        from epigrid.retests.receivers import on_results_changed

        results_changed.connect(on_results_changed, dispatch_uid="retests.on_results_changed")
        # Persons to hold in place and retest head today's work (decision 0016 addendum).
        panels.register_page(panels.TODAY, "retests/_today_tasks.html", today_tasks)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetestsConfig(AppConfig):
    name = "epigrid.retests"
    label = "retests"
    verbose_name = _("Pooled-positive follow-up")

    def ready(self):
        # The receivers of results.signals, in the results' transaction: follow-ups open with a
        # pooled-positive / invalid result, and a retest tube's own result ends its tasks.
        from epigrid.core import panels
        from epigrid.results.models import TubeResult
        from epigrid.results.signals import results_changed, results_recorded
        from epigrid.retests.panels import today_tasks
        from epigrid.retests.receivers import on_results_changed, on_results_recorded

        results_changed.connect(on_results_changed, dispatch_uid="retests.on_results_changed")
        # sender=TubeResult: the lab results service is the one sender.
        results_recorded.connect(
            on_results_recorded, sender=TubeResult, dispatch_uid="retests.on_results_recorded"
        )
        # Persons to hold in place and retest head today's work (decision 0016 addendum).
        panels.register_page(panels.TODAY, "retests/_today_tasks.html", today_tasks)

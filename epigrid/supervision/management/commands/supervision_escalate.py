from django.core.management.base import BaseCommand

from epigrid.core.context import change_context
from epigrid.supervision.services import escalate_overdue


class Command(BaseCommand):
    help = (
        "Escalate supervision items past their deadline to the level above (and further each grace "
        "period, EPIGRID_SUPERVISION_GRACE_HOURS). Run every few minutes (cron or a timer)."
    )

    def handle(self, *args, **options):
        with change_context(source="command"):
            moved = escalate_overdue()
        self.stdout.write(f"{moved} item(s) escalated")

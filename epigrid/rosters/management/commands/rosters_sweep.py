from django.core.management.base import BaseCommand

from epigrid.core.context import change_context
from epigrid.rosters.services import sweep


class Command(BaseCommand):
    help = (
        "Mark absent whoever has not checked in 30 minutes after their shift's start, and close "
        "check-outs forgotten past the shift's end + grace. Run every few minutes (cron or a timer)."
    )

    def handle(self, *args, **options):
        with change_context(source="command"):
            done = sweep()
        self.stdout.write(f"{done['absent']} marked absent, {done['closed']} forgotten check-out(s) closed")

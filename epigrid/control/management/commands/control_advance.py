from django.core.management.base import BaseCommand

from epigrid.control.services import advance
from epigrid.core.context import change_context


class Command(BaseCommand):
    help = "Start the control measures whose first day has come. Run once a day (cron or a timer)."

    def handle(self, *args, **options):
        with change_context(source="command"):
            started = advance()
        self.stdout.write(f"{started} measure(s) started")

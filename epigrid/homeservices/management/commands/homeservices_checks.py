"""`epigrid homeservices_checks [--day YYYY-MM-DD]`: the day's visits and calls to the special groups
whose homes are sealed, and tomorrow's dialysis and chemotherapy trips (run daily by a timer;
running it again the same day writes nothing)."""

import datetime
import json

from django.core.management.base import BaseCommand

from epigrid.core.context import change_context
from epigrid.homeservices import services


class Command(BaseCommand):
    help = "Generate the day's proactive visits and calls for special groups in sealed homes."

    def add_arguments(self, parser):
        parser.add_argument("--day", type=datetime.date.fromisoformat, default=None)

    def handle(self, *args, day=None, **options):
        with change_context(source="command"):
            written = services.generate_checks(day)
        self.stdout.write(json.dumps(written))

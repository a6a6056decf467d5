"""`epigrid markets_alerts [--day YYYY-MM-DD]`: evaluate every monitored outlet's report of the day
(default today) — the catch-up for reports whose evaluation did not run (idempotent)."""

import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from epigrid.core.context import change_context
from epigrid.markets import services


class Command(BaseCommand):
    help = "Raise or clear the price and stock alerts of the outlets' daily reports of a day."

    def add_arguments(self, parser):
        parser.add_argument("--day", type=datetime.date.fromisoformat, default=None)

    def handle(self, *args, day=None, **options):
        day = day or timezone.localdate()
        with change_context(source="command"):
            n = services.evaluate_day(day)
        self.stdout.write(f"{day.isoformat()}: {n} reports evaluated")

"""`epigrid report_forms`: create or update the shipped report forms from epigrid/reports/forms/."""

from django.core.management.base import BaseCommand

from epigrid.core.context import change_context
from epigrid.reports.services import load_shipped_forms


class Command(BaseCommand):
    help = "Load (create or update) the report forms shipped as JSON files in epigrid/reports/forms/."

    def handle(self, *args, **options):
        with change_context(source="command"):
            codes = load_shipped_forms()
        self.stdout.write(f"loaded: {', '.join(codes)}")

"""`epigrid raise_findings`: late items anywhere in epigrid become supervision items, and those no
longer late are signed off (dashboard.findings; run it every few minutes beside the escalation)."""

from django.core.management.base import BaseCommand

from epigrid.dashboard import findings


class Command(BaseCommand):
    help = "Raise supervision items for late records and sign off those no longer late."

    def handle(self, *args, **options):
        done = findings.sweep()
        self.stdout.write(f"supervision findings: {done['raised']} raised, {done['resolved']} resolved")

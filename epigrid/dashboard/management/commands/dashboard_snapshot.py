"""`epigrid dashboard_snapshot [--every N]`: take the dashboard's per-area counts now, or keep
taking them every N seconds beside the server, so no page request pays for a stale snapshot
(decision 0032 addendum 2)."""

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from epigrid.dashboard import snapshot


class Command(BaseCommand):
    help = "Take the dashboard's per-area counts (once, or every N seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=0, help="seconds between snapshots (0: once)")

    def handle(self, *args, every=0, **options):
        while True:
            row = snapshot.refresh()
            self.stdout.write(
                f"dashboard snapshot {row.taken_at:%Y-%m-%d %H:%M:%S}: {len(row.counts)} tiles in {row.seconds:.2f} s"
            )
            if not every:
                return
            time.sleep(max(every - row.seconds, 1))
            # A loop that runs for days: a connection dropped meanwhile is replaced, as per request.
            close_old_connections()

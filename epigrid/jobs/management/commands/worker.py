import datetime

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from epigrid.jobs.services import recover_stale


class Command(BaseCommand):
    help = "Run the background worker: first fail the jobs a stopped worker left running, then process the queue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only-worker",
            action="store_true",
            help="This is the only worker (as under `make run`): every job still marked running was "
            "left by a stopped worker and is failed at once, without waiting for its heartbeat to age.",
        )

    def handle(self, *args, only_worker=False, **options):
        touched = recover_stale(max_age=datetime.timedelta(0) if only_worker else None)
        if touched:
            self.stdout.write(f"failed {touched} job(s) left running by a stopped worker")
        if "RQBackend" in settings.TASKS["default"]["BACKEND"]:
            call_command(
                "rqworker", "default", job_class="django_tasks_rq.Job", verbosity=options["verbosity"]
            )
        else:
            call_command("db_worker", queue_name="*", verbosity=options["verbosity"])

"""Submitting and running jobs. One runner for every kind: claim with a conditional UPDATE
(two workers never run one job), report progress, honour cancel, and end every job in a state the
user can read, even when its worker stops mid-job (style habit 6, decision 0013)."""

import datetime
import logging
import traceback

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from epigrid.core.context import change_context
from epigrid.jobs.models import Status

logger = logging.getLogger(__name__)

HANDLERS = {}
MAX_ATTEMPTS = 3


class JobCancelled(Exception):
    pass


def handler(kind):
    """Register the function that does the work of one job kind: fn(job, progress) -> result dict."""

    def register(fn):
        HANDLERS[kind] = fn
        return fn

    return register


def stale_after():
    return datetime.timedelta(seconds=getattr(settings, "EPIGRID_JOB_STALE_SECONDS", 600))


def submit(kind, user, title, params=None, input_file=None, input_name=None):
    """Create a job and queue it once the surrounding transaction commits. `input_name` points the
    job at a file already stored (set before the job is saved, so no worker sees it without)."""
    from epigrid.jobs.models import Job

    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, user=user, title=title[:200], params=params or {})
    if input_file is not None:
        job.input_file.save(getattr(input_file, "name", "upload"), input_file, save=False)
    elif input_name:
        job.input_file.name = input_name
    job.save()
    transaction.on_commit(lambda: run_job.enqueue(str(job.pk)))
    return job


def attach_output(job, filename, content):
    """Store the job's result file. Saves only that field: the row's progress columns are
    written by other statements and must not be overwritten with stale values."""
    from epigrid.jobs.models import Job

    job.output_file.save(filename, content, save=False)
    Job.objects.filter(pk=job.pk).update(output_file=job.output_file.name)


class Progress:
    """Handed to a handler: `progress(done, total, message)`; raises JobCancelled when asked to stop."""

    def __init__(self, job):
        self.job = job

    def __call__(self, done, total=None, message=""):
        from epigrid.jobs.models import Job

        fields = {"done": done, "heartbeat": timezone.now()}
        if total is not None:
            fields["total"] = total
        if message:
            fields["message"] = message[:500]
        Job.objects.filter(pk=self.job.pk).update(**fields)
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled


@task(queue_name="default")
def run_job(job_id):
    execute(job_id)


def execute(job_id):
    from epigrid.jobs.models import Job

    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=Status.QUEUED, cancel_requested=False).update(
        status=Status.RUNNING, started=now, heartbeat=now, attempts=F("attempts") + 1
    )
    if not claimed:  # taken by another worker, cancelled, or already done
        return
    job = Job.objects.select_related("user").get(pk=job_id)
    try:
        with change_context(user=job.user, source="job"):
            result = HANDLERS[job.kind](job, Progress(job))
    except JobCancelled:
        _finish(job, Status.CANCELLED, message=_("Cancelled."))
    except MemoryError:
        logger.exception("job %s ran out of memory", job_id)
        _finish(job, Status.FAILED, message=dead_worker_message())
    except (SystemExit, KeyboardInterrupt):  # the worker was told to stop: not the job's fault
        _requeue_interrupted(job)
        raise
    except Exception as exc:  # a job must end in a state the user can read, whatever went wrong
        logger.exception("job %s failed", job_id)
        _finish(
            job,
            Status.FAILED,
            message=str(exc)[:500] or exc.__class__.__name__,
            result={"traceback": traceback.format_exc()[-4000:]},
        )
    else:
        _finish(job, Status.SUCCEEDED, result=result)


def _finish(job, status, message="", result=None):
    from epigrid.jobs.models import Job

    fields = {"status": status, "finished": timezone.now(), "heartbeat": timezone.now()}
    if message or status == Status.SUCCEEDED:
        # A finished job no longer says what it was doing ("Writing 1,000 rows"): the result tells.
        fields["message"] = message
    if result is not None:
        fields["result"] = result
    if status == Status.SUCCEEDED:
        fields["done"] = F("total")
    Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(**fields)


def cancel(job):
    """Queued jobs stop at once; running ones at their next progress report."""
    from epigrid.jobs.models import Job

    Job.objects.filter(pk=job.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED, cancel_requested=True, finished=timezone.now(), message=_("Cancelled.")
    )
    Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(cancel_requested=True)


def dead_worker_message():
    return _("The process running this job stopped unexpectedly (the file may be too large or damaged).")


def _requeue_interrupted(job):
    """A worker stopped by a signal (a restart, Ctrl+C twice) hands its job back to the queue, up
    to MAX_ATTEMPTS runs. Only this clean stop requeues: see recover_stale."""
    from epigrid.jobs.models import Job

    try:
        running = Job.objects.filter(pk=job.pk, status=Status.RUNNING)
        if running.filter(attempts__lt=MAX_ATTEMPTS).update(
            status=Status.QUEUED, message=_("Restarted after the worker stopped.")
        ):
            run_job.enqueue(str(job.pk))
        else:
            running.update(
                status=Status.FAILED,
                finished=timezone.now(),
                message=_("The worker stopped too often while running this job."),
            )
    except Exception:  # the worker is stopping anyway; recover_stale will fail the job
        logger.exception("job %s could not be handed back to the queue", job.pk)


def recover_stale(max_age=None):
    """Fail the jobs whose worker died without a word (no heartbeat for `max_age`: killed, out of
    memory, crashed). They are never queued again: a file that killed one worker would kill the
    next, and every other job would wait behind it (decision 0013). Returns the number failed."""
    from epigrid.jobs.models import Job

    cutoff = timezone.now() - (stale_after() if max_age is None else max_age)
    return Job.objects.filter(status=Status.RUNNING, heartbeat__lte=cutoff).update(
        status=Status.FAILED, finished=timezone.now(), message=dead_worker_message()
    )

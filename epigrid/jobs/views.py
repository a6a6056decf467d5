from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from epigrid.jobs import services
from epigrid.jobs.models import Job


def _my_job(request, pk):
    jobs = Job.objects.all() if request.user.is_superuser else Job.objects.filter(user=request.user)
    return get_object_or_404(jobs, pk=pk)


@login_required
def job_list(request):
    services.recover_stale()
    jobs = Job.objects.filter(user=request.user)[:50]
    return TemplateResponse(request, "jobs/job_list.html", {"jobs": jobs})


@login_required
def job_detail(request, pk):
    """The job's page; htmx polls the same URL for the progress panel while the job runs."""
    job = _my_job(request, pk)
    template = "jobs/_job_panel.html" if request.htmx else "jobs/job_detail.html"
    return TemplateResponse(request, template, {"job": job})


@require_POST
@login_required
def job_cancel(request, pk):
    job = _my_job(request, pk)
    services.cancel(job)
    job.refresh_from_db()
    if request.htmx:
        return TemplateResponse(request, "jobs/_job_panel.html", {"job": job})
    return redirect(job)


@login_required
def job_download(request, pk, which="output"):
    job = _my_job(request, pk)
    field = job.output_file if which == "output" else job.input_file
    if not field:
        raise Http404
    return FileResponse(field.open("rb"), as_attachment=True, filename=field.name.rsplit("/", 1)[-1])

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from epigrid.jobs import services
from epigrid.jobs.models import Job


def _back(request):
    """The list page a form came from (its `back` field), only when it is on this site."""
    back = request.POST.get("back", "")
    if back and url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return back
    return "home"


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


def _ledger(name):
    from epigrid.jobs.imports import LEDGERS

    if name not in LEDGERS:
        raise Http404
    return LEDGERS[name][0]


@login_required
def import_start(request, ledger):
    """Upload a ledger file; it is previewed (dry run) as a job before anything is written."""
    from epigrid.jobs.forms import ImportForm
    from epigrid.jobs.imports import TARGETS, importable_areas, start_import, target_param

    resource_class = _ledger(ledger)
    areas = importable_areas(request.user, ledger)
    if not areas.exists():
        raise PermissionDenied
    form = ImportForm(request.POST or None, request.FILES or None, areas=areas, target=TARGETS.get(ledger))
    if request.method == "POST" and form.is_valid():
        into = form.cleaned_data[target_param(ledger)]
        job = start_import(request.user, ledger, into, upload=form.cleaned_data["file"])
        return redirect(job)
    context = {
        "form": form,
        "ledger": ledger,
        "title": resource_class.title,
        "columns": resource_class.columns,
    }
    return TemplateResponse(request, "jobs/import_start.html", context)


@login_required
def import_template(request, ledger):
    import io

    from epigrid.core.tabular import template_xlsx

    resource_class = _ledger(ledger)
    buffer = io.BytesIO()
    template_xlsx(buffer, resource_class.columns, resource_class.example)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"{resource_class.title}-模板.xlsx")


@require_POST
@login_required
def import_confirm(request, pk):
    """Run the real import of a previewed file (once, however often it is confirmed)."""
    from epigrid.jobs.imports import NotAPreview, PreviewNotFinished, confirm_preview

    try:
        job, _created = confirm_preview(request.user, _my_job(request, pk))
    except (NotAPreview, PreviewNotFinished):
        raise Http404 from None
    return redirect(job)


@require_POST
@login_required
def import_remap(request, pk):
    """The column-mapping step: the user says which file column holds each missing field."""
    from epigrid.jobs.imports import importable_areas, start_import, target_param

    preview = _my_job(request, pk)
    params = preview.params
    if preview.kind != "import" or not (preview.result or {}).get("mapping_needed"):
        raise Http404
    mapping = dict(params.get("mapping") or {})
    for field, _header in preview.result["mapping_needed"]["fields"]:
        header = request.POST.get(f"map_{field}", "").strip()
        if header:
            mapping[header] = field
    area = get_object_or_404(
        importable_areas(request.user, params["ledger"]), code=params[target_param(params["ledger"])]
    )
    job = start_import(
        request.user,
        params["ledger"],
        area,
        dry_run=True,
        mapping=mapping,
        input_name=preview.input_file.name,
    )
    return redirect(job)


@require_POST
@login_required
def export_start(request, name):
    """Export a list with the filters it showed; full personal data only with the right and a reason."""
    from django.contrib import messages
    from django.utils.translation import gettext as _

    from epigrid.core.reasons import clean_reason
    from epigrid.core.scoping import perm_name
    from epigrid.jobs.exports import EXPORTS, may_export_unmasked, start_export

    if name not in EXPORTS:
        raise Http404
    if not request.user.has_scoped_perm(perm_name(EXPORTS[name].model, "view")):
        raise PermissionDenied
    query = request.POST.get("query", "")
    unmasked = bool(request.POST.get("unmasked"))
    reason = request.POST.get("reason", "").strip()
    if unmasked and not may_export_unmasked(request.user, name):
        raise PermissionDenied
    if unmasked:
        try:
            reason = clean_reason(reason)
        except ValidationError:
            messages.error(request, _("Give the reason for exporting full personal data."))
            return redirect(_back(request))
    return redirect(start_export(request.user, name, query, unmasked=unmasked, reason=reason))

"""Imports as jobs: every ledger registered here is imported through the one pipeline
(core.imports) in the background, previewed first, then confirmed."""

import os
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from epigrid.areas.models import Area
from epigrid.core.imports import MappingNeeded, error_report, run_import, summary_rows
from epigrid.jobs.models import Job, Status
from epigrid.jobs.services import attach_output, handler, submit

LEDGERS = {}
# Ledgers whose rows go under something other than an area (a lab's results): name -> LedgerTarget.
TARGETS = {}


@dataclass(frozen=True)
class LedgerTarget:
    """What a ledger is imported into when it is not an area: records with a `code` and a `name`
    (a lab). `choices(user, permission)` are those `user` may import into (user None: the
    command without --user, unrestricted); `param` names the target in the job's params, the
    upload form's field and the command's option (--lab)."""

    param: str
    label: str
    choices: Callable
    help_text: str = ""


def register_ledger(name, resource_class, permission, target=None):
    """`permission` is the one a user needs over the chosen area (or `target`) to import this
    ledger. The resource is built as resource_class(user, area or target record, job=job)."""
    LEDGERS[name] = (resource_class, permission)
    if target is None:
        TARGETS.pop(name, None)
    else:
        TARGETS[name] = target


def target_param(name):
    """The params key (and command option) naming what the ledger is imported into: "area" or the
    target's own ("lab")."""
    return TARGETS[name].param if name in TARGETS else "area"


def importable_areas(user, name):
    """Areas under which `user` may import this ledger; for a ledger with a target, the target
    records (labs) the user may import into."""
    if name in TARGETS:
        return TARGETS[name].choices(user, LEDGERS[name][1])
    return Area.objects.restrict(user, perm=LEDGERS[name][1])


def start_import(user, name, area, upload=None, dry_run=True, mapping=None, input_name=None, preview=None):
    """Queue a preview (dry run) or the real import of an uploaded ledger file. `input_name`
    reuses a stored upload (confirming and re-mapping never upload again)."""
    resource_class, _permission = LEDGERS[name]
    title = (_("Preview: %(ledger)s → %(area)s") if dry_run else _("Import: %(ledger)s → %(area)s")) % {
        "ledger": resource_class.title,
        "area": area.name,
    }
    params = {
        "ledger": name,
        target_param(name): area.code,
        "dry_run": dry_run,
        "mapping": mapping or {},
        "filename": getattr(upload, "name", "") or (input_name or "").rsplit("/", 1)[-1],
    }
    if preview is not None:
        params["preview"] = str(preview.pk)
    return submit("import", user, title, params, input_file=upload, input_name=input_name)


class NotAPreview(ValueError):
    pass


class PreviewNotFinished(ValueError):
    pass


def confirm_preview(user, preview):
    """Start the real import of a finished preview, once: confirming the same preview again (a
    double click, a retried request, the page and the API) returns the import already started.
    Returns (job, created)."""
    params = preview.params
    if preview.kind != "import" or not params.get("dry_run") or params.get("ledger") not in LEDGERS:
        raise NotAPreview(_("Only an import preview can be confirmed."))
    if preview.status != Status.SUCCEEDED:
        raise PreviewNotFinished(
            _("The preview has not finished successfully (%(status)s).")
            % {"status": preview.get_status_display()}
        )
    area = (
        importable_areas(user, params["ledger"]).filter(code=params[target_param(params["ledger"])]).first()
    )
    if area is None:
        raise PermissionDenied(_("You may not import into this area."))
    with transaction.atomic():
        Job.objects.select_for_update().only("pk").get(pk=preview.pk)  # concurrent confirms queue here
        started = (
            Job.objects.filter(kind="import", params__preview=str(preview.pk))
            .exclude(status__in=[Status.FAILED, Status.CANCELLED])
            .first()
        )
        if started is not None:
            return started, False
        job = start_import(
            user,
            params["ledger"],
            area,
            dry_run=False,
            mapping=params.get("mapping"),
            input_name=preview.input_file.name,
            preview=preview,
        )
    return job, True


@handler("import")
def import_job(job, progress):
    params = job.params
    resource_class, _permission = LEDGERS[params["ledger"]]
    area = importable_areas(job.user, params["ledger"]).get(code=params[target_param(params["ledger"])])
    resource = resource_class(job.user, area, job=job)
    try:
        with job.input_file.open("rb") as fileobj:
            result = run_import(
                resource,
                fileobj,
                params.get("filename", ""),
                dry_run=params["dry_run"],
                progress=progress,
                mapping_override=params.get("mapping") or None,
            )
    except MappingNeeded as exc:
        return {
            "mapping_needed": {
                "headers": [h for h in exc.headers if h],
                "fields": [[c.field, c.header] for c in resource.columns],
                "missing": exc.missing,
            },
            "message": str(exc),
        }
    payload = result.as_dict()
    payload["errors"] = payload["errors"][:200]
    payload["warnings"] = payload["warnings"][:200]
    payload["summary"] = summary_rows(result)
    if result.rejected:
        base = os.path.splitext(params.get("filename") or "ledger")[0]
        attach_output(job, f"{base}-错误报告.xlsx", ContentFile(error_report(result)))
        payload["download_label"] = _("Download the error report")
    if params["dry_run"] and (result.created or result.updated):
        payload["actions"] = [
            {
                "name": "confirm",
                "label": _("Import these rows"),
                "url": reverse("jobs:import_confirm", args=[job.pk]),
            }
        ]
    return payload

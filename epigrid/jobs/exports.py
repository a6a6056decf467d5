"""Exports as jobs: any list, with its current filters, streamed to xlsx with flat memory.
Personal data is masked unless a role that may reveal it asks for full data with a reason;
every export is in the audit log."""

import os
import tempfile

from django.core.files import File
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.audit.services import log_export
from epigrid.core.tabular import stream_xlsx
from epigrid.jobs.services import attach_output, handler, submit

EXPORTS = {}
PROGRESS_EVERY = 10_000


class Export:
    """A list's export: the list's model and filterset, its columns, and how to fetch rows."""

    name = ""
    title = ""
    model = None
    filterset_class = None
    personal = False  # rows carry ID numbers or phones: masked unless revealed
    reveal_perm = None  # the permission that allows full data; default app.reveal_<model>
    headers = ()
    text_columns = frozenset()

    def __init__(self, user, unmasked=False):
        self.user = user
        self.unmasked = unmasked

    @classmethod
    def full_data_perm(cls):
        return cls.reveal_perm or f"{cls.model._meta.app_label}.reveal_{cls.model._meta.model_name}"

    def queryset(self, query):
        # Full data only where the user may reveal it; otherwise where they may view.
        if self.unmasked:
            base = self.model.objects.restrict(self.user, perm=self.full_data_perm())
        else:
            base = self.model.objects.restrict(self.user, "view")
        filterset = self.filterset_class(QueryDict(query), queryset=base, request=_RequestLike(self.user))
        return filterset.qs if filterset.is_valid() else base.none()

    def rows(self, queryset):
        raise NotImplementedError


class _RequestLike:
    """Filtersets look at request.user for their scoped choices; a job has no request."""

    def __init__(self, user):
        self.user = user


def register_export(export_class):
    EXPORTS[export_class.name] = export_class
    return export_class


def may_export_unmasked(user, name):
    return EXPORTS[name].personal and user.has_scoped_perm(EXPORTS[name].full_data_perm())


def start_export(user, name, query, unmasked=False, reason=""):
    export_class = EXPORTS[name]
    unmasked = bool(unmasked and may_export_unmasked(user, name))
    title = _("Export: %(list)s") % {"list": export_class.title}
    return submit(
        "export", user, title, {"export": name, "query": query, "unmasked": unmasked, "reason": reason}
    )


@handler("export")
def export_job(job, progress):
    params = job.params
    export = EXPORTS[params["export"]](job.user, unmasked=params["unmasked"])
    queryset = export.queryset(params["query"])
    total = queryset.count()
    progress(0, total, _("Writing %(n)d rows") % {"n": total})

    def counted(rows):
        for index, row in enumerate(rows, start=1):
            if index % PROGRESS_EVERY == 0:
                progress(index, total)
            yield row

    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        written = stream_xlsx(
            path,
            list(export.headers),
            counted(export.rows(queryset)),
            sheet_name=export.title,
            text_columns=export.text_columns,
        )
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        with open(path, "rb") as fileobj:
            attach_output(job, f"{export.title}-{stamp}.xlsx", File(fileobj))
    finally:
        os.unlink(path)
    log_export(export.model, written, params["query"], params["unmasked"], params.get("reason", ""))
    return {
        "summary": [
            [_("Rows"), written],
            [_("Full personal data"), _("yes") if params["unmasked"] else _("no, masked")],
        ],
        "download_label": _("Download the xlsx"),
    }

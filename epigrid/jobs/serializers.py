from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from epigrid.jobs.forms import MAX_UPLOAD_BYTES
from epigrid.jobs.models import Job


class JobSerializer(serializers.ModelSerializer):
    """A job of the requesting user: progress while it runs, its result and file once it ends."""

    url = serializers.HyperlinkedIdentityField(view_name="job-detail")
    percent = serializers.IntegerField(read_only=True)
    result = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()
    api_download = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "url",
            "kind",
            "title",
            "status",
            "done",
            "total",
            "percent",
            "message",
            "result",
            "created",
            "started",
            "finished",
            "download",
            "api_download",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.JSONField(
            allow_null=True,
            help_text="What the job produced: for imports the counts, row errors (sheet row numbers), "
            "summary, and `rows`: the file's first 50 rows, each with its sheet row number, `action` "
            "(create, update, unchanged, rejected), `cells` ([header, value]: document numbers and "
            "phones masked, the birth year only) and `notes` (new building, new household, changes, "
            "why it is rejected); for exports the summary.",
        )
    )
    def get_result(self, job):
        if not job.result:
            return job.result
        # A failed job keeps its traceback for the operators; API clients get the message.
        result = {key: value for key, value in job.result.items() if key != "traceback"}
        return result or None

    @extend_schema_field(
        serializers.URLField(
            allow_null=True,
            help_text="The output file (error report, export) on the page route; needs a session login.",
        )
    )
    def get_download(self, job):
        return self._absolute(job, "jobs:job_download")

    @extend_schema_field(
        serializers.URLField(
            allow_null=True,
            help_text="The same output file through the API (token or session authentication).",
        )
    )
    def get_api_download(self, job):
        return self._absolute(job, "job-download")

    def _absolute(self, job, view_name):
        if not job.output_file:
            return None
        url = reverse(view_name, args=[job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


@extend_schema_field({"type": "string", "format": "binary"})
class UploadField(serializers.FileField):
    """A file in a multipart request (plain FileField would be documented as a URI)."""


class ImportRequestSerializer(serializers.Serializer):
    """An uploaded ledger file to check (dry run, the default) or import into one area."""

    # The view puts the ledger's importable `areas` and its `resource_class` in the context.
    file = UploadField(help_text="The ledger: xlsx, xls or csv, at most 50 MB.")
    area = serializers.CharField(
        max_length=32, help_text="Code of the area to import into: a community or a single grid."
    )
    dry_run = serializers.BooleanField(
        default=True, help_text="Only check the file (the default); confirm the preview to import it."
    )
    mapping = serializers.JSONField(
        required=False,
        help_text='Optional column mapping as a JSON object, file header → field (e.g. {"证件": '
        '"doc_number"}); an empty field ignores that column.',
    )

    def validate_file(self, upload):
        if upload.size > MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(_("The file is larger than 50 MB; split it."))
        return upload

    def validate_area(self, code):
        area = self.context["areas"].filter(code=code.strip()).first()
        if area is None:
            raise serializers.ValidationError(
                _("You may not import this ledger into area %(code)s; choose one of your own areas.")
                % {"code": code}
            )
        return area

    def validate_mapping(self, mapping):
        if mapping in (None, ""):
            return {}
        fields = {column.field for column in self.context["resource_class"].columns}
        if not isinstance(mapping, dict) or not all(
            isinstance(header, str) and (value in ("", None) or value in fields)
            for header, value in mapping.items()
        ):
            raise serializers.ValidationError(
                _('Give a JSON object mapping file headers to fields: %(fields)s (or "" to ignore a column).')
                % {"fields": ", ".join(sorted(fields))}
            )
        return mapping


class ExportRequestSerializer(serializers.Serializer):
    query = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text='The list\'s filters as a query string, e.g. "area=620102001001001&tag=elderly_alone".',
    )
    unmasked = serializers.BooleanField(
        default=False, help_text="Full ID numbers and phones; needs the reveal right and a reason."
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=500,
        help_text="Why full personal data is exported (at least 2 characters); logged.",
    )

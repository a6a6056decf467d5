"""The administrator's form for a report form: the field list edited as JSON, its errors listed one
per field (reports.schema)."""

import json

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from epigrid.core.forms import style_form
from epigrid.reports import services
from epigrid.reports.models import ReportForm


class ReportFormForm(forms.ModelForm):
    fields_json = forms.CharField(
        label=_lazy("Fields (JSON list)"),
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "false", "class": "font-monospace"}),
        help_text=_lazy(
            'Each field: {"key": "new_arrivals", "label": {"zh": "新增来返人员", "en": "New arrivals"}, '
            '"type": "int", "required": true, "min": 0, "live": "arrivals", "event": true}. Types: int, '
            "decimal, text, bool, choice (with choices)."
        ),
    )

    class Meta:
        model = ReportForm
        fields = [
            "code",
            "name",
            "name_en",
            "kind",
            "unit_level",
            "due_time",
            "period",
            "zero_statement",
            "active",
        ]
        widgets = {"due_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["fields_json"] = json.dumps(self.instance.fields or [], ensure_ascii=False, indent=2)
        style_form(self)

    def clean_fields_json(self):
        try:
            return json.loads(self.cleaned_data["fields_json"])
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from None

    def clean(self):
        cleaned = super().clean()
        if "fields_json" in cleaned:
            self.instance.fields = cleaned["fields_json"]
            self.instance.kind = cleaned.get("kind") or self.instance.kind
            self.instance.zero_statement = cleaned.get("zero_statement", "")
            try:
                services.check_form(self.instance)
            except forms.ValidationError as exc:
                for message in exc.message_dict.get("fields", exc.messages):
                    self.add_error("fields_json", message)
        return cleaned

from django import forms
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Area
from epigrid.core.forms import StyledFormMixin, style_form
from epigrid.core.widgets import AutocompleteSelect

MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class ImportForm(StyledFormMixin, forms.Form):
    area = forms.ModelChoiceField(
        label=_("Import into"),
        queryset=Area.objects.none(),
        to_field_name="code",
        widget=AutocompleteSelect("areas.area"),
        help_text=_("A community (rows then need a grid column) or a single grid."),
    )
    file = forms.FileField(label=_("Ledger file (xlsx, xls or csv)"))

    def __init__(self, *args, areas, target=None, **kwargs):
        super().__init__(*args, **kwargs)
        if target is None:
            self.fields["area"].queryset = areas
            return
        # A ledger imported into something else (a lab's results): its own few choices instead.
        del self.fields["area"]
        self.fields[target.param] = forms.ModelChoiceField(
            label=target.label, queryset=areas, to_field_name="code", help_text=target.help_text
        )
        if areas.count() == 1:
            self.fields[target.param].initial = areas.first().code
        self.order_fields([target.param, "file"])
        style_form(self)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("The file is larger than 50 MB; split it."))
        return upload

from django import forms
from django.utils.translation import gettext_lazy as _

from epigrid.retests.models import RetestTask


class RetestTaskForm(forms.ModelForm):
    class Meta:
        model = RetestTask
        fields = ["note"]


class MoveForm(forms.Form):
    barcode = forms.CharField(label=_("Retest tube barcode"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

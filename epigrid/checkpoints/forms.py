"""Forms of the checkpoint pages: checkpoints and shifts are kept by the command centre and streets;
passages come only through `checkpoints.services.record` (the gate page, the batch API)."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from epigrid.checkpoints.models import Checkpoint, Shift
from epigrid.core.forms import StyledFormMixin
from epigrid.core.widgets import AutocompleteSelect


def _staff():
    return (
        get_user_model()
        .objects.filter(grants__role="checkpoint_staff", is_active=True)
        .distinct()
        .order_by("username")
    )


class CheckpointForm(StyledFormMixin, forms.ModelForm):
    staff = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        label=_("Checkpoint staff"),
        help_text=_("Users holding the checkpoint staff role; they see and record only at their posts."),
    )

    class Meta:
        model = Checkpoint
        fields = ["name", "kind", "area", "location", "is_active", "staff"]
        widgets = {"area": AutocompleteSelect("areas.area")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = _staff()


class ShiftForm(StyledFormMixin, forms.ModelForm):
    staff = forms.ModelMultipleChoiceField(queryset=None, required=False, label=_("On duty"))

    class Meta:
        model = Shift
        fields = ["checkpoint", "day", "starts", "ends", "leader", "staff"]
        widgets = {
            "day": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "starts": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "ends": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = _staff()

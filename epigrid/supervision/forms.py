"""Forms of the supervision pages; every rule lives in supervision.services, the forms only
shape the input (the phone's camera for photos, a datetime picker for deadlines)."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from epigrid.accounts.models import Grant
from epigrid.areas.models import Area
from epigrid.core.forms import StyledFormMixin
from epigrid.supervision import services
from epigrid.supervision.models import Category, FoundBy
from epigrid.supervision.photos import validate_photos

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one field (the phone's camera or gallery), each checked by Pillow."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png", "capture": "environment"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        uploads = [u for u in (data if isinstance(data, list | tuple) else [data]) if u]
        if self.required and not uploads:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return validate_photos([super(PhotosField, self).clean(u, initial) for u in uploads])


def _deadline_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)


def responsible_choices(user):
    """Officials posted inside the areas where the user raises items: whom they can task."""
    users = get_user_model().objects.filter(is_active=True)
    paths = user.scope_paths(services.RAISE) if user is not None else None
    grants = Grant.objects.all()
    if paths is not None:
        q = Q()
        for path in paths:
            q |= Q(area__path__startswith=path)
        grants = grants.filter(q) if paths else grants.none()
    return users.filter(pk__in=grants.values("user")).order_by("username")


class ResponsibleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class RaiseForm(StyledFormMixin, forms.Form):
    area = forms.ModelChoiceField(queryset=Area.objects.none(), label=_("Area"), to_field_name="code")
    title = forms.CharField(label=_("Problem"), max_length=120)
    category = forms.ChoiceField(label=pgettext_lazy("supervision", "Category"), choices=Category.choices)
    found_by = forms.ChoiceField(label=_("Found by"), choices=FoundBy.choices[:3], initial=FoundBy.INSPECTION)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    responsible = ResponsibleChoiceField(
        queryset=get_user_model().objects.none(), label=_("Responsible person"), required=False
    )
    due_at = forms.DateTimeField(
        label=pgettext_lazy("supervision", "Deadline"),
        widget=_deadline_input(),
        input_formats=[DATETIME_LOCAL],
    )
    photos = PhotosField(label=_("Photos of the problem"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.restrict(user, perm=services.RAISE).filter(level__lte=5)
        self.fields["responsible"].queryset = responsible_choices(user)
        if not self.is_bound:
            self.initial.setdefault(
                "due_at", (timezone.localtime() + datetime.timedelta(days=1)).strftime(DATETIME_LOCAL)
            )


class AssignForm(StyledFormMixin, forms.Form):
    responsible = ResponsibleChoiceField(
        queryset=get_user_model().objects.none(), label=_("Responsible person")
    )
    due_at = forms.DateTimeField(
        label=pgettext_lazy("supervision", "Deadline"),
        widget=_deadline_input(),
        input_formats=[DATETIME_LOCAL],
        required=False,
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = responsible_choices(user)


class SubmitForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 3}))
    photos = PhotosField(label=_("Photos of the fix"))


class NoteForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class PhotoForm(StyledFormMixin, forms.Form):
    photos = PhotosField(label=_("Photos"), required=True)

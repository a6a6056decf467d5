"""Forms of the round pages: rounds, points and desks, tubes by hand. They collect and check
input; every write goes through testing.services or the generic edit view (change log, scope
check after the save)."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.areas.models import Area, Level
from epigrid.core import identity, reasons
from epigrid.core.forms import StyledFormMixin
from epigrid.core.scoping import ancestor_paths
from epigrid.core.widgets import AutocompleteSelect, CheckboxChoices
from epigrid.testing.models import Campaign, Desk, Sample, SamplingPoint, Tube

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
# Past this many areas of a level in the user's scope the "areas covered" checkboxes stop a level
# higher: a city administrator's thousands of communities are no list to tick on a phone.
MAX_AREA_CHOICES = 300


def _datetime_input():
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)


def _inside(path, paths):
    return any(path.startswith(p) for p in paths)


class CoveredAreasField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        # Indented by level so a street's communities read as its own on a phone.
        return f"{'　' * max(obj.level - Level.DISTRICT, 0)}{obj.name}"


def _coverable(scoped, campaign):
    """The areas a round may cover, as checkboxes: down to the finest level that still makes a
    short list (a street's grids, a district's communities, a city's streets), plus those the
    round already covers."""
    for level in (Level.GRID, Level.COMMUNITY, Level.STREET):
        if level == Level.STREET or scoped.filter(level=level).count() <= MAX_AREA_CHOICES:
            break
    choices = scoped.filter(level__lte=level)
    if campaign.pk:
        choices = choices | Area.objects.filter(pk__in=campaign.areas.values("pk"))
    return choices.order_by("path")


class CampaignForm(StyledFormMixin, forms.ModelForm):
    """A round's fields. Organiser and areas covered are limited to where the user may run rounds;
    each covered area must lie inside the organiser's area. The pooling size is fixed once the
    round has started: tubes already opened keep their capacity, and desks would disagree."""

    class Meta:
        model = Campaign
        fields = [
            "name",
            "area",
            "areas",
            "kind",
            "pooling",
            "starts_at",
            "ends_at",
            "turnaround_hours",
            "transport_hours",
            "tube_prefix",
            "tube_length",
            "tube_pattern",
            "tube_check",
        ]
        field_classes = {"areas": CoveredAreasField}
        widgets = {
            "area": AutocompleteSelect("areas.area"),
            "areas": CheckboxChoices,
            "starts_at": _datetime_input(),
            "ends_at": _datetime_input(),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        action = "change" if self.instance.pk else "add"
        scoped = Area.objects.restrict(user, perm=f"testing.{action}_campaign")
        self.fields["area"].queryset = scoped
        self.fields["areas"].queryset = _coverable(scoped, self.instance)
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = [DATETIME_LOCAL]
        if self.instance.pk and self.instance.status != Campaign.Status.PLANNED:
            self.fields["pooling"].disabled = True
            self.fields["pooling"].help_text = _("Fixed once the round has started.")

    def clean(self):
        data = super().clean()
        area, covered = data.get("area"), data.get("areas") or []
        if area:
            outside = [a.name for a in covered if not a.path.startswith(area.path)]
            if outside:
                self.add_error(
                    "areas",
                    _("These areas lie outside the organising area: %(names)s.")
                    % {"names": "、".join(outside)},
                )
        return data


class CampaignCreateForm(CampaignForm):
    """A new round: the points and desks of an earlier round come along (preselected: the last
    round of the organiser), so round N+1 is set up in a minute."""

    copy_from = forms.ModelChoiceField(
        queryset=Campaign.objects.none(),
        required=False,
        label=_("Copy points and desks from"),
        help_text=_("Leave empty to start without points."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        # First on the page: which round to start from is the first decision.
        self.order_fields(["copy_from", "name", "area"])
        self.fields["copy_from"].queryset = Campaign.objects.restrict(user, "view").select_related("area")
        self.fields["areas"].required = False
        self.fields["areas"].help_text = _(
            "Leave empty for the areas of the copied round, or else the whole organising area."
        )
        if not self.is_bound:
            organiser = self.fields["area"].queryset.order_by("level", "path").first()
            now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
            self.initial.setdefault("area", organiser.pk if organiser else None)
            self.initial.setdefault("starts_at", now + datetime.timedelta(hours=1))
            self.initial.setdefault("ends_at", now + datetime.timedelta(hours=25))
            if organiser is not None:
                last = Campaign.objects.filter(area=organiser).order_by("-starts_at", "-id").first()
                self.initial.setdefault("copy_from", last.pk if last else None)

    def service_fields(self):
        """Keyword arguments for services.create_campaign. An empty "copy from" is the user's
        choice not to copy (False): None would make the service copy the last round anyway."""
        fields = {name: self.cleaned_data[name] for name in self._meta.fields if name != "areas"}
        return {
            **fields,
            "copy_from": self.cleaned_data.get("copy_from") or False,
            "areas": list(self.cleaned_data.get("areas") or []),
        }


class NoteForm(StyledFormMixin, forms.Form):
    """A workflow step's note; `required` where the step needs one (reopening a finished round)."""

    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, note_required=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["note"].required = note_required


class SamplerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        full = obj.get_full_name() if hasattr(obj, "get_full_name") else ""
        return f"{full}（{obj.get_username()}）" if full else obj.get_username()


def samplers_near(paths):
    """Users holding a sampler grant over, or inside, one of `paths` (None: anywhere)."""
    users = get_user_model().objects.filter(is_active=True)
    if paths is None:
        return users.filter(grants__role="sampler").distinct().order_by("username")
    q = Q()
    for path in paths:
        q |= Q(grants__area__path__startswith=path) | Q(grants__area__path__in=ancestor_paths([path]))
    # One filter() call: the same grant must be a sampler's and lie over or inside the area.
    users = users.filter(q & Q(grants__role="sampler")) if paths else users.none()
    return users.distinct().order_by("username")


class SamplingPointForm(StyledFormMixin, forms.ModelForm):
    """A point of a round. Its area lies inside the round's areas and where the user may set up
    points; its staff are users posted as samplers over that area."""

    class Meta:
        model = SamplingPoint
        fields = ["name", "area", "address", "latitude", "longitude", "hours", "is_home_team", "staff"]
        field_classes = {"staff": SamplerChoiceField}
        widgets = {"area": AutocompleteSelect("areas.area"), "staff": CheckboxChoices}
        help_texts = {"hours": _("e.g. 07:00–12:00, 14:00–20:00")}

    def __init__(self, *args, user, campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.instance.campaign = campaign
        action = "change" if self.instance.pk else "add"
        self.fields["area"].queryset = Area.objects.restrict(user, perm=f"testing.{action}_samplingpoint")
        if self.instance.pk:
            paths = [self.instance.area.path]
        else:
            paths = user.scope_paths(f"testing.{action}_samplingpoint")
        self.fields["staff"].queryset = samplers_near(paths)
        self.fields["staff"].help_text = _("Users posted as samplers over this point's area.")

    def clean(self):
        data = super().clean()
        area = data.get("area")
        if area is None:
            return data
        covered = [a.path for a in self.campaign.areas.all()] or [self.campaign.area.path]
        if not _inside(area.path, covered):
            self.add_error("area", _("This area lies outside the round's areas."))
        staff = data.get("staff")
        if staff:
            near = set(
                samplers_near([area.path]).filter(pk__in=[u.pk for u in staff]).values_list("pk", flat=True)
            )
            far = [u.get_username() for u in staff if u.pk not in near]
            if far:
                self.add_error(
                    "staff",
                    _("Not posted as samplers over this area: %(names)s.") % {"names": "、".join(far)},
                )
        return data


class DeskForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Desk
        fields = ["name", "is_active"]

    def __init__(self, *args, point, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.point = point

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = Desk.objects.filter(point=self.instance.point, name=name).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("This point already has a desk of that name."))
        return name


class SampleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.position}. {sample_name(obj, masked=True)}"


def sample_name(sample, masked):
    """The name the page shows for a sample's person (or unregistered find)."""
    if sample.person_id:
        name = sample.person.name
    elif sample.find_id:
        name = sample.find.name
    else:
        name = ""
    if not name:
        return "—"
    return identity.mask_name(name) if masked else name


class MoveSampleForm(StyledFormMixin, forms.Form):
    """Move one person's sample to another open tube of the round, with the reason (audited)."""

    sample = SampleChoiceField(queryset=Sample.objects.none(), label=_("Sample"))
    to_tube = forms.CharField(label=_("To tube (barcode)"), max_length=40)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("e.g. scanned into the wrong tube, the tube leaked"),
    )

    def __init__(self, *args, tube, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.tube = tube
        self.fields["sample"].queryset = (
            tube.samples.filter(status=Sample.Status.ACTIVE)
            .select_related("person", "find")
            .order_by("position")
        )
        self.fields["to_tube"].widget.attrs.update({"autocomplete": "off", "autocapitalize": "characters"})

    def clean_to_tube(self):
        code = identity.normalise_text(self.cleaned_data["to_tube"])
        tube = Tube.objects.restrict(self.user, "view").filter(barcode=code).first()
        if tube is None:
            raise ValidationError(_("No tube with this barcode among the tubes you see."))
        return tube

    def clean_reason(self):
        try:
            return reasons.clean_reason(self.cleaned_data["reason"])
        except ValidationError:
            raise ValidationError(
                _("Say why the sample moves (at least two letters or characters).")
            ) from None

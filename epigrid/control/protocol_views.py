"""Protocol administration (system administrators only): the protocols with their rules in a
readable table, switching the active protocol after a preview of every plan that changes, and
new versions (a protocol used for plans is never edited: docs/decisions/0011). Every role that
sees control data reads the rules of the protocol in force (and of any protocol plans or zones
follow) on the same page, without the administration."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.forms.fields import InvalidJSONInput
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView
from django_tables2 import SingleTableView

from epigrid.accounts.roles import CONTROL_MODELS
from epigrid.control import plans, services
from epigrid.control.models import (
    ZONE_LEVEL_LABELS,
    Category,
    ControlMeasure,
    KeyPerson,
    MeasureKind,
    Protocol,
    Zone,
)
from epigrid.control.tables import ProtocolTable
from epigrid.core.forms import StyledFormMixin

PREVIEW_ROWS = 200
ANCHOR_LABELS = {
    "last_exposure": gettext_lazy("Last exposure"),
    "arrival": gettext_lazy("Arrival"),
    "discharge": gettext_lazy("Discharge"),
    "identified": gettext_lazy("Identified on"),
}
SYNCED_KEYS = ("code", "name", "short_name", "published")  # kept equal to the form's fields


def is_system_admin(user):
    """Protocols are administered by superusers and holders of a system_admin grant."""
    return user.is_authenticated and (user.is_superuser or "system_admin" in user.roles)


CONTROL_VIEW_PERMS = tuple(f"control.view_{label.split('.')[1]}" for label in CONTROL_MODELS)


def reads_control(user):
    """Roles that see control data somewhere read the protocols their plans and zones follow."""
    return user.is_authenticated and any(user.has_scoped_perm(perm) for perm in CONTROL_VIEW_PERMS)


class SystemAdminRequired(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_system_admin(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _in_use(protocol):
    """Used for plans (the model's rule) or for zones, whose downgrade dates its rules give."""
    return protocol.in_use or protocol.zones.exists()


# -- reading rules --------------------------------------------------------------------------------


def readable_rules(rules):
    """The rule set as rows for the page: categories with their steps, and the zone levels."""
    categories = dict(Category.choices)
    measures = dict(MeasureKind.choices)
    rows = []
    for code in plans.CATEGORIES:
        spec = rules["categories"].get(code)
        if spec is None:
            continue
        rows.append(
            {
                "category": categories[code],
                "anchor": ANCHOR_LABELS.get(spec.get("anchor", "identified")),
                "traced": plans.is_traced(rules, code),
                "steps": [
                    {
                        "number": number,
                        "measure": measures.get(step["measure"], step["measure"]),
                        "days": step.get("days"),
                        "tests": step.get("tests", []),
                        "temps": step.get("temps", 2),
                    }
                    for number, step in enumerate(spec.get("chain", []), start=1)
                ],
            }
        )
    zones = rules["zones"]
    downgrade = zones["downgrade"]
    levels = []
    for level in zones.get("levels", []):
        rule = downgrade.get(level) or {}
        levels.append(
            {
                "label": ZONE_LEVEL_LABELS.get(level, level),
                "to": ZONE_LEVEL_LABELS.get(rule.get("to"), rule.get("to")) if rule.get("to") else None,
                "days": rule.get("case_free_days"),
                "lifts": rule.get("to") is not None and rule.get("to") == zones.get("lift_at"),
            }
        )
    return {
        "categories": rows,
        "levels": levels,
        "lift_at": ZONE_LEVEL_LABELS.get(zones.get("lift_at"), zones.get("lift_at")),
        "day_one_offset": rules.get("day_one_offset", 1),
    }


class ProtocolListView(SystemAdminRequired, SingleTableView):
    model = Protocol
    table_class = ProtocolTable
    template_name = "control/protocol_list.html"

    def get_queryset(self):
        return Protocol.objects.annotate(
            used=Exists(ControlMeasure.objects.filter(protocol=OuterRef("pk")))
            | Exists(Zone.objects.filter(protocol=OuterRef("pk")))
        ).order_by("-published", "-id")


class ProtocolDetailView(LoginRequiredMixin, TemplateView):
    """The rules; administrators also get the actions and the city-wide counts. Other readers
    (reads_control) see the active protocol and those in use, read-only: a draft stays the
    administrators' (403)."""

    template_name = "control/protocol_detail.html"

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and not (is_system_admin(user) or reads_control(user)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        protocol = get_object_or_404(Protocol, pk=kwargs["pk"])
        administers = is_system_admin(self.request.user)
        in_use = _in_use(protocol)
        if not administers and not (protocol.is_active or in_use):
            raise PermissionDenied
        ctx.update(
            protocol=protocol, in_use=in_use, administers=administers, rules=readable_rules(protocol.rules)
        )
        if administers:  # counts over the whole city, beyond a reader's areas
            ctx.update(
                open_entries=KeyPerson.objects.filter(
                    status=KeyPerson.Status.OPEN, protocol=protocol
                ).count(),
                zones=Zone.objects.filter(protocol=protocol).exclude(status=Zone.Status.LIFTED).count(),
            )
        return ctx


# -- switching ------------------------------------------------------------------------------------


def _steps_text(steps):
    labels = dict(MeasureKind.choices)
    return [
        {
            "measure": labels.get(kind, kind),
            "start": start,
            "end": end,
        }
        for kind, start, end in steps
    ]


class ProtocolActivateView(SystemAdminRequired, TemplateView):
    """GET: every open entry whose plan would change, old steps and new; POST: make it active
    (services.activate re-plans every open entry)."""

    template_name = "control/protocol_activate.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        protocol = get_object_or_404(Protocol, pk=kwargs["pk"])
        changes = [] if protocol.is_active else services.switch_preview(protocol)
        ctx.update(
            protocol=protocol,
            current=Protocol.objects.filter(is_active=True).first(),
            total=len(changes),
            shown=PREVIEW_ROWS,
            changes=[
                {
                    "entry": entry,
                    "old": _steps_text(old),
                    "new": _steps_text(new),
                    "closes": not plans.is_traced(protocol.rules, entry.category),
                }
                for entry, old, new in changes[:PREVIEW_ROWS]
            ],
        )
        return ctx

    def post(self, request, pk):
        protocol = get_object_or_404(Protocol, pk=pk)
        if protocol.is_active:
            messages.info(request, _("%(protocol)s is already the active protocol.") % {"protocol": protocol})
            return redirect("control:protocol_detail", pk=protocol.pk)
        count = KeyPerson.objects.filter(status=KeyPerson.Status.OPEN).count()
        services.activate(protocol)
        messages.success(
            request,
            _("%(protocol)s is now the active protocol; %(count)d open entries were re-planned.")
            % {"protocol": protocol, "count": count},
        )
        return redirect("control:protocol_detail", pk=protocol.pk)


# -- new versions ---------------------------------------------------------------------------------


class RulesField(forms.JSONField):
    """The rules as indented JSON with Chinese as it is (not \\u escapes)."""

    def prepare_value(self, value):
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


def rules_shape_errors(rules):
    """What plans.validate_rules takes for granted: objects and lists where it expects them."""
    if not isinstance(rules, dict):
        return [_("The rules must be a JSON object.")]
    errors = []
    categories, zones = rules.get("categories"), rules.get("zones")
    if not isinstance(categories, dict):
        errors.append(_("'categories' must be an object with one entry per category."))
    else:
        for category, spec in categories.items():
            chain = spec.get("chain") if isinstance(spec, dict) else None
            if not isinstance(chain, list) or not all(isinstance(step, dict) for step in chain):
                errors.append(_("%(c)s: 'chain' must be a list of steps.") % {"c": category})
                continue
            for index, step in enumerate(chain, start=1):
                if not isinstance(step.get("tests", []), list):
                    errors.append(
                        _("%(c)s step %(i)d: 'tests' must be a list of days.") % {"c": category, "i": index}
                    )
    if not isinstance(zones, dict):
        errors.append(_("'zones' must be an object with 'levels', 'downgrade' and 'lift_at'."))
        return errors
    if not {"levels", "downgrade"} <= zones.keys():
        errors.append(_("'zones' must be an object with 'levels', 'downgrade' and 'lift_at'."))
        return errors
    levels = zones.get("levels")
    if not isinstance(levels, list) or not all(isinstance(level, str) for level in levels):
        errors.append(_("'levels' must be a list of zone levels."))
    else:
        unknown = [level for level in levels if level not in ZONE_LEVEL_LABELS]
        if unknown:
            errors.append(
                _("Unknown zone level %(levels)s; known levels: %(known)s.")
                % {"levels": ", ".join(unknown), "known": ", ".join(ZONE_LEVEL_LABELS)}
            )
    downgrade = zones["downgrade"]
    if not isinstance(downgrade, dict) or not all(isinstance(rule, dict) for rule in downgrade.values()):
        errors.append(_("'downgrade' must be an object with one rule per level."))
    else:
        for level, rule in downgrade.items():
            days = rule.get("case_free_days")
            if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
                errors.append(
                    _("Zone level %(l)s: case_free_days must be a positive whole number or null.")
                    % {"l": level}
                )
    return errors


class ProtocolForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Protocol
        fields = ["code", "name", "short_name", "published", "rules"]
        field_classes = {"rules": RulesField}
        widgets = {
            "published": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "rules": forms.Textarea(
                attrs={"rows": 30, "class": "font-monospace small", "spellcheck": "false"}
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rules"].help_text = _(
            "JSON: day_one_offset, categories (anchor, chain of steps: measure, days, tests, temps) and "
            "zones (levels, downgrade, lift_at). Code, name, short name and date in it follow the fields above."
        )

    def clean_rules(self):
        rules = self.cleaned_data["rules"]
        errors = rules_shape_errors(rules)
        if errors:
            raise ValidationError(errors)
        try:
            plans.validate_rules(rules)  # its ValidationError lands on this field
        except (AttributeError, TypeError, KeyError):  # a shape rules_shape_errors does not know
            raise ValidationError(_("The rules do not have the expected structure.")) from None
        return rules

    def clean(self):
        data = super().clean()
        rules = data.get("rules")
        if isinstance(rules, dict):
            for key in SYNCED_KEYS:
                if key in rules and data.get(key):
                    rules[key] = data[key].isoformat() if key == "published" else data[key]
        return data

    def _update_errors(self, errors):
        # The model's clean() checks the rules again; its messages belong to the rules field, once.
        if hasattr(errors, "error_dict"):
            general = errors.error_dict.pop(NON_FIELD_ERRORS, [])
        else:
            general, errors = errors.error_list, None
        if general and not self.has_error("rules"):
            self.add_error("rules", general)
        if errors is not None and errors.error_dict:
            super()._update_errors(errors)


def _free_code(code):
    base = code[:28]
    for n in range(2, 100):
        candidate = f"{base}-{n}"
        if not Protocol.objects.filter(code=candidate).exists():
            return candidate
    return ""


class ProtocolFormView(SystemAdminRequired, TemplateView):
    """A new version copied from a protocol (`new`), or an unused protocol edited in place."""

    template_name = "control/protocol_form.html"
    new = True

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.source = get_object_or_404(Protocol, pk=kwargs["pk"])

    def _refuse_in_use(self):
        """An unused protocol may be edited; one used for plans or zones gets a new version."""
        if self.new or not _in_use(self.source):
            return None
        messages.warning(
            self.request,
            _("This protocol has been used for plans and cannot be edited; add a new version instead."),
        )
        return redirect("control:protocol_new_version", pk=self.source.pk)

    def form(self, data=None):
        if not self.new:
            return ProtocolForm(data, instance=self.source)
        initial = {
            "code": _free_code(self.source.code),
            "name": self.source.name,
            "short_name": self.source.short_name,
            "published": self.source.published,
            "rules": self.source.rules,
        }
        return ProtocolForm(data, initial=initial)

    def get(self, request, *args, **kwargs):
        return self._refuse_in_use() or self.render_to_response(self._context(self.form()))

    def post(self, request, *args, **kwargs):
        refused = self._refuse_in_use()
        if refused:
            return refused
        form = self.form(request.POST)
        if form.is_valid():
            protocol = form.save()
            messages.success(
                request,
                (
                    _("Added %(object)s. Make it active when it should apply.")
                    if self.new
                    else _("Saved %(object)s.")
                )
                % {"object": protocol},
            )
            return redirect("control:protocol_detail", pk=protocol.pk)
        return self.render_to_response(self._context(form), status=400)

    def _context(self, form):
        return {"form": form, "source": self.source, "new": self.new}

"""Pass pages (/passes/): passes (list, a pass with its uses and what is left of its window, the card
PDF), issuing (one pass, or a zone's households at once), the gate's scan page, and the uses.

Every write goes through passes.services; a refusal comes back as a message on the page. Reads go
through `restrict`: out of scope → 404, in scope without the right → 403."""

import datetime
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from epigrid.audit.models import Action
from epigrid.audit.services import build_change, write_changes
from epigrid.checkpoints.models import Checkpoint
from epigrid.control.models import Zone
from epigrid.core.pdf import pdf_response
from epigrid.core.views import ObjectDetailView, ObjectListView, TransitionView
from epigrid.passes import pdf, services
from epigrid.passes.filtersets import HouseholdPassFilterSet, PassUseFilterSet
from epigrid.passes.forms import AmendForm, IssueForm, RevokeForm, ZoneIssueForm, end_of_day
from epigrid.passes.models import HouseholdPass, PassUse
from epigrid.passes.tables import HouseholdPassTable, PassUseTable, rule_text
from epigrid.people.models import Person

MAX_CARDS = 600  # cards in one PDF: a large grid's households, printed in one go
CHECKPOINT_SESSION_KEY = "passes_checkpoint"


def _error(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


def _may(user, obj, action):
    return HouseholdPass.objects.restrict(user, action).filter(pk=obj.pk).exists()


def _scoped_pass(user, pk, action="view"):
    household_pass = get_object_or_404(
        HouseholdPass.objects.restrict(user, "view").select_related(
            "household__building", "area", "zone", "holder"
        ),
        pk=pk,
    )
    if action != "view" and not _may(user, household_pass, action):
        raise PermissionDenied
    return household_pass


# Passes


class HouseholdPassListView(ObjectListView):
    model = HouseholdPass
    table_class = HouseholdPassTable
    filterset_class = HouseholdPassFilterSet
    add_url_name = "passes:householdpass_add"
    template_name = "passes/householdpass_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("household__building", "area")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["can_scan"] = user.has_scoped_perm(services.SCAN)
        ctx["can_view_uses"] = user.has_scoped_perm("passes.view_passuse")
        return ctx


class HouseholdPassDetailView(ObjectDetailView):
    model = HouseholdPass
    template_name = "passes/householdpass_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("household__building", "area", "zone__area", "holder", "issued_by")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        household_pass, user = self.object, self.request.user
        now = timezone.now()
        uses = (
            PassUse.objects.restrict(user, "view")
            .filter(household_pass=household_pass)
            .select_related("person", "checkpoint")[:50]
        )
        in_force = household_pass.status == HouseholdPass.Status.ACTIVE
        ctx.update(
            {
                "rule": rule_text(household_pass),
                "members": list(services.members(household_pass)),
                "remaining": services.remaining(household_pass, now) if in_force else None,
                "next_window": services.next_window(household_pass, now)
                if in_force and household_pass.has_quota and now >= household_pass.valid_from
                else None,
                "uses": uses,
                "may_change": in_force and _may(user, household_pass, "change"),
                "may_print": _may(user, household_pass, "change"),
                "revoke_form": RevokeForm(),
            }
        )
        return ctx


@login_required
def issue(request):
    """One pass for one household (a household pass, or a special pass for a named person)."""
    if not request.user.has_scoped_perm(services.ISSUE):
        raise PermissionDenied
    form = IssueForm(request.POST or None)
    form.fields["household"].queryset = form.fields["household"].queryset.restrict(request.user, "view")
    form.fields["holder"].queryset = form.fields["holder"].queryset.restrict(request.user, "view")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        valid_from = (
            timezone.make_aware(datetime.datetime.combine(data["valid_from"], datetime.time()))
            if data["valid_from"]
            else None
        )
        try:
            household_pass = services.issue(
                request.user,
                data["household"],
                data["kind"],
                holder=data["holder"],
                persons=data["persons"],
                days=data["days"],
                valid_from=valid_from,
                valid_until=end_of_day(data["valid_until"]),
                note=data["note"],
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Issued %(pass)s.") % {"pass": household_pass})
            return redirect(household_pass.get_absolute_url())
    return render(request, "passes/issue.html", {"form": form, "title": _("Issue a pass")})


def _controlled_zones(user):
    return (
        Zone.objects.restrict(user, "view")
        .exclude(status="lifted")
        .filter(level__in=services.CONTROLLED_LEVELS)
        .select_related("area", "building")
    )


@login_required
def issue_for_zone(request):
    """A household pass for every household of a controlled zone (those holding one keep it)."""
    if not request.user.has_scoped_perm(services.ISSUE):
        raise PermissionDenied
    form = ZoneIssueForm(request.POST or None, zones=_controlled_zones(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created, kept = services.issue_for_zone(
                request.user, data["zone"], data["persons"], data["days"], end_of_day(data["valid_until"])
            )
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "Issued %(n)d pass (%(kept)d households already had one).",
                    "Issued %(n)d passes (%(kept)d households already had one).",
                    len(created),
                )
                % {"n": len(created), "kept": kept},
            )
            return redirect(f"{reverse('passes:householdpass_list')}?zone={data['zone'].pk}&status=active")
    return render(request, "passes/issue.html", {"form": form, "title": _("Issue passes for a zone")})


@login_required
def amend(request, pk):
    household_pass = _scoped_pass(request.user, pk, "change")
    initial = {
        "valid_until": timezone.localtime(household_pass.valid_until).date(),
        "note": household_pass.note,
    }
    form = AmendForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.amend(
                request.user,
                household_pass,
                valid_until=end_of_day(form.cleaned_data["valid_until"]),
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Saved %(object)s.") % {"object": household_pass})
            return redirect(household_pass.get_absolute_url())
    return render(
        request, "passes/issue.html", {"form": form, "title": _("Change %(pass)s") % {"pass": household_pass}}
    )


class RevokeView(TransitionView):
    model = HouseholdPass
    related = ("household__building", "area", "zone", "holder")
    object_permission = "passes.change_householdpass"
    form_class = RevokeForm
    refusals = (ValidationError,)
    context_object_name = "pass"
    success_message = gettext_lazy("Revoked %(pass)s: its cards no longer scan.")

    def form_invalid(self, form):
        messages.error(
            self.request, _("Give the reason for revoking the pass (at least two letters or characters).")
        )

    def move(self, household_pass, data):
        services.revoke(self.request.user, household_pass, data["reason"])
        return household_pass


# Cards


def _cards_response(request, passes, filename):
    passes = list(passes)
    members = {}
    household_ids = {p.household_id for p in passes if not p.is_special}
    persons = Person.objects.filter(household_id__in=household_ids, merged_into__isnull=True).order_by(
        "name_key", "pk"
    )
    for person in persons:
        members.setdefault(person.household_id, []).append(person)
    holders = Person.objects.in_bulk({p.holder_id for p in passes if p.is_special})
    by_pass = {
        p.pk: [holders[p.holder_id]]
        if p.is_special and p.holder_id in holders
        else members.get(p.household_id, [])
        for p in passes
    }
    body = pdf.pass_cards(_("Temporary passes"), pdf.build_cards(passes, by_pass))
    # Every printed card is a credential: one audit row per pass printed, with its code version.
    write_changes([build_change(p, Action.EXPORT, None, {"pass_card": p.code_version}) for p in passes])
    return pdf_response(body, filename)


@login_required
def card(request, pk):
    household_pass = _scoped_pass(request.user, pk, "change")
    return _cards_response(request, [household_pass], f"pass-{household_pass.pk}.pdf")


@login_required
def cards(request):
    """The cards of the passes in force that the list's filters show (and the user may print)."""
    if not request.user.has_scoped_perm(services.CHANGE):
        raise PermissionDenied
    base = HouseholdPass.objects.restrict(request.user, "change").filter(status=HouseholdPass.Status.ACTIVE)
    filterset = HouseholdPassFilterSet(request.GET, queryset=base, request=request)
    passes = (filterset.qs if filterset.is_valid() else base.none()).select_related(
        "household__building", "area"
    )
    return _cards_response(
        request,
        passes.order_by("area__path", "household__building__name", "household__room")[:MAX_CARDS],
        "passes.pdf",
    )


# The gate


def _gates(user):
    return Checkpoint.objects.restrict(user, "view").filter(is_active=True).order_by("name")


@login_required
def scan(request):
    """The gate's phone page: scan the pass (one focused field for a keyboard-wedge scanner or
    typed), pick the person, exit or return. Nothing is written before the person is picked."""
    user = request.user
    if not user.has_scoped_perm(services.SCAN):
        raise PermissionDenied
    gates = list(_gates(user))
    ctx = {"gates": gates, "outcome": None, "household_pass": None}
    gate = _chosen_gate(request, gates)
    ctx["gate"] = gate
    code = (request.POST.get("code") or "").strip()
    if request.method == "POST" and code:
        try:
            household_pass, _version = services.read_pass(user, code)
        except ValidationError as exc:
            ctx["outcome"] = services.ScanOutcome(False, "unknown", exc.messages[0], "")
            return render(request, "passes/scan.html", ctx, status=200)
        if request.POST.get("person") and request.POST.get("direction"):
            ctx["outcome"] = _record(request, user, household_pass, code, gate)
        else:
            ctx.update(_pass_panel(household_pass, code))
    return render(request, "passes/scan.html", ctx)


def _chosen_gate(request, gates):
    wanted = request.POST.get("checkpoint") or request.session.get(CHECKPOINT_SESSION_KEY)
    for gate in gates:
        if str(gate.pk) == str(wanted):
            request.session[CHECKPOINT_SESSION_KEY] = gate.pk
            return gate
    return gates[0] if len(gates) == 1 else None


def _pass_panel(household_pass, code):
    now = timezone.now()
    return {
        "household_pass": household_pass,
        "code": code,
        "rule": rule_text(household_pass),
        "remaining": services.remaining(household_pass, now)
        if now >= household_pass.valid_from and household_pass.status == "active"
        else None,
        # One client id per rendered choice: a double tap or a resent form records one scan.
        "members": [(p, services.person_label(p), uuid.uuid4()) for p in services.members(household_pass)],
    }


def _record(request, user, household_pass, code, gate):
    person = services.members(household_pass).filter(pk=request.POST["person"]).first()
    if person is None:
        person = Person.objects.restrict(user, "view").filter(pk=request.POST["person"]).first()
    if person is None:
        return services.ScanOutcome(False, "not_member", _("Pick a person of this pass."), "")
    try:
        return services.scan(
            user,
            code,
            person,
            request.POST["direction"],
            checkpoint=gate,
            client_id=request.POST.get("client_id") or None,
        )
    except (ValidationError, PermissionDenied) as exc:
        return services.ScanOutcome(
            False, "error", " ".join(getattr(exc, "messages", None) or [str(exc)]), ""
        )


# Uses


class PassUseListView(ObjectListView):
    model = PassUse
    table_class = PassUseTable
    filterset_class = PassUseFilterSet
    export_name = "pass-uses"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("person", "household_pass__household__building", "checkpoint")
        )

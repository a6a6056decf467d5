"""Pages of the risk zones: list, draw, zone page with the households and persons inside, a new
case, and the lifting workflow (street applies → district evaluates → city approves). Reads go
through `Zone.objects.restrict`; every change goes through `control.services`.

Who sees a workflow button: whoever holds the step's permission where the zone lies *and* at the
level the step needs (services.holds_above, the rule the services enforce). Posting a step
without its permission where the zone lies is 403; a refusal from the service (too early, a grant
below the needed level, a step already taken) comes back as a message on the zone page."""

from collections import Counter
from functools import reduce
from operator import or_

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from epigrid.areas.models import Household, Level
from epigrid.audit.services import history
from epigrid.control import services
from epigrid.control.models import ZONE_LEVEL_LABELS, Zone
from epigrid.control.tables import ZoneTable, downgrade_text
from epigrid.control.zone_filtersets import ZoneFilterSet
from epigrid.control.zone_forms import LiftingForm, RecordCaseForm, ZoneDrawForm, ZoneForm
from epigrid.core.paginators import CappedPaginator
from epigrid.core.scoping import ScopeViolation, check_in_scope, collapse_paths
from epigrid.core.views import ObjectDetailView, ObjectEditView, ObjectListView, TransitionView
from epigrid.people.models import Person

INSIDE_PER_PAGE = 50

# step name → (permission, the lowest area level a grant must be at, the status it acts on)
STEPS = {
    "apply": ("control.apply_zone", Level.STREET, Zone.Status.ACTIVE),
    "evaluate": ("control.evaluate_zone", Level.DISTRICT, Zone.Status.APPLIED),
    "approve": ("control.approve_zone", Level.CITY, Zone.Status.EVALUATED),
}


def attach_counts(zones):
    """Set `household_count` and `person_count` on each zone of a page in at most four grouped
    queries: zones on areas roll up per-grid counts of their subtrees (as areas.counts does),
    zones on buildings count per (building, unit). Same rules as services.zone_households and
    services.zone_persons (the tests compare them)."""
    for zone in zones:
        zone.household_count = zone.person_count = 0
    on_areas = [z for z in zones if not z.building_id]
    on_buildings = [z for z in zones if z.building_id]
    if on_areas:
        inside = reduce(
            or_, (Q(area__path__startswith=p) for p in collapse_paths(z.area.path for z in on_areas))
        )
        households = _grouped(Household.objects.filter(inside), "area__path")
        persons = _grouped(Person.objects.filter(inside, merged_into__isnull=True), "area__path")
        for zone in on_areas:
            path = zone.area.path
            zone.household_count = sum(n for key, n in households.items() if key.startswith(path))
            zone.person_count = sum(n for key, n in persons.items() if key.startswith(path))
    if on_buildings:
        ids = {z.building_id for z in on_buildings}
        households = _grouped(Household.objects.filter(building_id__in=ids), "building_id", "unit")
        persons = _grouped(
            Person.objects.filter(household__building_id__in=ids, merged_into__isnull=True),
            "household__building_id",
            "household__unit",
        )
        for zone in on_buildings:
            zone.household_count = _building_total(households, zone)
            zone.person_count = _building_total(persons, zone)
    return zones


def _grouped(queryset, *keys):
    rows = queryset.order_by().values_list(*keys).annotate(n=Count("id"))
    return Counter({(row[0] if len(keys) == 1 else row[:-1]): row[-1] for row in rows})


def _building_total(counts, zone):
    return sum(
        n
        for (building, unit), n in counts.items()
        if building == zone.building_id and (not zone.unit or unit == zone.unit)
    )


def _zones(user, action="view"):
    return Zone.objects.restrict(user, action).select_related("area__parent", "building", "protocol")


def zone_title(zone):
    """Where the zone lies, with the grid's community (every community has a 第一网格); reads
    area.parent, so querysets select it."""
    parts = [zone.area.full_label()]
    if zone.building_id:
        parts.append(zone.building.name)
    if zone.unit:
        parts.append(_("unit %(unit)s") % {"unit": zone.unit})
    return " / ".join(str(p) for p in parts)


class ZoneListTable(ZoneTable):
    def render_where(self, record):
        return zone_title(record)


def _may(user, zone, perm):
    """Whether `user` holds `perm` (e.g. control.apply_zone) where the zone lies."""
    return Zone.objects.restrict(user, perm=perm).filter(pk=zone.pk).exists()


def _may_act(user, zone, step):
    perm, level, status = STEPS[step]
    return zone.status == status and _may(user, zone, perm) and services.holds_above(user, perm, zone, level)


class ZoneListView(ObjectListView):
    model = Zone
    table_class = ZoneListTable
    filterset_class = ZoneFilterSet
    add_url_name = "control:zone_add"
    template_name = "control/zone_list.html"

    def get_queryset(self):
        # The protocols are few: prefetched once rather than their rules joined onto every row.
        return super().get_queryset().select_related("area__parent", "building").prefetch_related("protocol")

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        page = getattr(table, "page", None)
        attach_counts([row.record for row in (page.object_list if page else table.rows)])
        return table

    def get_context_data(self, **kwargs):
        from epigrid.control.protocol_views import is_system_admin

        ctx = super().get_context_data(**kwargs)
        ctx["is_system_admin"] = is_system_admin(self.request.user)
        return ctx


def _history_rows(zone):
    labels = dict(Zone.Status.choices)
    return [
        {
            "time": row.time,
            "user": row.user_name,
            "source": labels.get(row.source, row.source),
            "target": labels.get(row.target, row.target),
            "note": row.note,
        }
        for row in history(zone).order_by("time", "id")
    ]


def _page(request, queryset, param):
    paginator = CappedPaginator(queryset, INSIDE_PER_PAGE)
    return paginator.get_page(request.GET.get(param))


def zone_context(request, zone, bound=None):
    """Everything the zone page shows; `bound` = {step name: bound form} puts a submitted form
    with its errors back in its place."""
    bound = bound or {}
    user = request.user
    today = timezone.localdate()
    next_level, may_from = zone.downgrade()
    lift_at = zone.protocol.rules["zones"].get("lift_at")
    households = (
        services.zone_households(zone)
        .restrict(user, "view")
        .select_related("building")
        .annotate(member_count=Count("members"))
        .order_by("building__name", "unit", "room", "id")
    )
    persons = (
        services.zone_persons(zone)
        .restrict(user, "view")
        .select_related("household__building")
        .order_by("name", "id")
    )
    is_open = zone.status != Zone.Status.LIFTED
    can_change = _may(user, zone, "control.change_zone")
    can_record = is_open and can_change
    steps = {}
    for step in STEPS:
        if _may_act(user, zone, step):
            steps[step] = bound.get(step) or LiftingForm(auto_id=f"id_{step}_%s", decides=step != "apply")
    return {
        "object": zone,
        "zone": zone,
        "model_meta": Zone._meta,
        "where": zone_title(zone),
        "today": today,
        "is_open": is_open,
        "case_free_days": zone.case_free_days(today) if is_open else None,
        "downgrade": downgrade_text(zone) if is_open else None,
        "may_from": may_from,
        "too_early": may_from is not None and today < may_from,
        "approval_lifts": next_level is None or next_level == lift_at,
        "next_level_label": ZONE_LEVEL_LABELS.get(next_level, next_level) if next_level else None,
        "households": _page(request, households, "households_page"),
        "persons": _page(request, persons, "persons_page"),
        "history_rows": _history_rows(zone),
        "can_change": can_change,
        "case_form": (bound.get("case") or RecordCaseForm(initial={"day": today})) if can_record else None,
        "apply_form": steps.get("apply"),
        "evaluate_form": steps.get("evaluate"),
        "approve_form": steps.get("approve"),
    }


class ZoneDetailView(ObjectDetailView):
    model = Zone
    template_name = "control/zone_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "building", "protocol")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(zone_context(self.request, self.object))
        return ctx


class ZoneEditView(ObjectEditView):
    model = Zone
    form_class = ZoneForm

    def get_success_url(self):
        return self.object.get_absolute_url()


class ZoneDrawView(LoginRequiredMixin, TemplateView):
    """Draw a zone through services.draw_zone, at a level of the active protocol."""

    template_name = "control/zone_draw.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_scoped_perm("control.add_zone"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _form(self, **kwargs):
        return ZoneDrawForm(user=self.request.user, protocol=services.active_protocol(), **kwargs)

    def get(self, request, *args, **kwargs):
        try:
            form = self._form(initial={"started_on": timezone.localdate()})
        except ValidationError as exc:  # no active protocol
            messages.error(request, " ".join(exc.messages))
            return redirect("control:zone_list")
        return self.render_to_response({"form": form, "model_meta": Zone._meta})

    def post(self, request, *args, **kwargs):
        try:
            form = self._form(data=request.POST)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("control:zone_list")
        if form.is_valid():
            try:
                with transaction.atomic():
                    zone = services.draw_zone(**form.service_fields())
                    check_in_scope(request.user, zone, "add")
            except ScopeViolation as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                _add_service_errors(form, exc)
            else:
                messages.success(request, _("Drew %(zone)s.") % {"zone": zone})
                return redirect(zone)
        return self.render_to_response({"form": form, "model_meta": Zone._meta}, status=400)


def _add_service_errors(form, exc):
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ZoneActionView(TransitionView):
    """A small POST form on the zone page. Field errors bring the page back with the form in its
    place (400); a refusal from the service is shown as a message on the zone page."""

    name = None
    perm = None  # needed where the zone lies, besides seeing it

    def get_queryset(self):
        return _zones(self.request.user)

    def has_object_permission(self, zone):
        return _may(self.request.user, zone, self.perm)

    def get_form(self):
        return LiftingForm(self.request.POST, auto_id=f"id_{self.name}_%s", decides=self.name != "apply")

    def stale(self, zone):
        if self.name in STEPS and zone.status != STEPS[self.name][2]:
            return _("This step does not apply now: the zone is “%(status)s”.") % {
                "status": zone.get_status_display()
            }
        return None

    def form_invalid(self, form):
        ctx = zone_context(self.request, self.object, bound={self.name: form})
        return TemplateResponse(self.request, "control/zone_detail.html", ctx, status=400)

    def move(self, zone, data):
        with transaction.atomic():
            self.perform(self.form, zone)

    def refused(self, exc):
        for message in getattr(exc, "messages", None) or [str(exc)]:
            messages.error(self.request, message)

    def perform(self, form, zone):
        raise NotImplementedError


class RecordCaseView(ZoneActionView):
    name = "case"
    perm = "control.change_zone"

    def get_form(self):
        return RecordCaseForm(self.request.POST)

    def perform(self, form, zone):
        if zone.status == Zone.Status.LIFTED:
            raise ValidationError(_("This zone is lifted; draw a new zone for new cases."))
        day = form.cleaned_data["day"]
        before = zone.last_case_on
        services.record_case(zone, day)
        if zone.last_case_on == before:
            messages.info(
                self.request,
                _("The count already runs from a later case on %(date)s.") % {"date": f"{before:%Y-%m-%d}"},
            )
            return
        messages.success(
            self.request,
            _("New case on %(date)s recorded: the case-free count starts again.")
            % {"date": f"{day:%Y-%m-%d}"},
        )


class ApplyLiftingView(ZoneActionView):
    name = "apply"
    perm = "control.apply_zone"

    def perform(self, form, zone):
        services.apply_lifting(zone, self.request.user, form.cleaned_data["note"])
        messages.success(self.request, _("Applied for lifting; the district evaluates next."))


class EvaluateLiftingView(ZoneActionView):
    name = "evaluate"
    perm = "control.evaluate_zone"

    def perform(self, form, zone):
        services.evaluate_lifting(zone, self.request.user, form.approve, form.cleaned_data["note"])
        if form.approve:
            messages.success(self.request, _("Evaluated; the city approves next."))
        else:
            messages.success(self.request, _("The application was returned; the zone stays in force."))


class ApproveLiftingView(ZoneActionView):
    name = "approve"
    perm = "control.approve_zone"

    def perform(self, form, zone):
        services.approve_lifting(zone, self.request.user, form.approve, form.cleaned_data["note"])
        if not form.approve:
            messages.success(self.request, _("The application was refused; the zone stays in force."))
        elif zone.status == Zone.Status.LIFTED:
            messages.success(self.request, _("The zone is lifted."))
        else:
            messages.success(self.request, _("The zone is now a %(level)s.") % {"level": zone.level_label})

"""Pages of the key-person ledger: list, register (search before create), entry page with its
actions, the release notice (PDF) and today's work lists. Reads go through
`Model.objects.restrict`; every status change goes through `control.services` or a
transition, never by setting a status here."""

from functools import reduce

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from epigrid.areas.models import Area, Level
from epigrid.audit.services import history
from epigrid.control import services, worklists
from epigrid.control.filtersets import KeyPersonFilterSet
from epigrid.control.forms import (
    CheckInForm,
    ExtendForm,
    HandOverForm,
    KeyPersonForm,
    PersonSearchForm,
    ReasonForm,
    RegisterForm,
    ReleaseForm,
    TestRecordForm,
    fever_message,
)
from epigrid.control.models import CheckIn, ControlMeasure, HandOver, KeyPerson
from epigrid.control.tables import KeyPersonTable
from epigrid.core import panels
from epigrid.core.forms import StyledFormMixin, style_form
from epigrid.core.pdf import pdf_response
from epigrid.core.scoping import ScopeViolation, check_in_scope, may
from epigrid.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TransitionView,
    restrict_form_choices,
    safe_next,
)
from epigrid.people import services as people_services
from epigrid.people.models import Person

LIST_LABELS = {
    "abnormal": gettext_lazy("Abnormal readings to handle"),
    "needs_check": gettext_lazy("Needs a temperature check now"),
    "tests_due": gettext_lazy("Test due today"),
    "overdue": gettext_lazy("Overdue"),
    "due_release": gettext_lazy("Due for release today"),
}
# The roll-up's column headers: the same lists, the first one in a word.
ROLLUP_LABELS = {**LIST_LABELS, "abnormal": gettext_lazy("Abnormal")}
PERSON_RESULTS = 20
CHECKINS_SHOWN = 60  # a month of twice-daily checks


def _entries(user, action="view"):
    return KeyPerson.objects.restrict(user, action).select_related(
        "person__household__building", "area", "protocol"
    )


def _may(user, entry, perm):
    """Whether `user` holds `perm` (e.g. control.add_checkin) where the entry lies."""
    return KeyPerson.objects.restrict(user, perm=perm).filter(pk=entry.pk).exists()


def _entry_url(entry, next_url=""):
    url = entry.get_absolute_url()
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


class KeyPersonListView(ObjectListView):
    model = KeyPerson
    table_class = KeyPersonTable
    filterset_class = KeyPersonFilterSet
    add_url_name = "control:keyperson_add"
    export_name = "keypersons"
    import_name = "keypersons"
    template_name = "control/keyperson_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["handovers_waiting"] = (
            HandOver.objects.restrict(self.request.user, "view")
            .filter(status=HandOver.Status.REQUESTED)
            .count()
        )
        return ctx

    def get_queryset(self):
        open_steps = ControlMeasure.objects.filter(status__in=ControlMeasure.OPEN).order_by("sequence")
        return (
            super()
            .get_queryset()
            .select_related("person", "area")
            .prefetch_related(Prefetch("measures", queryset=open_steps, to_attr="open_measures"))
        )


class KeyPersonEditView(ObjectEditView):
    """The entry's fields that do not touch the plan (source, origin, transport, team, notes)."""

    model = KeyPerson
    form_class = KeyPersonForm


def _history_rows(entry, measures):
    """The transitions of the entry, of its steps, of its hand-overs (both sides: the request
    and the receiving area's answer) and of its handled abnormal readings, oldest first."""
    handovers = {h.pk: h for h in entry.handovers.select_related("from_area", "to_area")}
    readings = {
        c.pk: c
        for c in CheckIn.objects.filter(measure__key_person=entry, follow_up=CheckIn.FollowUp.HANDLED).only(
            "pk", "temperature", "taken_at"
        )
    }
    queryset = reduce(
        lambda a, b: a | b,
        [history(m) for m in measures]
        + [history(h) for h in handovers.values()]
        + [history(c) for c in readings.values()],
        history(entry),
    )
    labels = {
        "entry": dict(KeyPerson.Status.choices),
        "step": dict(ControlMeasure.Status.choices),
        "handover": {"": "—", **dict(HandOver.Status.choices)},
        "reading": dict(CheckIn.FollowUp.choices),
    }
    steps = {m.pk: m for m in measures}
    rows = []
    for row in queryset.select_related("content_type").order_by("time", "id"):
        model = row.content_type.model
        step = steps.get(row.object_id) if model == "controlmeasure" else None
        handover = handovers.get(row.object_id) if model == "handover" else None
        reading = readings.get(row.object_id) if model == "checkin" else None
        kind = "step" if step else "handover" if handover else "reading" if reading else "entry"
        if reading:
            what = _("Reading %(temperature)s °C of %(time)s") % {
                "temperature": reading.temperature,
                "time": timezone.localtime(reading.taken_at).strftime("%m-%d %H:%M"),
            }
        elif step:
            what = f"{step.sequence}. {step.get_kind_display()}"
        elif handover:
            what = _("Hand-over %(from)s → %(to)s") % {
                "from": handover.from_area.name,
                "to": handover.to_area.name,
            }
        else:
            what = _("Entry")
        rows.append(
            {
                "time": row.time,
                "user": row.user_name,
                "what": what,
                "source": labels[kind].get(row.source, row.source),
                "target": labels[kind].get(row.target, row.target),
                "note": row.note,
            }
        )
    return rows


def entry_context(request, entry, bound=None):
    """Everything the entry page shows; `bound` = {(form name, step pk or None): bound form}
    puts a submitted form with its errors back in its place."""
    bound = bound or {}
    user = request.user
    today = timezone.localdate()
    measures = list(entry.measures.order_by("sequence"))
    step = worklists.current_step(measures, today)
    can_checkin = step is not None and _may(user, entry, "control.add_checkin")
    can_change_steps = entry.status == KeyPerson.Status.OPEN and _may(
        user, entry, "control.change_controlmeasure"
    )
    can_change = _may(user, entry, "control.change_keyperson")
    for m in measures:
        m.is_current = m is step
        m.tests = [{"day": d, "is_today": d == today.isoformat()} for d in m.test_dates]
        m.is_open = m.status in ControlMeasure.OPEN
        if can_change_steps and m.is_open:
            m.extend_form = bound.get(("extend", m.pk)) or ExtendForm(auto_id=f"id_extend_{m.pk}_%s")
            m.test_form = bound.get(("test", m.pk)) or TestRecordForm(
                auto_id=f"id_test_{m.pk}_%s", initial={"day": min(today, m.planned_end or today)}
            )
            if m.status in (ControlMeasure.Status.ACTIVE, ControlMeasure.Status.HOSPITALIZED):
                m.hospital_form = bound.get(("hospital", m.pk)) or ReasonForm(
                    auto_id=f"id_hospital_{m.pk}_%s"
                )
            if m.status == ControlMeasure.Status.ACTIVE:
                m.release_early_form = bound.get(("release_early", m.pk)) or ReasonForm(
                    auto_id=f"id_early_{m.pk}_%s"
                )
    checkins = list(
        CheckIn.objects.filter(measure__key_person=entry).select_related("measure", "recorded_by")[
            :CHECKINS_SHOWN
        ]
    )
    deadline = entry.assistance_deadline
    hand_over_form = None
    handover_waiting = (
        entry.handovers.filter(status=HandOver.Status.REQUESTED).select_related("to_area").first()
    )
    if can_change and entry.status == KeyPerson.Status.OPEN and handover_waiting is None:
        hand_over_form = bound.get(("hand_over", None)) or HandOverForm(user=user, entry=entry)
    return {
        "object": entry,
        "keyperson": entry,
        "model_meta": KeyPerson._meta,
        "person_visible": Person.objects.restrict(user, "view").filter(pk=entry.person_id).exists(),
        "measures": measures,
        "current_step": step,
        "checkins": checkins,
        "history_rows": _history_rows(entry, measures),
        "assistance_deadline": deadline,
        "assistance_overdue": entry.assistance_overdue(timezone.now()),
        "can_checkin": can_checkin,
        "can_change": can_change,
        "can_change_steps": can_change_steps,
        "checkin_form": (bound.get(("checkin", None)) or CheckInForm()) if can_checkin else None,
        "hand_over_form": hand_over_form,
        "handover_waiting": handover_waiting,
        "release_form": (bound.get(("release", None)) or ReleaseForm())
        if can_change and entry.status == KeyPerson.Status.OPEN
        else None,
        "next_url": safe_next(request, ""),
        "today": today,
    }


class KeyPersonDetailView(ObjectDetailView):
    model = KeyPerson
    template_name = "control/keyperson_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("person__household__building", "area", "protocol")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(entry_context(self.request, self.object))
        return ctx


class EntryActionView(TransitionView):
    """A small POST form on the entry page. A form with field errors comes back in its place
    (400); a refusal from the service (a transition not allowed, a plan not over) is shown as
    a message on the entry page."""

    name = None
    perm = None  # needed where the entry lies, besides seeing it
    on_step = False
    refusals = (ValidationError,)

    auto_id = "id_%s"  # as the entry page renders this form, so a form with errors keeps its ids

    def get_queryset(self):
        return _entries(self.request.user)

    def get_object(self):
        entry = super().get_object()
        self.measure = get_object_or_404(entry.measures, pk=self.kwargs.get("step")) if self.on_step else None
        return entry

    def has_object_permission(self, entry):
        return _may(self.request.user, entry, self.perm)

    def entry_form(self, entry, step):
        return self.form_class(self.request.POST, auto_id=self.auto_id.replace("{step}", str(step)))

    def get_form(self):
        return style_form(self.entry_form(self.object, self.kwargs.get("step")))

    def form_invalid(self, form):
        ctx = entry_context(self.request, self.object, bound={(self.name, self.kwargs.get("step")): form})
        return TemplateResponse(self.request, "control/keyperson_detail.html", ctx, status=400)

    def move(self, entry, data):
        with transaction.atomic():
            self.target = self.perform(self.form, entry, self.measure)

    def refused(self, exc):
        for message in exc.messages:
            messages.error(self.request, message)

    def get_redirect_url(self, entry):
        # Most actions come back to the entry page (or the page they were sent from).
        return getattr(self, "target", None) or _entry_url(entry, safe_next(self.request, ""))

    def perform(self, form, entry, measure):
        raise NotImplementedError


class CheckInView(EntryActionView):
    name = "checkin"
    perm = "control.add_checkin"
    form_class = CheckInForm

    def perform(self, form, entry, measure):
        step = worklists.current_step(entry.measures.all(), timezone.localdate())
        if step is None:
            raise ValidationError(_("This person has no running measure to record a check-in for."))
        checkin = form.save(commit=False)
        checkin.measure = step
        checkin.recorded_by = self.request.user
        checkin.save()
        check_in_scope(self.request.user, checkin, "add")
        if checkin.is_fever:
            messages.warning(self.request, fever_message(checkin.temperature))
        else:
            messages.success(self.request, _("Recorded %(t)s °C.") % {"t": checkin.temperature})


class ExtendView(EntryActionView):
    name = "extend"
    perm = "control.change_controlmeasure"
    form_class = ExtendForm
    on_step = True
    auto_id = "id_extend_{step}_%s"

    def perform(self, form, entry, measure):
        services.extend(measure, form.cleaned_data["days"], form.cleaned_data["reason"])
        messages.success(
            self.request,
            _("%(measure)s extended by %(days)d days; it now ends on %(end)s.")
            % {
                "measure": measure.get_kind_display(),
                "days": form.cleaned_data["days"],
                "end": f"{measure.planned_end:%Y-%m-%d}",
            },
        )


class ReleaseEarlyView(EntryActionView):
    name = "release_early"
    perm = "control.change_controlmeasure"
    form_class = ReasonForm
    on_step = True
    auto_id = "id_early_{step}_%s"

    def perform(self, form, entry, measure):
        services.release_early(measure, form.cleaned_data["reason"])
        messages.success(
            self.request, _("%(measure)s was released early.") % {"measure": measure.get_kind_display()}
        )


class TestRecordView(EntryActionView):
    name = "test"
    perm = "control.change_controlmeasure"
    form_class = TestRecordForm
    on_step = True
    auto_id = "id_test_{step}_%s"

    def perform(self, form, entry, measure):
        record = services.record_test(
            measure, form.cleaned_data["day"], form.cleaned_data["result"], self.request.user
        )
        messages.success(
            self.request,
            _("Test of %(day)s recorded: %(result)s.")
            % {"day": record.day, "result": record.get_result_display()},
        )


class HospitalView(EntryActionView):
    """To hospital (an exception with a note) or back from it, whichever applies."""

    name = "hospital"
    perm = "control.change_controlmeasure"
    form_class = ReasonForm
    on_step = True
    auto_id = "id_hospital_{step}_%s"

    def perform(self, form, entry, measure):
        if measure.status == ControlMeasure.Status.HOSPITALIZED:
            services.back_from_hospital(measure, form.cleaned_data["reason"])
            messages.success(self.request, _("Back from hospital."))
        else:
            services.to_hospital(measure, form.cleaned_data["reason"])
            messages.success(self.request, _("Transferred to hospital."))


class HandOverView(EntryActionView):
    name = "hand_over"
    perm = "control.change_keyperson"
    form_class = HandOverForm

    def entry_form(self, entry, step):
        # Any community or grid, like the API: outside the user's areas it becomes a request.
        return HandOverForm(self.request.POST, user=self.request.user, entry=entry)

    def perform(self, form, entry, measure):
        area = form.cleaned_data["area"]
        waiting = services.hand_over(entry, area, form.cleaned_data["note"], user=self.request.user)
        names = {"person": entry.person.name, "area": area.name}
        if waiting is not None:
            messages.success(
                self.request,
                _("The hand-over of %(person)s is waiting for %(area)s to accept it.") % names,
            )
            return None
        messages.success(self.request, _("%(person)s was handed over to %(area)s.") % names)
        if KeyPerson.objects.restrict(self.request.user, "view").filter(pk=entry.pk).exists():
            return reverse("control:keyperson_list")  # now in the receiving area's lists, not ours


class ReleaseView(EntryActionView):
    name = "release"
    perm = "control.change_keyperson"
    form_class = ReleaseForm

    def perform(self, form, entry, measure):
        services.release(entry, form.cleaned_data["note"])
        messages.success(
            self.request,
            _("%(person)s is released. Print the release notice.") % {"person": entry.person.name},
        )


class ReleaseNoticeView(LoginRequiredMixin, View):
    """解除管控通知书 as a PDF with an embedded Chinese font (control/pdf.py)."""

    def get(self, request, pk):
        from epigrid.control.pdf import release_notice

        entry = get_object_or_404(_entries(request.user), pk=pk)
        if entry.status != KeyPerson.Status.RELEASED:
            messages.warning(request, _("The release notice can be printed once the person is released."))
            return redirect(entry)
        return pdf_response(release_notice(entry), f"release-notice-{entry.pk}.pdf")


class KeyPersonRegisterView(LoginRequiredMixin, TemplateView):
    """Register a key person: first find the person (scoped search), then the category, dates,
    team and area. An open entry of the same person opens instead of a second one."""

    template_name = "control/keyperson_register.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.has_scoped_perm("control.add_keyperson"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _person(self, pk):
        if not str(pk or "").isdigit():
            return None
        return get_object_or_404(
            Person.objects.restrict(self.request.user, "view").select_related("area"), pk=pk
        )

    def get(self, request, *args, **kwargs):
        person = self._person(request.GET.get("person"))
        if person is None:
            return self.render_to_response(self._search_context())
        existing = KeyPerson.objects.filter(person=person, status=KeyPerson.Status.OPEN).first()
        if existing is not None:
            return self._open_existing(existing)
        try:
            form = self._form(person, initial={"area": person.area_id, "identified_on": timezone.localdate()})
        except ValidationError as exc:  # no active protocol
            messages.error(request, " ".join(exc.messages))
            return redirect("control:keyperson_add")
        return self.render_to_response(self._form_context(person, form))

    def post(self, request, *args, **kwargs):
        person = self._person(request.POST.get("person"))
        if person is None:
            return redirect("control:keyperson_add")
        existing = KeyPerson.objects.filter(person=person, status=KeyPerson.Status.OPEN).first()
        if existing is not None:  # registered meanwhile: open it, whatever the form says
            return self._open_existing(existing)
        try:
            form = self._form(person, data=request.POST)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("control:keyperson_add")
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    entry, created = services.register_key_person(
                        person, data["category"], data["area"], **form.service_fields()
                    )
                    if created:
                        check_in_scope(request.user, entry, "add")
            except ScopeViolation as exc:
                form.add_error("area", str(exc))
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                if not created:
                    return self._open_existing(entry)
                messages.success(
                    request,
                    _("%(person)s is registered as %(category)s under %(protocol)s.")
                    % {
                        "person": person.name,
                        "category": entry.get_category_display(),
                        "protocol": entry.protocol.short_name,
                    },
                )
                if KeyPerson.objects.restrict(request.user, "view").filter(pk=entry.pk).exists():
                    return redirect(entry)
                return redirect("control:keyperson_add")
        return self.render_to_response(self._form_context(person, form), status=400)

    def _form(self, person, **kwargs):
        form = RegisterForm(protocol=services.active_protocol(), **kwargs)
        restrict_form_choices(form, self.request.user)
        return form

    def _open_existing(self, existing):
        """Search before create: the person's open entry opens instead of a second one."""
        if KeyPerson.objects.restrict(self.request.user, "view").filter(pk=existing.pk).exists():
            messages.info(
                self.request, _("This person is already in the ledger under control; here is the entry.")
            )
            return redirect(existing)
        messages.warning(
            self.request,
            _(
                "This person is already under control in another area. Ask that community to hand the entry over."
            ),
        )
        return redirect("control:keyperson_add")

    def _search_context(self):
        user = self.request.user
        form = PersonSearchForm(self.request.GET)
        query = form.data.get("q", "").strip()
        results = None
        if query and form.is_valid():
            open_entry = KeyPerson.objects.filter(person=OuterRef("pk"), status=KeyPerson.Status.OPEN).values(
                "pk"
            )
            try:
                found = people_services.search(
                    user, Person.objects.restrict(user, "view").filter(merged_into__isnull=True), query
                )
            except people_services.LookupLimitReached as exc:
                form.add_error("q", exc)
            else:
                results = list(
                    found.select_related("area", "household__building").annotate(
                        open_entry=Subquery(open_entry[:1])
                    )[:PERSON_RESULTS]
                )
        return {
            "step": "search",
            "search_form": form,
            "query": query,
            "results": results,
            "can_add_person": user.has_scoped_perm("people.add_person"),
            "model_meta": KeyPerson._meta,
        }

    def _form_context(self, person, form):
        return {"step": "form", "person": person, "form": form, "model_meta": KeyPerson._meta}


class HandleAbnormalForm(StyledFormMixin, forms.Form):
    """What was done about an abnormal reading, on today's list (control.services.handle_abnormal)."""

    outcome = forms.ChoiceField(
        label=gettext_lazy("What was done"),
        choices=CheckIn.Outcome.choices,
        widget=forms.RadioSelect(attrs={"class": "btn-check"}),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=500,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("e.g. re-measured at 10:20: 36.6 °C")}),
    )


class TodayView(LoginRequiredMixin, TemplateView):
    """Today's work: the lists of one grid (by default the user's own grid), abnormal readings to
    handle first, or for a wider scope the roll-up one level down (a district's streets, a
    street's communities, a community's grids) with counts, each row opening the level below it
    (?area=<code>) down to a grid's lists; an area's own entries (?area=<code>&own=1) have their
    own lists too. A reading is handled from here (POST)."""

    template_name = "control/today.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_scoped_perm("control.view_controlmeasure"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _own_grid(self):
        paths = self.request.user.scope_paths("control.view_controlmeasure")
        if paths and len(paths) == 1:
            return Area.objects.filter(path=paths[0], level=Level.GRID).select_related("parent").first()
        return None

    def post(self, request, *args, **kwargs):
        pk = request.POST.get("checkin", "")
        checkin = get_object_or_404(
            CheckIn.objects.restrict(request.user, "view").select_related("measure__key_person__person"),
            pk=pk if pk.isdigit() else None,
        )
        if not may(request.user, checkin):
            raise PermissionDenied
        form = HandleAbnormalForm(request.POST, auto_id=_handle_auto_id(checkin.pk))
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(bound={checkin.pk: form}), status=400)
        try:
            services.handle_abnormal(
                checkin, form.cleaned_data["outcome"], form.cleaned_data["note"], user=request.user
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("%(person)s: “%(outcome)s” is recorded; the reading is off the list.")
                % {
                    "person": checkin.measure.key_person.person.name,
                    "outcome": checkin.get_outcome_display(),
                },
            )
        return redirect(request.get_full_path())

    def get_context_data(self, bound=None, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        code = self.request.GET.get("area", "")
        area = (
            get_object_or_404(Area.objects.restrict(user, "view").select_related("parent"), code=code)
            if code
            else self._own_grid()
        )
        # An area's own entries (a community's, not its grids'): the roll-up's "itself" row.
        held_here = area is not None and area.level != Level.GRID and self.request.GET.get("own") == "1"
        now = timezone.now()
        ctx.update(area=area, held_here=held_here, now=now, limit=worklists.MAX_ROWS)
        # Other modules' urgent tasks head the page (core.panels registry; control imports none).
        ctx["urgent"] = panels.for_page(self.request, panels.TODAY, area=area, held_here=held_here, now=now)
        if code:
            ctx["trail"] = self._trail(area)
        if area is None or (area.level != Level.GRID and not held_here):
            rows = []
            for a, counts in worklists.rollup(user, now, area):
                own = a.rollup_base and a.level != Level.GRID  # entries the area itself holds
                url = f"?area={a.code}&own=1" if own else f"?area={a.code}"
                rows.append({"area": a, "counts": counts, "own": own, "url": url})
            totals = {name: sum(row["counts"][name] for row in rows) for name in worklists.ALL_LISTS}
            ctx.update(rollup=rows, totals=totals, labels=ROLLUP_LABELS)
        else:
            lists = worklists.lists_for(user, area, now, held_here=held_here)
            ctx["lists"] = lists
            ctx["abnormal"] = self._abnormal_section(lists["abnormal"], bound or {})
            ctx["sections"] = [
                {
                    "name": name,
                    "label": LIST_LABELS[name],
                    "rows": lists[name][: worklists.MAX_ROWS],
                    "more": len(lists[name]) > worklists.MAX_ROWS,
                }
                for name in worklists.LISTS
            ]
        ctx.setdefault("labels", LIST_LABELS)
        return ctx

    def _trail(self, area):
        """The way back up from a drilled-down area: its ancestors below the top of the user's
        scope (the roll-up without ?area= is the top), each a link (one query)."""
        paths = self.request.user.scope_paths("areas.view_area")
        return [
            a
            for a in area.ancestors()
            if paths is None or any(a.path.startswith(p) and a.path != p for p in paths)
        ]

    def _abnormal_section(self, readings, bound):
        """The abnormal readings, each with its form where the user may handle it (one query)."""
        rows = readings[: worklists.MAX_ROWS]
        ids = [r.pk for r in rows]
        changeable = (
            set(
                CheckIn.objects.restrict(self.request.user, "change")
                .filter(pk__in=ids)
                .values_list("pk", flat=True)
            )
            if ids
            else set()
        )
        for reading in rows:
            reading.handle_form = (
                bound.get(reading.pk) or HandleAbnormalForm(auto_id=_handle_auto_id(reading.pk))
                if reading.pk in changeable
                else None
            )
        return {
            "name": "abnormal",
            "label": LIST_LABELS["abnormal"],
            "rows": rows,
            "more": len(readings) > worklists.MAX_ROWS,
        }


def _handle_auto_id(pk):
    return f"id_handle_{pk}_%s"


class HandOverListView(LoginRequiredMixin, TemplateView):
    """Hand-overs to the user's areas: accept them (the entry moves into their lists) or return
    them with a note; the sender follows the request on the entry's page."""

    template_name = "control/handover_list.html"
    RECENT = 20

    def get_context_data(self, **kwargs):
        user = self.request.user
        if not user.has_scoped_perm("control.view_handover"):
            raise PermissionDenied
        visible = HandOver.objects.restrict(user, "view").select_related(
            "key_person__person", "from_area__parent", "to_area__parent"
        )
        waiting = list(visible.filter(status=HandOver.Status.REQUESTED))
        changeable = set(
            HandOver.objects.restrict(user, "change")
            .filter(pk__in=[h.pk for h in waiting])
            .values_list("pk", flat=True)
        )
        for handover in waiting:
            handover.can_answer = handover.pk in changeable
        answered = visible.exclude(status=HandOver.Status.REQUESTED)[: self.RECENT]
        return {**super().get_context_data(**kwargs), "waiting": waiting, "answered": answered}


class HandOverAnswerView(TransitionView):
    """Accept or return one hand-over (POST, with an optional note; a return needs one): an accepted
    entry opens, now in our lists; otherwise back to the hand-overs (HandOver's own URL)."""

    model = HandOver
    object_permission = "control.change_handover"
    refusals = (ValidationError,)
    accept = True

    def move(self, handover, data):
        note = self.request.POST.get("note", "").strip()[:500]
        if self.accept:
            services.accept_hand_over(handover, note)
            return handover.key_person
        services.return_hand_over(handover, note)
        return handover

    def get_success_message(self, moved):
        if self.accept:
            return _("Accepted: %(entry)s is now in your lists.") % {"entry": moved}
        return _("Returned to %(area)s.") % {"area": moved.from_area.name}

"""Disinfection pages (/disinfection/): rounds with live coverage, a round's page (coverage by
area, its sites), the team leader's phone page (cards, big buttons, camera upload), a task's page
with its completion form and photo, the ledgers (teams, sites, rules, vehicles), trips with their
handover, terminal disinfections with the residents' notices.

Writes go through disinfection.services; a refusal comes back as a message on the page. Reads go
through `restrict`: out of scope → 404, in scope without the right → 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from epigrid.areas.models import Area
from epigrid.audit.services import log_print
from epigrid.core.pdf import pdf_response
from epigrid.core.scoping import may, may_at
from epigrid.core.views import ObjectDetailView, ObjectEditView, ObjectListView, TransitionView
from epigrid.disinfection import pdf, services
from epigrid.disinfection.filtersets import (
    RoundFilterSet,
    RuleFilterSet,
    SiteFilterSet,
    TaskFilterSet,
    TeamFilterSet,
    TerminalFilterSet,
    TripFilterSet,
    VehicleFilterSet,
)
from epigrid.disinfection.forms import (
    CompleteForm,
    GenerateForm,
    HandOverForm,
    ReasonForm,
    RuleForm,
    SiteForm,
    TeamForm,
    TerminalPlanForm,
    TerminalRecordForm,
    TerminalScheduleForm,
    TripForm,
    VehicleForm,
)
from epigrid.disinfection.models import Round, Rule, Site, Task, Team, Terminal, Trip, Vehicle
from epigrid.disinfection.tables import (
    RoundTable,
    RuleTable,
    SiteTable,
    TaskTable,
    TeamTable,
    TerminalTable,
    TripTable,
    VehicleTable,
)

# The round page lists its first sites; the full list (filtered by round) pages through all.
SHOWN_TASKS = 50


def _error(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


def _form_errors(request, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def _need(request, perm):
    if not request.user.has_scoped_perm(perm):
        raise PermissionDenied


# -- rounds ----------------------------------------------------------------------------------------


class RoundListView(ObjectListView):
    model = Round
    table_class = RoundTable
    filterset_class = RoundFilterSet
    export_name = "disinfection-tasks"
    template_name = "disinfection/round_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "team")

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        rows = list(table.page.object_list) if hasattr(table, "page") else []
        counts = services.round_counts(self.request.user, [r.record.pk for r in rows])
        for row in rows:
            row.record.counts = counts.get(row.record.pk, (0, 0))
        return table

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["may_plan"] = self.request.user.has_scoped_perm(services.PLAN)
        ctx["generate_form"] = GenerateForm(user=self.request.user)
        return ctx


@login_required
@require_POST
def generate(request):
    _need(request, services.PLAN)
    form = GenerateForm(request.POST, user=request.user)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("disinfection:round_list")
    area, day = form.cleaned_data["area"], form.cleaned_data["date"]
    try:
        rounds, created = services.generate_rounds(request.user, area, day)
    except (PermissionDenied, ValidationError) as exc:
        _error(request, exc)
    else:
        messages.success(
            request,
            _("%(rounds)d rounds for %(date)s, %(tasks)d new sites due.")
            % {"rounds": len(rounds), "date": day, "tasks": created},
        )
    return redirect(f"{reverse('disinfection:round_list')}?date={day:%Y-%m-%d}")


class RoundDetailView(ObjectDetailView):
    model = Round
    template_name = "disinfection/round_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "rule", "team__leader")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        rnd, user = self.object, self.request.user
        root = rnd.area
        code = self.request.GET.get("area")
        if code:
            root = get_object_or_404(Area.objects.filter(path__startswith=rnd.area.path), code=code)
        rows, total = services.coverage(user, [rnd.pk], root)
        tasks = (
            Task.objects.restrict(user)
            .filter(round=rnd, area__path__startswith=root.path)
            .select_related("site", "area__parent", "operator")
            .order_by("-status", "pk")  # the sites still due first
        )
        ctx.update(
            {
                "root": root,
                "rows": rows,
                "total": total,
                # A plain loop in the template, not the list's table: 50 rows, no sorting, no paging.
                "tasks": list(tasks[:SHOWN_TASKS]),
                "more": total["due"] > SHOWN_TASKS,
                "breadcrumbs": _crumbs(rnd.area, root),
            }
        )
        return ctx


def _crumbs(top, root):
    crumbs, node = [], root
    while node is not None and node.path.startswith(top.path):
        crumbs.append(node)
        node = node.parent
    return list(reversed(crumbs))


@login_required
def my_tasks(request):
    """The team leader's phone page: today's due sites of their rounds as cards, nearest first."""
    _need(request, services.COMPLETE)
    user = request.user
    day = timezone.localdate()
    visible = Task.objects.restrict(user, "change").filter(round__date=day)
    due = list(
        visible.filter(status=Task.Status.DUE)
        .select_related("site", "area__parent", "round")
        .order_by("round__period", "area__path", "site__name")[:200]
    )
    done = list(
        visible.filter(status=Task.Status.DONE).select_related("site", "round").order_by("-done_at")[:10]
    )
    counts = visible.values_list("status", flat=True)
    total = len(counts)
    finished = sum(1 for s in counts if s == Task.Status.DONE)
    return render(
        request,
        "disinfection/my_tasks.html",
        {"due": due, "done": done, "day": day, "total": total, "finished": finished},
    )


# -- tasks -----------------------------------------------------------------------------------------


class TaskListView(ObjectListView):
    model = Task
    table_class = TaskTable
    filterset_class = TaskFilterSet
    export_name = "disinfection-tasks"

    def get_queryset(self):
        return super().get_queryset().select_related("site", "area__parent", "operator", "round")


class TaskDetailView(ObjectDetailView):
    model = Task
    template_name = "disinfection/task_detail.html"

    def get_queryset(self):
        return (
            super().get_queryset().select_related("site__building", "area__parent", "round__rule", "operator")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        task = self.object
        ctx["may_complete"] = task.status == Task.Status.DUE and may(self.request.user, task, "change")
        ctx["form"] = CompleteForm(task=task)
        ctx["back"] = self.request.GET.get("back") == "my"
        return ctx


@login_required
@require_POST
def complete(request, pk):
    _need(request, services.COMPLETE)
    task = get_object_or_404(Task.objects.restrict(request.user).select_related("round__rule", "site"), pk=pk)
    back = request.POST.get("back") == "my"
    form = CompleteForm(request.POST, request.FILES, task=task)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(f"{task.get_absolute_url()}{'?back=my' if back else ''}")
    data = form.cleaned_data
    try:
        services.complete(
            request.user,
            task,
            disinfectant=data["disinfectant"],
            concentration=data["concentration"],
            contact_minutes=data["contact_minutes"],
            area_treated_m2=data["area_treated_m2"],
            photo=data["photo"],
            latitude=data["latitude"],
            longitude=data["longitude"],
            note=data["note"],
        )
    except PermissionDenied as exc:
        if not str(exc):
            raise
        _error(request, exc)
    except ValidationError as exc:
        _error(request, exc)
        return redirect(f"{task.get_absolute_url()}{'?back=my' if back else ''}")
    else:
        messages.success(request, _("%(site)s: done.") % {"site": task.site.name})
    return redirect("disinfection:my_tasks" if back else task.get_absolute_url())


@login_required
def task_photo(request, pk):
    """A task's photo, to whoever may see the task: never a public media URL."""
    task = get_object_or_404(Task.objects.restrict(request.user), pk=pk)
    if not task.photo:
        raise Http404
    content_type = "image/png" if task.photo.name.endswith(".png") else "image/jpeg"
    try:
        response = FileResponse(task.photo.open("rb"), content_type=content_type)
    except FileNotFoundError:
        raise Http404 from None
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- ledgers ---------------------------------------------------------------------------------------


class LedgerDetailView(ObjectDetailView):
    """A ledger row's page: its fields as label/value pairs, links to edit and to its list."""

    template_name = "disinfection/object_detail.html"
    shown = ()
    list_url_name = ""

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj = self.object
        rows = []
        for name in self.shown:
            field = obj._meta.get_field(name)
            display = getattr(obj, f"get_{name}_display", None)
            value = display() if display else getattr(obj, name)
            if name == "area" and value is not None:
                value = value.full_label()
            elif name == "leader":
                value = (value.get_full_name() or value.get_username()) if value else "—"
            elif isinstance(value, bool):
                value = _("yes") if value else _("no")
            rows.append((field.verbose_name, "—" if value in (None, "") else value))
        meta = obj._meta
        ctx.update(
            {
                "rows": rows,
                "list_url": reverse(self.list_url_name),
                "edit_url": reverse(f"disinfection:{meta.model_name}_edit", args=[obj.pk]),
            }
        )
        return ctx


class TeamListView(ObjectListView):
    model = Team
    table_class = TeamTable
    filterset_class = TeamFilterSet
    add_url_name = "disinfection:team_add"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "leader")


class TeamDetailView(LedgerDetailView):
    model = Team
    shown = ("name", "area", "leader", "members", "active")
    list_url_name = "disinfection:team_list"


class TeamEditView(ObjectEditView):
    model = Team
    form_class = TeamForm


class SiteListView(ObjectListView):
    model = Site
    table_class = SiteTable
    filterset_class = SiteFilterSet
    add_url_name = "disinfection:site_add"
    export_name = "disinfection-sites"
    import_name = "disinfection-sites"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "building")


class SiteDetailView(LedgerDetailView):
    model = Site
    shown = ("name", "site_type", "area", "building", "size_m2", "active")
    list_url_name = "disinfection:site_list"


class SiteEditView(ObjectEditView):
    model = Site
    form_class = SiteForm


class RuleListView(ObjectListView):
    model = Rule
    table_class = RuleTable
    filterset_class = RuleFilterSet
    add_url_name = "disinfection:rule_add"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "team")


class RuleDetailView(LedgerDetailView):
    model = Rule
    shown = (
        "site_type",
        "zone_level",
        "per_day",
        "area",
        "team",
        "disinfectant",
        "concentration",
        "contact_minutes",
        "active",
    )
    list_url_name = "disinfection:rule_list"


class RuleEditView(ObjectEditView):
    model = Rule
    form_class = RuleForm


class VehicleListView(ObjectListView):
    model = Vehicle
    table_class = VehicleTable
    filterset_class = VehicleFilterSet
    add_url_name = "disinfection:vehicle_add"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "team")


class VehicleDetailView(LedgerDetailView):
    model = Vehicle
    shown = ("plate", "kind", "area", "team", "active")
    list_url_name = "disinfection:vehicle_list"


class VehicleEditView(ObjectEditView):
    model = Vehicle
    form_class = VehicleForm


# -- trips -----------------------------------------------------------------------------------------


class TripListView(ObjectListView):
    model = Trip
    table_class = TripTable
    filterset_class = TripFilterSet
    add_url_name = "disinfection:trip_add"
    export_name = "disinfection-trips"

    def get_queryset(self):
        return super().get_queryset().select_related("vehicle", "handed_by")


class TripDetailView(ObjectDetailView):
    model = Trip
    template_name = "disinfection/trip_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("vehicle__team", "handed_by", "area")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        trip = self.object
        ctx["may_hand_over"] = (
            not trip.handed_over and trip.waste_kind != "none" and may(self.request.user, trip, "change")
        )
        ctx["form"] = HandOverForm()
        return ctx


@login_required
def add_trip(request):
    _need(request, services.ADD_TRIP)
    form = TripForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            trip = services.record_trip(
                request.user,
                data["vehicle"],
                started_at=data["started_at"],
                waste_kind=data["waste_kind"],
                tonnage=data["tonnage"],
                destination=data["destination"],
                note=data["note"],
            )
        except (PermissionDenied, ValidationError) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", None) or [str(exc)]))
        else:
            messages.success(request, _("Saved %(object)s.") % {"object": trip})
            return redirect(trip.get_absolute_url())
    return render(request, "disinfection/form.html", {"form": form, "title": _("Record a trip")})


@login_required
@require_POST
def hand_over(request, pk):
    _need(request, services.HAND_OVER)
    trip = get_object_or_404(Trip.objects.restrict(request.user), pk=pk)
    form = HandOverForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect(trip.get_absolute_url())
    try:
        services.hand_over(request.user, trip, **form.cleaned_data)
    except PermissionDenied as exc:
        if not str(exc):
            raise
        _error(request, exc)
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Handed over."))
    return redirect(trip.get_absolute_url())


# -- terminal disinfection -------------------------------------------------------------------------


class TerminalListView(ObjectListView):
    model = Terminal
    table_class = TerminalTable
    filterset_class = TerminalFilterSet
    export_name = "disinfection-terminals"
    template_name = "disinfection/terminal_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "team")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["plan_form"] = TerminalPlanForm(user=self.request.user) if ctx["can_add"] else None
        return ctx


@login_required
@require_POST
def plan_terminal(request):
    _need(request, services.ADD_TERMINAL)
    form = TerminalPlanForm(request.POST, user=request.user)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("disinfection:terminal_list")
    case = form.cleaned_data["case"]
    try:
        _all, created = services.plan_terminal(request.user, case, team=form.cleaned_data["team"])
    except (PermissionDenied, ValidationError) as exc:
        _error(request, exc)
        return redirect("disinfection:terminal_list")
    messages.success(request, _("%(n)d addresses to disinfect.") % {"n": len(created)})
    return redirect(f"{reverse('disinfection:terminal_list')}?case={case.pk}")


class TerminalDetailView(ObjectDetailView):
    model = Terminal
    template_name = "disinfection/terminal_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("area__parent", "team", "notified_by", "operator", "posted_by", "building")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        terminal = self.object
        ctx["may_work"] = may(self.request.user, terminal, "change")
        # The disinfection as planned is what is usually recorded: the form starts from it.
        ctx["record_form"] = TerminalRecordForm(initial={"contact_minutes": terminal.contact_minutes})
        ctx["schedule_form"] = TerminalScheduleForm(
            initial={
                "planned_at": timezone.localtime(terminal.planned_at) if terminal.planned_at else None,
                "contact_minutes": terminal.contact_minutes,
                "ventilation_minutes": terminal.ventilation_minutes,
            }
        )
        ctx["may_schedule"] = terminal.status in (Terminal.Status.PLANNED, Terminal.Status.NOTIFIED)
        ctx["is_done"] = terminal.done_at is not None
        ctx["reason_form"] = ReasonForm()
        return ctx


class TerminalStep(TransitionView):
    """A step of a terminal disinfection from its page (decision 0039)."""

    model = Terminal
    permission = services.WORK_TERMINAL
    label_errors = True
    success_message = ""

    def get_success_message(self, moved):
        return self.success_message


class TerminalNotifyView(TerminalStep):
    success_message = gettext_lazy("Residents told.")

    def move(self, terminal, data):
        return services.notify(self.request.user, terminal)


class TerminalRecordView(TerminalStep):
    form_class = TerminalRecordForm
    success_message = gettext_lazy("Disinfection recorded.")

    def move(self, terminal, data):
        return services.record_terminal(self.request.user, terminal, **data)


class TerminalPostView(TerminalStep):
    success_message = gettext_lazy("Notice posted.")

    def move(self, terminal, data):
        return services.post_notice(self.request.user, terminal)


class TerminalCancelView(TerminalStep):
    form_class = ReasonForm
    success_message = gettext_lazy("Cancelled.")

    def move(self, terminal, data):
        return services.cancel_terminal(self.request.user, terminal, data["note"])


class TerminalScheduleView(TerminalStep):
    form_class = TerminalScheduleForm
    success_message = gettext_lazy("Planned. Print the notice for the residents.")

    def move(self, terminal, data):
        return services.schedule_terminal(self.request.user, terminal, **data)


def _notice(request, pk, which):
    """A residents' notice as a PDF (disinfection/pdf.py), for whoever sees the terminal
    disinfection; each print is a row in its audit log (a reveal when the leader's phone is full)."""
    terminal = get_object_or_404(
        Terminal.objects.restrict(request.user).select_related("area__parent", "team__leader"), pk=pk
    )
    S = Terminal.Status
    refusal = None
    if terminal.status == S.CANCELLED:
        refusal = _("This terminal disinfection was cancelled: there is no notice to print.")
    elif which == "before" and terminal.planned_at is None:
        refusal = _("Plan the time first: the notice tells the residents when the team comes.")
    elif which == "after" and terminal.status not in (S.DISINFECTED, S.CLOSED):
        refusal = _("The notice after is printed once the disinfection is recorded.")
    if refusal:
        messages.warning(request, refusal)
        return redirect(terminal.get_absolute_url())
    leader = terminal.team.leader if terminal.team_id else None
    full = bool(leader and leader.phone) and may_at(request.user, "people.reveal_person", terminal.area)
    body = (pdf.notice_before if which == "before" else pdf.notice_after)(terminal, full_phone=full)
    log_print(
        terminal,
        f"terminal_notice_{which}",
        revealed=["team_leader_phone"] if full else (),
        reason=_("Printed on the residents' notice"),
    )
    return pdf_response(body, f"terminal-{terminal.pk}-{which}.pdf")


@login_required
def terminal_notice_before(request, pk):
    return _notice(request, pk, "before")


@login_required
def terminal_notice_after(request, pk):
    return _notice(request, pk, "after")

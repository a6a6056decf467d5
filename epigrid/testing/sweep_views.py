"""Pages of the door-to-door sweep 扫楼: the missed list with a one-tap visit record per row,
exemptions 免检, unregistered finds to register or reject, home-sampling tasks, pre-formed groups.

Writes go through `testing.services` (record_sweep, exempt, register_find, reject_find); reads
through `restrict`. Nothing personal is shown in full to a role without people.reveal_person:
masked phone and number, birth year only (the lists never show more to anyone: a reveal is the
person page's business)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from epigrid.core import identity
from epigrid.core.scoping import ScopeViolation, check_in_scope, may, within
from epigrid.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TransitionView,
    get_scoped_or_404,
    safe_next,
)
from epigrid.people import services as people_services
from epigrid.people.models import DocumentType, Person
from epigrid.testing import services
from epigrid.testing.coverage_views import (
    COVERAGE_PERM,
    breadcrumb,
    campaign_for,
    resolve_building,
    resolve_node,
)
from epigrid.testing.models import (
    Exemption,
    Find,
    Group,
    HomeTask,
    Sample,
    SampledPerson,
    SweepOutcome,
    SweepVisit,
)
from epigrid.testing.sweep_filtersets import (
    ExemptionFilterSet,
    FindFilterSet,
    GroupFilterSet,
    HomeTaskFilterSet,
    MissedFilterSet,
)
from epigrid.testing.sweep_forms import (
    ExemptionForm,
    NoteForm,
    RegisterFindForm,
    RejectFindForm,
    SweepForm,
    covers,
    home_teams,
)
from epigrid.testing.sweep_tables import ExemptionTable, FindTable, GroupTable, HomeTaskTable, MissedTable

# The buttons of a missed row, in the order a sweep team meets them at the door.
ROW_OUTCOMES = [
    SweepOutcome.NOT_HOME,
    SweepOutcome.MOVED,
    SweepOutcome.AWAY,
    SweepOutcome.HOSPITAL,
    SweepOutcome.EXEMPT,
]


# -- the missed list ------------------------------------------------------------------------------


def missed_queryset(campaign, node, building=None):
    """services.missed with each person's last sweep visit and open home task (one subquery each,
    on the sweep's (campaign, person) index): the page and its export read the same rows."""
    visits = SweepVisit.objects.filter(campaign=campaign, person=OuterRef("pk")).order_by(
        "-visited_at", "-id"
    )
    # order_by(): the model's ordering would join the area for every row.
    tasks = HomeTask.objects.filter(
        campaign=campaign, person=OuterRef("pk"), status=HomeTask.Status.OPEN
    ).order_by()
    return services.missed(campaign, grid=node, building=building).annotate(
        last_outcome=Subquery(visits.values("outcome")[:1]),
        last_visit=Subquery(visits.values("visited_at")[:1]),
        last_note=Subquery(visits.values("note")[:1]),
        home_team=Subquery(tasks.values("team__name")[:1]),
    )


def fill_visits(campaign, persons):
    """Each person's last sweep visit and open home task, two queries for a page of persons."""
    todo = [p for p in persons if not hasattr(p, "last_outcome")]
    if not todo:
        return
    ids = [p.pk for p in todo]
    last = {}
    visits = SweepVisit.objects.filter(campaign=campaign, person_id__in=ids).order_by(
        "person_id", "-visited_at", "-id"
    )
    for person_id, outcome, visited_at, note in visits.values_list(
        "person_id", "outcome", "visited_at", "note"
    ):
        last.setdefault(person_id, (outcome, visited_at, note))
    teams = dict(
        HomeTask.objects.filter(campaign=campaign, person_id__in=ids, status=HomeTask.Status.OPEN)
        .order_by()
        .values_list("person_id", "team__name")
    )
    for person in todo:
        person.last_outcome, person.last_visit, person.last_note = last.get(person.pk, (None, None, None))
        person.home_team = teams.get(person.pk)


class MissedView(ObjectListView):
    """GET /testing/<round>/missed/?area=GRID[&building=ID]: who the round has not reached yet."""

    model = SampledPerson  # the permission that opens coverage opens the missed list
    table_class = MissedTable
    filterset_class = MissedFilterSet
    template_name = "testing/missed.html"
    paginate_by = 50  # a phone sweeps a building at a time; 100 rows of buttons took 2× as long to draw

    def place(self):
        if not hasattr(self, "_place"):
            user = self.request.user
            campaign = campaign_for(user, self.kwargs["pk"])
            node = resolve_node(user, campaign, self.request.GET.get("area"), COVERAGE_PERM)
            building = resolve_building(node, self.request.GET.get("building"))
            self._place = campaign, node, building
        return self._place

    def get_queryset(self):
        if self.request.GET.get("visit"):  # filtering by the last visit needs it on every row
            return missed_queryset(*self.place())
        # Otherwise only the page's rows get their last visit (fill_visits): the count and the
        # page's query stay plain person queries.
        campaign, node, building = self.place()
        return services.missed(campaign, grid=node, building=building)

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        campaign = self.place()[0]
        fill_visits(campaign, [row.record for row in table.page.object_list])
        table.action_context = {
            "request": self.request,
            "campaign": campaign,
            "teams": list(home_teams(campaign)),
            "outcomes": [(o.value, o.label) for o in ROW_OUTCOMES],
            "may_sweep": self.request.user.has_scoped_perm("testing.add_sweepvisit"),
        }
        return table

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        campaign, node, building = self.place()
        user = self.request.user
        query = {"area": node.code, **({"building": building.pk} if building else {})}
        ctx.update(
            campaign=campaign,
            node=node,
            building=building,
            trail=breadcrumb(user, campaign, node),
            teams=list(home_teams(campaign)),
            outcomes=[(o.value, o.label) for o in ROW_OUTCOMES],
            may_sweep=user.has_scoped_perm("testing.add_sweepvisit"),
            coverage_url=f"{reverse('testing:coverage', args=[campaign.pk])}?{urlencode(query)}",
            export_query=urlencode({"campaign": campaign.pk, **query, **self._filters()}),
            can_reveal=user.has_scoped_perm("people.reveal_person"),
        )
        return ctx

    def _filters(self):
        return {k: v for k, v in self.request.GET.items() if k in ("q", "visit") and v}


class SweepRecordView(LoginRequiredMixin, View):
    """POST one visit's outcome for a person of the missed list (services.record_sweep). With
    htmx the answer replaces the row's buttons with what was recorded; without, back to the list."""

    def post(self, request, pk, person):
        user = request.user
        campaign = campaign_for(user, pk)
        paths = user.scope_paths("testing.add_sweepvisit")
        if paths == []:
            raise PermissionDenied
        person = Person.objects.filter(pk=person, merged_into__isnull=True).select_related("area").first()
        if person is None or not within(person.area.path, paths) or not covers(campaign, person.area):
            raise Http404
        form = SweepForm(request.POST, campaign=campaign)
        error = None
        visit = None
        if form.is_valid():
            data = form.cleaned_data
            team = data["team"] if data["outcome"] == SweepOutcome.SAMPLED_HOME else None
            try:
                visit = services.record_sweep(
                    user, campaign, person, data["outcome"], data["note"].strip(), team
                )
            except (ValidationError, ScopeViolation) as exc:
                error = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        else:
            error = " ".join(str(e) for errors in form.errors.values() for e in errors)
        if request.htmx:
            ctx = {
                "record": person,
                "campaign": campaign,
                "teams": list(home_teams(campaign)),
                "outcomes": [(o.value, o.label) for o in ROW_OUTCOMES],
                "may_sweep": True,
                "visit": visit,
                "error": error,
                "next": safe_next(request, ""),
            }
            return TemplateResponse(request, "testing/missed_actions.html", ctx)
        if error:
            messages.error(request, error)
        else:
            messages.success(
                request,
                _("Recorded for %(name)s: %(outcome)s.")
                % {"name": person.name, "outcome": visit.get_outcome_display()},
            )
        default = f"{reverse('testing:missed', args=[campaign.pk])}?{urlencode({'area': person.area.code})}"
        return redirect(safe_next(request, default))


# -- exemptions -----------------------------------------------------------------------------------


class ExemptionListView(ObjectListView):
    model = Exemption
    table_class = ExemptionTable
    filterset_class = ExemptionFilterSet
    add_url_name = "testing:exemption_add"
    import_name = "exemptions"
    template_name = "testing/exemption_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("person", "area", "campaign")


class ExemptionDetailView(ObjectDetailView):
    model = Exemption
    template_name = "testing/exemption_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("person", "area", "campaign", "recorded_by")

    def get_object(self, queryset=None):
        return get_scoped_or_404(Exemption, self.request.user, self.kwargs["pk"])


class ExemptionEditView(ObjectEditView):
    """Add or change an exemption through services.exempt (one per person and round)."""

    model = Exemption
    form_class = ExemptionForm
    template_name = "testing/exemption_form.html"

    def get_initial(self):
        initial = super().get_initial()
        for name in ("campaign", "person"):
            value = self.request.GET.get(name, "")
            if value.isdigit():
                initial[name] = value
        return initial

    def form_valid(self, form):
        data = form.cleaned_data
        campaign = self.object.campaign if self.object else data["campaign"]
        person = self.object.person if self.object else data["person"]
        try:
            self.object = services.exempt(self.request.user, campaign, person, data["reason"], data["note"])
        except ScopeViolation as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved %(object)s.") % {"object": self.object})
        return redirect(self.get_success_url())

    def get_success_url(self):
        return reverse("testing:exemption_detail", args=[self.object.pk])


# -- unregistered finds ---------------------------------------------------------------------------


class FindListView(ObjectListView):
    """The grid's work list of persons sampled but not in the registry, pending first."""

    model = Find
    table_class = FindTable
    filterset_class = FindFilterSet
    template_name = "testing/find_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("area", "campaign")
            .annotate(sample_count=Count("samples"))
            .order_by("status", "-created", "-id")
        )


class FindDetailView(LoginRequiredMixin, View):
    """A find, masked; register it as a resident (the number from the find, never from the page)
    or link it to the record registered since, or reject it with a reason."""

    def get_find(self):
        return get_object_or_404(
            Find.objects.restrict(self.request.user, "view").select_related("area", "campaign", "person"),
            pk=self.kwargs["pk"],
        )

    def get(self, request, pk):
        find = self.get_find()
        return self.render(find)

    def render(self, find, register_form=None, reject_form=None, status=200):
        user = self.request.user
        may_change = may(user, find)
        existing = None
        existing_elsewhere = False
        if find.status == Find.Status.PENDING:
            found = people_services.find_by_document(find.doc_type, find.doc_number)
            if found is not None:
                if Person.objects.restrict(user, "view").filter(pk=found.pk).exists():
                    existing = found
                else:
                    existing_elsewhere = True
        birth_year = None
        if find.doc_type == DocumentType.RESIDENT_ID and len(find.doc_number) == 18:
            try:
                birth_year = identity.resident_id_facts(find.doc_number)[1].year
            except (ValueError, ValidationError):
                birth_year = None
        ctx = {
            "object": find,
            "find": find,
            "birth_year": birth_year,
            "samples": Sample.objects.filter(find=find)
            .select_related("tube", "point")
            .order_by("scanned_at"),
            "may_change": may_change and find.status == Find.Status.PENDING,
            "may_register": may_change and user.has_scoped_perm("people.add_person"),
            "existing": existing,
            "existing_elsewhere": existing_elsewhere,
            "register_form": register_form or RegisterFindForm(find=find),
            "reject_form": reject_form or RejectFindForm(),
        }
        if ctx["register_form"] is not None:
            _restrict_register_form(ctx["register_form"], user)
        return TemplateResponse(self.request, "testing/find_detail.html", ctx, status=status)

    def post(self, request, pk):
        find = self.get_find()
        if not may(request.user, find):
            raise PermissionDenied
        if find.status != Find.Status.PENDING:
            messages.error(request, _("This find was already dealt with."))
            return redirect(find)
        action = request.POST.get("action")
        if action == "reject":
            form = RejectFindForm(request.POST)
            if not form.is_valid():
                return self.render(find, reject_form=form, status=400)
            services.reject_find(request.user, find, form.cleaned_data["reason"])
            messages.success(request, _("The find was rejected."))
            return redirect(find)
        if action == "link":
            return self.link(find)
        if action == "register":
            return self.register(find)
        raise Http404

    def link(self, find):
        user = self.request.user
        person = people_services.find_by_document(find.doc_type, find.doc_number)
        if person is None or not Person.objects.restrict(user, "view").filter(pk=person.pk).exists():
            raise Http404
        services.register_find(user, find, person)
        messages.success(self.request, _("The samples now count for %(name)s.") % {"name": person.name})
        return redirect(find)

    def register(self, find):
        user = self.request.user
        if not user.has_scoped_perm("people.add_person"):
            raise PermissionDenied
        form = RegisterFindForm(self.request.POST, find=find)
        _restrict_register_form(form, user)
        if not form.is_valid():
            return self.render(find, register_form=form, status=400)
        data = form.cleaned_data
        if people_services.find_by_document(find.doc_type, find.doc_number) is not None:
            messages.warning(self.request, _("This document was registered meanwhile."))
            return redirect(find)
        try:
            with transaction.atomic():
                person = Person(
                    doc_type=find.doc_type,
                    doc_number=find.doc_number,
                    name=data["name"],
                    phone=data["phone"],
                    residence_type=data["residence_type"],
                    area=data["area"],
                    household=data["household"],
                )
                person.save()
                check_in_scope(user, person, "add")
                services.register_find(user, find, person)
        except ScopeViolation as exc:
            form.add_error(None, str(exc))
            return self.render(find, register_form=form, status=400)
        except IntegrityError:
            messages.warning(self.request, _("This document was registered meanwhile."))
            return redirect(find)
        messages.success(self.request, _("Registered %(name)s; the samples follow.") % {"name": person.name})
        return redirect(find)


def _restrict_register_form(form, user):
    form.fields["household"].queryset = form.fields["household"].queryset.restrict(
        user, perm="people.add_person"
    )
    form.fields["area"].queryset = form.fields["area"].queryset.restrict(user, perm="people.add_person")


# -- home sampling --------------------------------------------------------------------------------


def home_tasks_for(user, action="view"):
    """Tasks the user sees: by the person's area, and for someone who holds the right only as a
    sampler (a bound role) those of the home teams they are posted on."""
    perm = f"testing.{action}_hometask"
    tasks = HomeTask.objects.restrict(user, perm=perm)
    if user.scope_paths(perm, bound=False) == []:
        tasks = tasks.filter(team__staff=user)
    return tasks


# Cancelling and reopening a task: the transitions HomeTask allows (a done task is done).
HOME_TASK_MOVES = {"cancel": HomeTask.Status.CANCELLED, "reopen": HomeTask.Status.OPEN}


def set_home_task_status(user, task, move, note=""):
    with transaction.atomic():
        task = home_tasks_for(user, "change").select_for_update().get(pk=task.pk)
        if move == "cancel":
            return services.cancel_home_task(user, task, note)
        return services.reopen_home_task(user, task, note)


class HomeTaskListView(ObjectListView):
    model = HomeTask
    table_class = HomeTaskTable
    filterset_class = HomeTaskFilterSet
    template_name = "testing/hometask_list.html"

    def get_queryset(self):
        return (
            home_tasks_for(self.request.user)
            .select_related("person__household__building", "team", "campaign")
            .order_by("status", "area", "id")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["may_change_ids"] = set(
            home_tasks_for(self.request.user, "change")
            .filter(pk__in=[row.record.pk for row in ctx["table"].paginated_rows])
            .values_list("pk", flat=True)
        )
        return ctx


class HomeTaskStatusView(TransitionView):
    """Cancel or reopen a home-sampling task, back to the list (or the page in `next`)."""

    model = HomeTask
    refusals = (ValidationError, IntegrityError)
    success_message = gettext_lazy("Saved %(object)s.")

    def post(self, request, *args, **kwargs):
        if kwargs["move"] not in HOME_TASK_MOVES:
            raise Http404
        return super().post(request, *args, **kwargs)

    def get_queryset(self):
        return home_tasks_for(self.request.user)

    def has_object_permission(self, task):
        return home_tasks_for(self.request.user, "change").filter(pk=task.pk).exists()

    def move(self, task, data):
        form = NoteForm(self.request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        set_home_task_status(self.request.user, task, self.kwargs["move"], note)
        return task

    def refused(self, exc):
        if isinstance(exc, IntegrityError):
            # One open task per person and round: another was opened since this one was cancelled.
            messages.error(
                self.request, _("This person already has an open home-sampling task in this round.")
            )
        else:
            messages.error(self.request, exc.messages[0])

    def get_redirect_url(self, task):
        return safe_next(self.request, reverse("testing:hometask_list"))


# -- pre-formed groups ----------------------------------------------------------------------------


class GroupListView(ObjectListView):
    model = Group
    table_class = GroupTable
    filterset_class = GroupFilterSet
    import_name = "groups"
    template_name = "testing/group_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("area", "campaign")
            .annotate(member_count=Count("members"))
            .prefetch_related(Prefetch("members", queryset=Person.objects.only("id", "name").order_by("id")))
        )

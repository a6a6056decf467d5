"""Tracing pages (/tracing/): cases with their deadlines, a case's investigation (trajectory,
contacts, the building rule), contacts, clusters, teams, and the chain graph.

Every write goes through tracing.services; a refusal comes back as a message on the page. Reads go
through `restrict`: out of scope → 404, in scope without the right → 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from epigrid.audit.services import log_export
from epigrid.core.pdf import pdf_response
from epigrid.core.scoping import may
from epigrid.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TransitionView,
    restrict_form_choices,
)
from epigrid.tracing import chains, pdf, services
from epigrid.tracing.filtersets import CaseFilterSet, ClusterFilterSet, ContactFilterSet, TeamFilterSet
from epigrid.tracing.forms import (
    BuildingRuleForm,
    CaseEditForm,
    CaseForm,
    ClusterForm,
    ContactForm,
    DismissForm,
    NewPersonForm,
    StopForm,
    TeamForm,
)
from epigrid.tracing.models import Case, Cluster, Contact, Team
from epigrid.tracing.tables import CaseTable, ClusterTable, ContactTable, TeamTable

DEADLINE_LABELS = {
    "reported": gettext_lazy("Positive reported"),
    "trajectory": gettext_lazy("Trajectory finished"),
    "report": gettext_lazy("Preliminary report"),
}


def _error(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


def _case(request, pk, action="change"):
    case = get_object_or_404(
        Case.objects.restrict(request.user, "view").select_related("person", "protocol", "area"), pk=pk
    )
    if action != "view" and not may(request.user, case, action):
        raise PermissionDenied
    return case


# Cases


class CaseListView(ObjectListView):
    model = Case
    table_class = CaseTable
    filterset_class = CaseFilterSet
    add_url_name = "tracing:case_add"
    template_name = "tracing/case_list.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("person", "team", "cluster")
            .annotate(contact_count=Count("contacts", filter=~Q(contacts__status="dismissed")))
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, now = self.request.user, timezone.now()
        ctx["overdue_cases"] = services.overdue_cases(Case.objects.restrict(user, "view"), now).count()
        ctx["overdue_contacts"] = services.overdue_contacts(
            Contact.objects.restrict(user, "view"), now
        ).count()
        return ctx


@login_required
def case_add(request):
    if not request.user.has_scoped_perm(services.ADD_CASE):
        raise PermissionDenied
    initial = {"person": request.GET["person"]} if request.GET.get("person", "").isdigit() else {}
    form = CaseForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case, created = services.open_case(
                request.user,
                data["person"],
                classification=data["classification"],
                sampled_on=data["sampled_on"],
                positive_at=data["positive_at"],
                onset_date=data["onset_date"],
                team=data["team"],
                cluster=data["cluster"],
                notes=data["notes"],
            )
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
        else:
            if not created:
                messages.info(request, _("This person already has a case; it is shown here."))
            return redirect(case.get_absolute_url())
    return render(request, "core/object_edit.html", {"form": form, "model_meta": Case._meta})


class CaseDetailView(ObjectDetailView):
    model = Case
    template_name = "tracing/case_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related(
                "person__household__building",
                "area",
                "team",
                "cluster",
                "protocol",
                "key_person",
                "source_contact__case__person",
            )
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        case, user, now = self.object, self.request.user, timezone.now()
        rules = case.protocol.rules
        contacts = list(
            case.contacts.select_related("person", "via__person", "key_person").order_by(
                "contact_class", "status", "person__name_key"
            )
        )
        late = set(services.overdue_contacts(case.contacts.all(), now).values_list("pk", flat=True))
        became = dict(Case.objects.filter(source_contact__case=case).values_list("source_contact_id", "pk"))
        for contact in contacts:
            contact.due = services.contact_due(contact, rules)
            contact.late = contact.pk in late
            contact.became_case = became.get(contact.pk)
        first, last = services.window(case)
        can_change = may(user, case, "change")
        classes = [(c, label) for c, label in Contact.Class.choices if services.traces(case, c)]
        ctx.update(
            {
                "deadlines": [
                    (DEADLINE_LABELS[key], key, due, done, state)
                    for key, due, done, state in services.case_deadlines(case, now)
                ],
                "window_from": first,
                "window_to": last,
                "trajectory": list(case.trajectory.select_related("cluster")),
                "contacts": contacts,
                "secondary_traced": services.traces(case, Contact.Class.SECONDARY),
                # Only the cases of the chain the user may open (a tracer: their teams').
                "chain": list(
                    Case.objects.restrict(user, "view")
                    .filter(pk__in=chains.chain_of(case) - {case.pk})
                    .order_by("pk")
                    .values_list("pk", flat=True)
                ),
                "can_change": can_change,
            }
        )
        if can_change and case.status == Case.Status.OPEN:
            ctx["stop_form"] = restrict_form_choices(
                StopForm(initial={"date": timezone.localdate(case.positive_at)}), user
            )
            ctx["contact_form"] = ContactForm(user=user, case=case, classes=classes)
            ctx["person_form"] = NewPersonForm()
            ctx["rule_form"] = BuildingRuleForm()
            ctx["dismiss_form"] = DismissForm()
        return ctx


class CaseEditView(ObjectEditView):
    model = Case
    form_class = CaseEditForm
    creates = False


CASE_MOVES = {"reported", "trajectory", "report", "close", "reopen"}


class CaseMoveView(TransitionView):
    """A case's step (reported, trajectory, report, close, reopen) with an optional note."""

    model = Case
    related = ("person", "protocol", "area")
    object_permission = "tracing.change_case"
    refusals = (ValidationError,)

    def move(self, case, data):
        move, note = self.kwargs["move"], self.request.POST.get("note", "")
        if move not in CASE_MOVES:
            raise PermissionDenied
        if move == "close":
            services.close_case(self.request.user, case, note)
        elif move == "reopen":
            case.transition(Case.Status.OPEN, note=note)
        else:
            services.mark(self.request.user, case, move)
        return case


@login_required
@require_POST
def add_stop(request, pk):
    case = _case(request, pk)
    form = StopForm(request.POST)
    restrict_form_choices(form, request.user)  # clusters the user sees, as every edit form offers
    if form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            services.add_stop(request.user, case, **fields)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Stop added."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(case.get_absolute_url() + "#trajectory")


@login_required
@require_POST
def add_contact(request, pk):
    """A registered person (the search), or a person from elsewhere registered first."""
    case = _case(request, pk)
    classes = [(c, label) for c, label in Contact.Class.choices if services.traces(case, c)]
    data = request.POST.copy()
    if request.POST.get("new_person"):
        person_form = NewPersonForm(request.POST)
        if not person_form.is_valid():
            for errors in person_form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect(case.get_absolute_url() + "#contacts")
        try:
            person, created = services.find_or_register(request.user, case, **person_form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            _error(request, exc)
            return redirect(case.get_absolute_url() + "#contacts")
        if created:
            messages.info(
                request, _("%(name)s registered as a person from elsewhere.") % {"name": person.name}
            )
        data["person"] = str(person.pk)
        form = ContactForm(data, user=request.user, case=case, classes=classes)
        # A person registered elsewhere may lie outside the tracer's areas: they are still the contact.
        form.fields["person"].queryset = form.fields["person"].queryset.model.objects.filter(pk=person.pk)
    else:
        form = ContactForm(data, user=request.user, case=case, classes=classes)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(case.get_absolute_url() + "#contacts")
    fields = form.cleaned_data
    try:
        contact, created = services.add_contact(
            request.user,
            case,
            fields["person"],
            contact_class=fields["contact_class"],
            setting=fields["setting"],
            closeness=fields["closeness"],
            last_contact=fields["last_contact"],
            via=fields["via"],
            stop=fields["stop"],
            note=fields["note"],
        )
    except ValidationError as exc:
        _error(request, exc)
    else:
        if created:
            messages.success(request, _("%(name)s added as a contact.") % {"name": contact.person.name})
        else:
            messages.info(
                request, _("%(name)s is already a contact of this case.") % {"name": contact.person.name}
            )
    return redirect(case.get_absolute_url() + "#contacts")


@login_required
@require_POST
def building_rule(request, pk):
    case = _case(request, pk)
    form = BuildingRuleForm(request.POST)
    if form.is_valid():
        try:
            added = services.propose_building(request.user, case, form.cleaned_data["own_facilities"])
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request, _("%(n)d contacts proposed by the building rule; confirm each.") % {"n": added}
            )
    return redirect(case.get_absolute_url() + "#contacts")


class ContactMoveView(TransitionView):
    """Confirm, dismiss or propose again a contact, with an optional note."""

    model = Contact
    object_permission = "tracing.change_contact"
    refusals = (ValidationError,)
    MOVES = {
        "confirm": services.confirm_contact,
        "dismiss": services.dismiss_contact,
        "propose": services.repropose_contact,
    }

    def move(self, contact, data):
        if self.kwargs["move"] not in self.MOVES:
            raise PermissionDenied
        self.MOVES[self.kwargs["move"]](self.request.user, contact, self.request.POST.get("note", ""))
        return contact


@login_required
@require_POST
def confirm_all(request, pk):
    """Confirm every proposed contact of the case the protocol traces (after checking the list)."""
    case = _case(request, pk)
    done = 0
    for contact in case.contacts.filter(status=Contact.Status.PROPOSED).order_by("pk"):
        try:
            services.confirm_contact(request.user, contact)
            done += 1
        except ValidationError as exc:
            _error(request, exc)
    messages.success(request, _("%(n)d contacts confirmed.") % {"n": done})
    return redirect(case.get_absolute_url() + "#contacts")


@login_required
def trajectory_pdf(request, pk):
    """The masked trajectory for publication: no name, ID or home; only stops marked for publishing."""
    case = _case(request, pk, action="view")
    body = pdf.trajectory(case)
    log_export(Case, 1, f"trajectory case={case.pk}", unmasked=False)
    return pdf_response(body, f"trajectory-{case.pk}.pdf")


# Contacts, clusters, teams


class ContactListView(ObjectListView):
    model = Contact
    table_class = ContactTable
    filterset_class = ContactFilterSet
    export_name = "tracing-contacts"

    def get_queryset(self):
        return super().get_queryset().select_related("person", "case__person")


def _with_counts(clusters):
    return clusters.annotate(
        case_count=Count("cases", distinct=True),
        contact_count=Count("contacts", filter=~Q(contacts__status="dismissed"), distinct=True),
    )


class ClusterListView(ObjectListView):
    model = Cluster
    table_class = ClusterTable
    filterset_class = ClusterFilterSet
    add_url_name = "tracing:cluster_add"

    def get_queryset(self):
        return _with_counts(super().get_queryset())


class ClusterDetailView(ObjectDetailView):
    model = Cluster
    template_name = "tracing/cluster_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["cases"] = (
            Case.objects.restrict(user, "view").filter(cluster=self.object).select_related("person")
        )
        ctx["contact_count"] = (
            Contact.objects.restrict(user, "view")
            .filter(cluster=self.object)
            .exclude(status="dismissed")
            .count()
        )
        return ctx


class ClusterEditView(ObjectEditView):
    model = Cluster
    form_class = ClusterForm


class TeamListView(ObjectListView):
    model = Team
    table_class = TeamTable
    filterset_class = TeamFilterSet
    add_url_name = "tracing:team_add"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("area")
            .annotate(open_cases=Count("cases", filter=Q(cases__status="open")))
        )


class TeamDetailView(ObjectDetailView):
    model = Team
    template_name = "tracing/team_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["members"] = list(self.object.members.order_by("username"))
        ctx["cases"] = (
            Case.objects.restrict(self.request.user, "view")
            .filter(team=self.object, status=Case.Status.OPEN)
            .select_related("person")
        )
        return ctx


class TeamEditView(ObjectEditView):
    model = Team
    form_class = TeamForm


# Chains


def _graph_querysets(request):
    """The scoped cases and contacts of the graph, narrowed to a cluster or one case's chain."""
    user = request.user
    cases = Case.objects.restrict(user, "view")
    contacts = Contact.objects.restrict(user, "view")
    cluster = request.GET.get("cluster")
    case = request.GET.get("case")
    if cluster and cluster.isdigit():
        cases = cases.filter(cluster_id=cluster)
        contacts = contacts.filter(Q(cluster_id=cluster) | Q(case__cluster_id=cluster))
    if case and case.isdigit():
        root = get_object_or_404(cases, pk=case)
        members = chains.chain_of(root)
        cases = cases.filter(pk__in=members)
        contacts = contacts.filter(case_id__in=members)
    return cases, contacts


@login_required
def chain_page(request):
    if not request.user.has_scoped_perm("tracing.view_case"):
        raise PermissionDenied
    query = request.GET.urlencode()
    return render(
        request,
        "tracing/chains.html",
        {
            "data_url": reverse("tracing:chain_data") + (f"?{query}" if query else ""),
            "clusters": Cluster.objects.restrict(request.user, "view").order_by("-started_on")[:50],
            "selected_cluster": request.GET.get("cluster", ""),
            "selected_case": request.GET.get("case", ""),
        },
    )


@login_required
def chain_data(request):
    """The graph as JSON for the page's ECharts (and the API's graph action)."""
    if not request.user.has_scoped_perm("tracing.view_case"):
        raise PermissionDenied
    cases, contacts = _graph_querysets(request)
    return JsonResponse(chains.build(cases, contacts))

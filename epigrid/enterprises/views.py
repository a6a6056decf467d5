"""Enterprise pages (/enterprises/): the register with its filters, import and export; an
enterprise's page (its application and the moves its reader may make, the roster linked to the
registry, cards, today's temperatures, PPE days of cover, staff testing coverage); an employee's
page (the card of the protocol in force, temperatures); the applications to review; the contact's
phone page and the gate's phone page for temperatures; the phases.

Every write goes through enterprises.services; a refusal comes back as a message on the page.
Reads go through `restrict`: out of scope → 404, in scope without the right → 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from epigrid.audit.services import history, log_print
from epigrid.core.pdf import pdf_response
from epigrid.core.scoping import may_at
from epigrid.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TransitionView,
    get_scoped_or_404,
)
from epigrid.enterprises import daily, pdf, services
from epigrid.enterprises.filtersets import (
    ApplicationFilterSet,
    EmployeeFilterSet,
    EnterpriseFilterSet,
    with_stage,
)
from epigrid.enterprises.forms import (
    AddEmployeeForm,
    ApplicationForm,
    EmployeeForm,
    EnterpriseForm,
    NoteForm,
    PermitForm,
    PhaseForm,
    PPEForm,
    ReasonForm,
    TemperatureForm,
    card_form,
)
from epigrid.enterprises.models import PPE_RULE_DAYS, Application, Employee, Enterprise, Phase
from epigrid.enterprises.tables import ApplicationTable, EmployeeTable, EnterpriseTable, stage_badge
from epigrid.people.forms import RevealForm

S = Application.Status
REVEAL = "people.reveal_person"


def _error(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


def _can(user, obj, perm):
    return type(obj).objects.restrict(user, perm=perm).filter(pk=obj.pk).exists()


def _staffed(queryset):
    return queryset.annotate(staff=Count("employees", filter=Q(employees__is_active=True)))


class EnterpriseListView(ObjectListView):
    model = Enterprise
    table_class = EnterpriseTable
    filterset_class = EnterpriseFilterSet
    add_url_name = "enterprises:enterprise_add"
    export_name = "enterprises"
    import_name = "enterprises"
    template_name = "enterprises/enterprise_list.html"

    def get_queryset(self):
        return _staffed(with_stage(super().get_queryset().select_related("area__parent")))

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        table.completeness = daily.completeness([row.record.pk for row in table.page.object_list])
        return table

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        visible = Enterprise.objects.restrict(self.request.user)
        ctx["short_count"] = visible.filter(services.ppe_short_q()).count()
        ctx["pending_count"] = (
            Application.objects.restrict(self.request.user, perm=services.REVIEW)
            .filter(status__in=(S.SUBMITTED, S.CONDITIONAL, S.CHECKED))
            .count()
        )
        return ctx


class EnterpriseEditView(ObjectEditView):
    model = Enterprise
    form_class = EnterpriseForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        if not self.request.user.has_scoped_perm("enterprises.add_enterprise"):
            # An enterprise's contact keeps its details, not what the rules hang on (the phase, the
            # area, the code) nor who else may act for it: those are the community's.
            for name in services.REGISTER_FIELDS:
                form.fields.pop(name, None)
        return form


class EnterpriseDetailView(ObjectDetailView):
    model = Enterprise
    template_name = "enterprises/enterprise_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent", "phase")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        enterprise, user = self.object, self.request.user
        rows = services.roster(enterprise)
        application = services.current_application(enterprise)
        cover = services.ppe_cover(enterprise, staff=len(rows))
        permit = services.latest_permit(enterprise)
        ctx.update(
            {
                "enterprise": enterprise,
                "rows": rows,
                "application": application,
                "permit": permit,
                "stage": stage_badge(application.status if application else None),
                "may_apply": (application is None or not application.is_open)
                and _can(user, enterprise, "enterprises.add_application"),
                "may_add_employee": _can(user, enterprise, services.ADD_EMPLOYEE),
                "may_measure": _can(user, enterprise, "enterprises.add_temperaturereading"),
                "may_ppe": _can(user, enterprise, services.PPE),
                "cover": cover,
                "rule_days": PPE_RULE_DAYS,
                "coverage": services.testing_coverage(enterprise),
                "reporting": daily.completeness([enterprise.pk]).get(enterprise.pk),
                "report_form": daily.daily_form(),
                "may_send_report": (may_send := daily.may_send(user, enterprise)),
                # The history is the reports app's page: open to who follows the area's reports
                # and to who sends the enterprise's (its contact).
                "may_see_reports": may_send or user.has_scoped_perm("reports.view_submission"),
                "today": timezone.localdate().isoformat(),
                "fever_count": sum(1 for r in rows if r["fever"]),
                "carded": sum(1 for r in rows if r["card"]),
                "add_employee_form": AddEmployeeForm(),
                "ppe_form": PPEForm(),
                "application_form": ApplicationForm(initial={"planned_start": timezone.localdate()}),
                "can_reveal": bool(enterprise.contact_phone) and user.has_scoped_perm("people.reveal_person"),
                "reveal_form": RevealForm(),
            }
        )
        return ctx


@login_required
@require_POST
def reveal_contact(request, pk):
    enterprise = get_scoped_or_404(Enterprise, request.user, pk)
    if not request.user.has_scoped_perm("people.reveal_person"):
        raise PermissionDenied
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render(request, "rosters/_revealed.html", {"form": form}, status=200 if request.htmx else 400)
    phone = services.reveal_contact_phone(request.user, enterprise, form.cleaned_data["reason"])
    return render(request, "rosters/_revealed.html", {"phone": phone})


@login_required
def permit_pdf(request, pk):
    """The return-to-work permit (enterprises/pdf.py) for whoever sees the enterprise; each print
    is a row in the audit log on the application, a reveal when the contact's phone is in full."""
    enterprise = get_scoped_or_404(Enterprise, request.user, pk)
    application = services.latest_permit(enterprise)
    if application is None:
        messages.warning(
            request,
            _("%(name)s has no return-to-work permit yet: it is printed once the permit is issued.")
            % {"name": enterprise.name},
        )
        return redirect(enterprise)
    full = bool(enterprise.contact_phone) and may_at(request.user, REVEAL, enterprise.area)
    body = pdf.permit(
        application, request.build_absolute_uri(application.get_absolute_url()), full_phone=full
    )
    log_print(
        application,
        "return_to_work_permit",
        revealed=["contact_phone"] if full else (),
        reason=_("Printed on the return-to-work permit"),
    )
    return pdf_response(body, f"permit-{application.permit_number}.pdf")


@login_required
@require_POST
def add_employee(request, pk):
    enterprise = get_scoped_or_404(Enterprise, request.user, pk)
    form = AddEmployeeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            employee, created = services.add_employee(
                request.user, enterprise, data["doc_type"], data["doc_number"], data["department"]
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            message = _("Added %(name)s to the roster.") if created else _("%(name)s is on the roster.")
            messages.success(request, message % {"name": employee.person.name})
    else:
        messages.error(request, _("Give the employee's document number."))
    return redirect(enterprise.get_absolute_url() + "#roster")


@login_required
@require_POST
def set_ppe(request, pk):
    enterprise = get_scoped_or_404(Enterprise, request.user, pk)
    form = PPEForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.set_ppe(
                request.user, enterprise, data["item"], data["stock"], data["daily_use"], data["unit"]
            )
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(request, _("Stock counted."))
    else:
        messages.error(request, _("Give the item, its stock and the daily use per person."))
    return redirect(enterprise.get_absolute_url() + "#ppe")


@login_required
@require_POST
def start_application(request, pk):
    enterprise = get_scoped_or_404(Enterprise, request.user, pk)
    form = ApplicationForm(request.POST)
    if form.is_valid():
        try:
            application = services.start_application(request.user, enterprise, **form.cleaned_data)
        except ValidationError as exc:
            _error(request, exc)
        else:
            messages.success(
                request, _("Application started; submit it when the roster and plans are ready.")
            )
            return redirect(application.get_absolute_url())
    else:
        messages.error(request, _("Give the planned return date."))
    return redirect(enterprise.get_absolute_url())


class EmployeeListView(ObjectListView):
    model = Employee
    table_class = EmployeeTable
    filterset_class = EmployeeFilterSet
    export_name = "enterprise-staff"
    import_name = "enterprise-staff"

    def get_queryset(self):
        return super().get_queryset().select_related("person", "enterprise")


class EmployeeDetailView(ObjectDetailView):
    model = Employee
    template_name = "enterprises/employee_detail.html"

    def get_queryset(self):
        return (
            super().get_queryset().select_related("enterprise", "person__household__building", "person__area")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        employee, user = self.object, self.request.user
        protocol, questions = services.card_questions()
        card = employee.cards.filter(protocol=protocol).first() if protocol else None
        ctx.update(
            {
                "employee": employee,
                "person": employee.person,
                "protocol": protocol,
                "card": card,
                "card_form": card_form(questions, initial=card.answers if card else None),
                "flags": services.flagged_answers(questions, card.answers) if card else [],
                "older_cards": employee.cards.exclude(pk=card.pk if card else None).select_related(
                    "protocol"
                ),
                "may_fill": bool(questions) and _can(user, employee, services.CARD),
                "may_measure": _can(user, employee, services.MEASURE),
                "temperature_form": TemperatureForm(),
                "temperatures": employee.temperatures.select_related("measured_by")[:30],
            }
        )
        return ctx


class EmployeeEditView(ObjectEditView):
    model = Employee
    form_class = EmployeeForm
    creates = False


@login_required
@require_POST
def fill_card(request, pk):
    employee = get_scoped_or_404(Employee, request.user, pk)
    _protocol, questions = services.card_questions()
    form = card_form(questions, data=request.POST)
    answers = form.data if not form.is_valid() else {k: str(v) for k, v in form.cleaned_data.items()}
    try:
        services.fill_card(request.user, employee, {q["key"]: answers.get(q["key"]) for q in questions})
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Card saved."))
    return redirect(employee.get_absolute_url())


@login_required
@require_POST
def record_temperature(request, pk):
    employee = get_scoped_or_404(Employee, request.user, pk)
    try:
        reading = services.record_temperature(request.user, employee, request.POST.get("temperature", ""))
    except ValidationError as exc:
        _error(request, exc)
    else:
        if reading.fever:
            messages.warning(
                request,
                _("%(name)s: %(t)s °C — fever. Send them to the fever clinic and report to the community.")
                % {"name": employee.person.name, "t": reading.temperature},
            )
        else:
            messages.success(
                request,
                _("%(name)s: %(t)s °C recorded.") % {"name": employee.person.name, "t": reading.temperature},
            )
    if request.POST.get("back") == "gate":
        return redirect("enterprises:gate", pk=employee.enterprise_id)
    return redirect(employee.get_absolute_url())


@login_required
@require_POST
def remove_employee(request, pk):
    employee = get_scoped_or_404(Employee, request.user, pk)
    try:
        services.remove_employee(request.user, employee)
    except ValidationError as exc:
        _error(request, exc)
    return redirect(employee.enterprise.get_absolute_url())


class ApplicationListView(ObjectListView):
    model = Application
    table_class = ApplicationTable
    filterset_class = ApplicationFilterSet
    export_name = "enterprise-applications"

    def get_queryset(self):
        return super().get_queryset().select_related("enterprise")


class ApplicationDetailView(ObjectDetailView):
    model = Application
    template_name = "enterprises/application_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("enterprise__area__parent", "enterprise__phase", "created_by")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        application, user = self.object, self.request.user
        reviewer = _can(user, application, services.REVIEW)
        labels = dict(S.choices)
        ctx.update(
            {
                "application": application,
                "enterprise": application.enterprise,
                "badge": stage_badge(application.status),
                "may_edit": application.status == S.DRAFT and _can(user, application, services.APPLY),
                "may_approve": reviewer and application.status == S.SUBMITTED,
                "may_check": reviewer and application.status == S.CONDITIONAL,
                "may_permit": reviewer and application.status == S.CHECKED,
                "is_latest_permit": application.status == S.PERMITTED
                and services.latest_permit(application.enterprise) == application,
                "may_refuse": reviewer and application.status in (S.SUBMITTED, S.CONDITIONAL, S.CHECKED),
                "check_problems": services.check_problems(application.enterprise)
                if application.status == S.CONDITIONAL
                else [],
                "staff": services.staff_count(application.enterprise),
                "note_form": NoteForm(),
                "reason_form": ReasonForm(),
                "permit_form": PermitForm(),
                "history_rows": [
                    {
                        "time": h.time,
                        "user": h.user_name,
                        "source": labels.get(h.source, h.source),
                        "target": labels.get(h.target, h.target),
                        "note": h.note,
                    }
                    for h in history(application).order_by("time", "pk")
                ],
            }
        )
        return ctx


class ApplicationEditView(ObjectEditView):
    """A draft's plans, date and commitment (a submitted application is the reviewers')."""

    model = Application
    form_class = ApplicationForm
    creates = False

    def get_object(self, queryset=None):
        application = super().get_object(queryset)
        if application.status != S.DRAFT:
            raise PermissionDenied(_("Only a draft can be edited; this application has been submitted."))
        return application


class ApplicationMove(TransitionView):
    """A step of a return-to-work application from its page (decision 0039); the service checks
    who may take it where the enterprise lies and says why it refuses."""

    model = Application
    success_message = ""

    def get_success_message(self, moved):
        return self.success_message


class SubmitView(ApplicationMove):
    success_message = gettext_lazy("Submitted for review.")

    def move(self, application, data):
        services.submit(self.request.user, application)


class ApproveView(ApplicationMove):
    success_message = gettext_lazy("Conditionally approved.")

    def move(self, application, data):
        services.approve(self.request.user, application, self.request.POST.get("note", ""))


class PassCheckView(ApplicationMove):
    success_message = gettext_lazy("On-site check passed.")

    def move(self, application, data):
        services.pass_check(self.request.user, application, self.request.POST.get("note", ""))


class IssuePermitView(ApplicationMove):
    success_message = gettext_lazy("Permit issued.")

    def move(self, application, data):
        form = PermitForm(self.request.POST)
        day = form.cleaned_data.get("permitted_from") if form.is_valid() else None
        services.issue_permit(self.request.user, application, day)


class RefuseView(ApplicationMove):
    success_message = gettext_lazy("Refused.")

    def move(self, application, data):
        services.refuse(self.request.user, application, self.request.POST.get("reason", ""))


@login_required
def mine(request):
    """The enterprise contact's phone page: each of their enterprises as a card with its stage,
    today's temperatures taken, fevers and PPE below the rule, and big buttons."""
    if not request.user.has_scoped_perm("enterprises.view_enterprise"):
        raise PermissionDenied
    enterprises = list(
        _staffed(with_stage(Enterprise.objects.restrict(request.user)))
        .filter(contacts=request.user)
        .order_by("name")
    )
    cards = []
    for enterprise in enterprises:
        rows = services.roster(enterprise)
        cards.append(
            {
                "enterprise": enterprise,
                "stage": stage_badge(enterprise.stage),
                "staff": len(rows),
                "measured": sum(1 for r in rows if r["temperatures"]),
                "fevers": sum(1 for r in rows if r["fever"]),
                "short": [c for c in services.ppe_cover(enterprise, staff=len(rows)) if c["short"]],
                "carded": sum(1 for r in rows if r["card"]),
                "may_send_report": daily.may_send(request.user, enterprise),
                "permit": services.latest_permit(enterprise),
            }
        )
    form = daily.daily_form()
    return render(
        request,
        "enterprises/mine.html",
        {"cards": cards, "report_form": form, "today": timezone.localdate().isoformat()},
    )


@login_required
def gate(request, pk):
    """The gate's phone page: the roster as cards, a temperature field and a 44 px button each;
    the reading is recorded as measured by the logged-in user."""
    enterprise = get_scoped_or_404(Enterprise, request.user, pk)
    if not _can(request.user, enterprise, "enterprises.add_temperaturereading"):
        raise PermissionDenied
    q = request.GET.get("q", "").strip()
    rows = services.roster(enterprise)
    if q:
        rows = [r for r in rows if r["name"].startswith(q)]
    return render(request, "enterprises/gate.html", {"enterprise": enterprise, "rows": rows, "q": q})


@login_required
def phases(request):
    """The phases of the return (class → earliest date): everyone who sees enterprises reads them;
    the command centre keeps them."""
    if not request.user.has_scoped_perm("enterprises.view_enterprise"):
        raise PermissionDenied
    may_edit = request.user.has_scoped_perm("enterprises.change_phase")
    phase = None
    if request.GET.get("edit"):
        phase = get_object_or_404(Phase, pk=request.GET["edit"]) if request.GET["edit"].isdigit() else None
    form = PhaseForm(request.POST or None, instance=phase)
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied
        if form.is_valid():
            form.save()
            messages.success(request, _("Saved %(object)s.") % {"object": form.instance})
            return redirect("enterprises:phases")
    return render(
        request,
        "enterprises/phases.html",
        {"phases": Phase.objects.annotate(n=Count("enterprises")), "form": form, "may_edit": may_edit},
    )

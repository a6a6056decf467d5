"""Assistance pages (/assistance/): requests with their deadline clock and progress, a request's
persons with the answers (phone first: one card a person, big buttons), the persons list a grid
worker works through, a request form with rows typed by hand, and a row's assignment.

Every write goes through assistance.services; a refusal comes back as a message on the page. Reads
go through `restrict`: out of scope → 404, in scope without the right → 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.assistance import services
from epigrid.assistance.filtersets import AssistPersonFilterSet, AssistRequestFilterSet
from epigrid.assistance.forms import AnswerForm, AssignForm, PersonRowForm, PersonRowFormSet, RequestForm
from epigrid.assistance.models import AssistPerson, AssistRequest
from epigrid.assistance.tables import AssistPersonTable, AssistRequestTable, deadline_clock, result_badge
from epigrid.control import plans
from epigrid.control.services import active_protocol
from epigrid.core.scoping import may
from epigrid.core.views import ObjectDetailView, ObjectEditView, ObjectListView, TransitionView, safe_next

EXPORT = "assist-reply"
LEDGER = "assist-persons"


def _error(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


def _not_traced(protocol, category):
    return protocol is not None and not plans.is_traced(protocol.rules, category)


def _protocol():
    try:
        return active_protocol()
    except ValidationError:
        return None


def _answerable(user, rows):
    """Mark each row with what the page offers: the answer buttons where the user may answer."""
    may = set(
        AssistPerson.objects.restrict(user, perm=services.ANSWER)
        .filter(pk__in=[r.pk for r in rows])
        .values_list("pk", flat=True)
    )
    protocol = _protocol()
    for row in rows:
        row.may_answer = row.pk in may and row.status == AssistPerson.Status.PENDING
        row.badge = result_badge(row)
        row.not_traced_note = (
            services.not_traced_message(protocol, row)
            if row.status == AssistPerson.Status.PENDING and _not_traced(protocol, row.category)
            else ""
        )
    return rows


# Requests


class RequestListView(ObjectListView):
    model = AssistRequest
    table_class = AssistRequestTable
    filterset_class = AssistRequestFilterSet
    add_url_name = "assistance:assistrequest_add"
    template_name = "assistance/assistrequest_list.html"

    def get_queryset(self):
        return services.with_progress(super().get_queryset().select_related("area"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["overdue"] = services.overdue_requests(self.request.user).count()
        return ctx


class RequestDetailView(ObjectDetailView):
    model = AssistRequest
    template_name = "assistance/assistrequest_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area", "created_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        request, user = self.object, self.request.user
        rows = list(
            AssistPerson.objects.restrict(user)
            .filter(request=request)
            .select_related("area__parent", "answered_by", "key_person")
            .order_by("number", "id")
        )
        ctx.update(
            {
                "rows": _answerable(user, rows),
                "progress": services.progress(request, user),
                "clock": deadline_clock(request),
                "may_add_persons": may(user, request, perm=services.ADD_PERSON),
                "may_change_request": may(user, request, perm=services.CHANGE_REQUEST),
                "row_form": PersonRowForm(),
                "export_name": EXPORT,
                "ledger": LEDGER,
                "can_reveal": user.has_scoped_perm("people.reveal_person"),
            }
        )
        return ctx


class RequestEditView(ObjectEditView):
    """Add (with rows typed by hand) or edit a request, through the services."""

    model = AssistRequest
    form_class = RequestForm
    template_name = "assistance/assistrequest_edit.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        if self.object is None:
            ctx.setdefault("rows", PersonRowFormSet(self.request.POST or None, prefix="rows"))
        return ctx

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        perm = services.CHANGE_REQUEST if self.object else services.RECEIVE
        form.fields["area"].queryset = form.fields["area"].queryset.model.objects.restrict(
            self.request.user, perm=perm
        )
        return form

    def form_valid(self, form):
        user, data = self.request.user, form.cleaned_data
        fields = {name: data[name] for name in form.Meta.fields}
        try:
            if self.object is None:
                rows = PersonRowFormSet(self.request.POST, prefix="rows")
                if not rows.is_valid():
                    return self.render_to_response(self.get_context_data(form=form, rows=rows))
                self.object = services.receive(user, persons=rows.rows(), **fields)
            else:
                self.object = services.update_request(
                    user, AssistRequest.objects.get(pk=self.object.pk), **fields
                )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", None) or [str(exc)]))
            return self.form_invalid(form)
        messages.success(self.request, _("Saved %(object)s.") % {"object": self.object})
        return redirect(self.object.get_absolute_url())


@login_required
@require_POST
def add_person(request, pk):
    assist = get_object_or_404(AssistRequest.objects.restrict(request.user, "view"), pk=pk)
    if not may(request.user, assist, perm=services.ADD_PERSON):
        raise PermissionDenied
    form = PersonRowForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)
        return redirect(assist.get_absolute_url())
    try:
        created, _unchanged = services.add_persons(request.user, assist, [form.cleaned_data])
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    else:
        if created:
            messages.success(request, _("Added %(name)s.") % {"name": created[0].name})
        else:
            messages.warning(request, _("This document is on the list already."))
    return redirect(assist.get_absolute_url())


# Persons


class PersonListView(ObjectListView):
    model = AssistPerson
    table_class = AssistPersonTable
    filterset_class = AssistPersonFilterSet
    export_name = EXPORT

    def get_queryset(self):
        return super().get_queryset().select_related("request", "area__parent")


class PersonDetailView(ObjectDetailView):
    model = AssistPerson
    template_name = "assistance/assistperson_detail.html"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("request", "area__parent", "answered_by", "person", "key_person")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        row, user = self.object, self.request.user
        _answerable(user, [row])
        ctx["row"] = row
        ctx["clock"] = deadline_clock(row.request)
        ctx["may_see_request"] = may(user, row.request, perm="assistance.view_assistrequest")
        ctx["may_see_person"] = row.person_id is not None and user.has_scoped_perm("people.view_person")
        ctx["may_see_entry"] = row.key_person_id is not None and user.has_scoped_perm(
            "control.view_keyperson"
        )
        return ctx


class PersonAssignView(ObjectEditView):
    """Send a pending row to the community or grid where the person is believed to be."""

    model = AssistPerson
    form_class = AssignForm
    creates = False

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["area"].queryset = (
            form.fields["area"]
            .queryset.model.objects.restrict(self.request.user, perm=services.ANSWER)
            .filter(path__startswith=self.object.request.area.path)
        )
        return form

    def form_valid(self, form):
        try:
            self.object = services.assign(
                self.request.user, AssistPerson.objects.get(pk=self.object.pk), form.cleaned_data["area"]
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, " ".join(getattr(exc, "messages", None) or [str(exc)]))
            return self.form_invalid(form)
        messages.success(
            self.request,
            _("%(name)s: assigned to %(area)s.") % {"name": self.object.name, "area": self.object.area.name},
        )
        return redirect(self.object.get_absolute_url())


class AnswerView(TransitionView):
    """Found (into the key-person ledger) or not here, from the row's page or a list (back=URL)."""

    model = AssistPerson
    related = ("request",)
    object_permission = services.ANSWER
    form_class = AnswerForm

    def form_invalid(self, form):
        raise Http404

    def move(self, row, data):
        if data["answer"] == AssistPerson.Status.FOUND:
            return services.answer_found(self.request.user, row, note=data["note"])
        return services.answer_not_here(self.request.user, row, data["answer"], data["note"])

    def get_success_message(self, row):
        return _("%(name)s: %(answer)s.") % {"name": row.name, "answer": row.get_status_display()}

    def get_redirect_url(self, row):
        return safe_next(self.request, row.get_absolute_url(), field="back")

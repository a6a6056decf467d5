"""Resident services pages (/homeservices/): the open requests board for officers, a request's page
with its moves, the new-request form (a second open request of a kind is a warning offering to add
to it), the volunteer's phone page, the special-groups register and the day's proactive checks.

Every write goes through homeservices.services; a refusal comes back as a message on the page.
Reads go through `restrict`: out of scope → 404, in scope without the right → 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST

from epigrid.audit.services import history
from epigrid.core.identity import mask_phone
from epigrid.core.scoping import may_at
from epigrid.core.views import (
    ObjectDetailView,
    ObjectListView,
    TransitionView,
    get_scoped_or_404,
    refusal_text,
)
from epigrid.homeservices import services
from epigrid.homeservices.filtersets import (
    ProactiveCheckFilterSet,
    ServiceRequestFilterSet,
    SpecialCareFilterSet,
)
from epigrid.homeservices.forms import (
    AssignForm,
    CareForm,
    CheckForm,
    ConfirmForm,
    DoneForm,
    ReasonForm,
    RequestForm,
)
from epigrid.homeservices.models import ConfirmedHow, ProactiveCheck, ServiceRequest, SpecialCare
from epigrid.homeservices.tables import (
    ProactiveCheckTable,
    ServiceRequestTable,
    SpecialCareTable,
    deadline_badge,
    household_label,
    person_name,
    status_badge,
    urgency_badge,
)

S = ServiceRequest.Status
BOARD_COUNT_CAP = 1000
RELATED = ("household__area__parent", "household__building", "assignee", "person")


def _annotate(rows, now=None):
    now = now or timezone.now()
    for row in rows:
        row.badge = status_badge(row)
        row.deadline = deadline_badge(row, now)
        row.urgency_badge = urgency_badge(row)
        row.place = household_label(row.household)
    return rows


class BoardView(ObjectListView):
    """The open requests board: open ones by default, nearest deadline first."""

    model = ServiceRequest
    table_class = ServiceRequestTable
    filterset_class = ServiceRequestFilterSet
    add_url_name = "homeservices:request_add"
    export_name = "service-requests"
    template_name = "homeservices/board.html"

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if not self.request.GET:
            kwargs["data"] = QueryDict("open=true")
        return kwargs

    def get_queryset(self):
        return super().get_queryset().select_related(*RELATED)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        # Capped like the list's own count (core.paginators): a city's 50,000 open requests are
        # not counted on every load; up to BOARD_COUNT_CAP + 1 rows each, read along the indexes.
        visible = ServiceRequest.objects.restrict(self.request.user)
        for name, rows in (
            ("overdue", visible.filter(services.overdue_q())),
            ("unassigned", visible.filter(status=S.NEW)),
        ):
            found = rows.order_by()[: BOARD_COUNT_CAP + 1].count()
            ctx[f"{name}_count"], ctx[f"{name}_capped"] = min(found, BOARD_COUNT_CAP), found > BOARD_COUNT_CAP
        return ctx


class RequestDetailView(ObjectDetailView):
    model = ServiceRequest
    template_name = "homeservices/request_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related(*RELATED, "requested_by", "confirmed_by", "zone")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        req, user = self.object, self.request.user
        _annotate([req])
        is_assignee = req.assignee_id == user.pk and services.may_work(user, req.area)
        may_work = services.may_work(user, req.area)
        labels = dict(S.choices)
        ctx.update(
            {
                "req": req,
                "phone": mask_phone(req.person.phone) if req.person.phone else "",
                "additions": list(req.added.select_related("added_by", "request").order_by("added_at", "pk")),
                "history_rows": [
                    {
                        "time": h.time,
                        "user": h.user_name,
                        "target": labels.get(h.target, h.target),
                        "note": h.note,
                    }
                    for h in history(req).order_by("time", "pk")
                ],
                "may_assign": req.is_open and services.may_assign(user, req),
                "may_do": is_assignee and req.status in (S.ASSIGNED, S.IN_PROGRESS),
                "may_confirm": req.status == S.DONE and may_work,
                "confirm_choices": [(ConfirmedHow.IN_PERSON.value, ConfirmedHow.IN_PERSON.label)]
                if is_assignee
                else ConfirmedHow.choices,
                "may_cancel": req.is_open
                and (services.may_assign(user, req) or user.pk == req.requested_by_id),
                "assign_form": AssignForm(area=req.area, initial={"assignee": req.assignee_id}),
                "done_form": DoneForm(),
                "reason_form": ReasonForm(),
                "assignee_name": person_name(req.assignee),
            }
        )
        return ctx


class RequestCreateView(LoginRequiredMixin, View):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_scoped_perm(services.ADD):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        initial = {k: request.GET[k] for k in ("household", "person", "kind") if request.GET.get(k)}
        return self._render(RequestForm(initial=initial, user=request.user))

    def post(self, request):
        form = RequestForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = services.submit(
                    request.user,
                    household=data["household"],
                    person=data["person"],
                    kind=data["kind"],
                    urgency=data["urgency"],
                    details=form.details(),
                    description=data["description"],
                    source=data["source"],
                    client_id=data["client_id"],
                    prescription_photo=data["prescription_photo"],
                    add_to_open=data["add_to_open"],
                )
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, refusal_text(exc))
            else:
                if result.outcome == "open_exists":
                    # The warning: the same form again, offering to add these details to the open one.
                    return self._render(form, open_request=_annotate([result.request])[0])
                done = {
                    "created": _("Request %(req)s recorded."),
                    "added": _("Added to the open request %(req)s."),
                    "repeat": _("Request %(req)s was recorded already."),
                }[result.outcome]
                messages.success(request, done % {"req": result.request})
                return redirect(result.request.get_absolute_url())
        return self._render(form)

    def _render(self, form, open_request=None):
        return render(
            self.request,
            "homeservices/request_form.html",
            {"form": form, "open_request": open_request, "title": _("New service request")},
        )


class RequestEditView(LoginRequiredMixin, View):
    """Assign (or hand to someone else): the request's edit page."""

    def _req(self, request, pk):
        req = get_scoped_or_404(ServiceRequest, request.user, pk)
        if not services.may_assign(request.user, req):
            raise PermissionDenied
        return req

    def get(self, request, pk):
        req = self._req(request, pk)
        return self._render(req, AssignForm(area=req.area, initial={"assignee": req.assignee_id}))

    def post(self, request, pk):
        req = self._req(request, pk)
        form = AssignForm(request.POST, area=req.area)
        if form.is_valid():
            try:
                req = services.assign(request.user, req, form.cleaned_data["assignee"])
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, refusal_text(exc))
            else:
                messages.success(request, _("Saved %(object)s.") % {"object": req})
                return redirect(req.get_absolute_url())
        return self._render(req, form)

    def _render(self, req, form):
        return render(
            self.request, "homeservices/assign.html", {"form": form, "req": req, "title": _("Assign")}
        )


class RequestMove(TransitionView):
    """A move of a request from its page or the phone page (next=mine)."""

    model = ServiceRequest
    permission = services.WORK
    context_object_name = "req"
    next_urls = {"mine": "homeservices:mine"}


class StartView(RequestMove):
    success_message = gettext_lazy("%(req)s: in progress.")

    def move(self, req, data):
        return services.start(self.request.user, req)


class DoneView(RequestMove):
    form_class = DoneForm
    success_message = gettext_lazy("%(req)s: done, awaiting the resident's confirmation.")

    def move(self, req, data):
        return services.complete(self.request.user, req, data["note"], data["photo"])


class ConfirmView(RequestMove):
    form_class = ConfirmForm
    success_message = gettext_lazy("%(req)s: confirmed by the resident.")

    def move(self, req, data):
        return services.confirm(self.request.user, req, data["how"], data["note"])


class ReopenView(RequestMove):
    form_class = ReasonForm
    success_message = gettext_lazy("%(req)s: back to work.")

    def move(self, req, data):
        return services.reopen(self.request.user, req, data["reason"])


class CancelView(RequestMove):
    permission = services.VIEW  # the requester may cancel too; the service says who may
    form_class = ReasonForm
    success_message = gettext_lazy("%(req)s: cancelled.")

    def move(self, req, data):
        return services.cancel(self.request.user, req, data["reason"])


@login_required
def mine(request):
    """The volunteer's phone page: their open requests as cards, nearest deadline first."""
    if not request.user.has_scoped_perm(services.WORK):
        raise PermissionDenied
    visible = (
        ServiceRequest.objects.restrict(request.user).filter(assignee=request.user).select_related(*RELATED)
    )
    rows = _annotate(list(visible.filter(status__in=(*ServiceRequest.OPEN, S.DONE)).order_by("due_at", "pk")))
    for row in rows:
        row.phone = mask_phone(row.person.phone) if row.person.phone else ""
    closed = _annotate(list(visible.filter(status=S.CONFIRMED).order_by("-confirmed_at")[:10]))
    return render(
        request,
        "homeservices/mine.html",
        {"rows": rows, "closed": closed, "done_form": DoneForm(), "in_person": ConfirmedHow.IN_PERSON},
    )


class PhotoView(LoginRequiredMixin, View):
    """A prescription or evidence photo, to whoever sees the request: never a public media URL."""

    def get(self, request, pk, which):
        if which not in ("prescription", "done"):
            raise Http404
        req = get_object_or_404(ServiceRequest.objects.restrict(request.user), pk=pk)
        image = req.prescription_photo if which == "prescription" else req.done_photo
        if not image:
            raise Http404
        content_type = "image/png" if image.name.endswith(".png") else "image/jpeg"
        try:
            response = FileResponse(image.open("rb"), content_type=content_type)
        except FileNotFoundError:
            raise Http404 from None
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


# -- special groups ---------------------------------------------------------------------------------


class CareListView(ObjectListView):
    model = SpecialCare
    table_class = SpecialCareTable
    filterset_class = SpecialCareFilterSet
    add_url_name = "homeservices:specialcare_add"
    export_name = "special-groups"
    import_name = "special-groups"
    template_name = "homeservices/care_list.html"

    def get_queryset(self):
        return (
            super().get_queryset().select_related("person", "household__area__parent", "household__building")
        )

    def get_context_data(self, **kwargs):
        from epigrid.people.models import Person

        ctx = super().get_context_data(**kwargs)
        persons = Person.objects.restrict(self.request.user, "view")
        ctx["tagged"] = (
            list(services.tagged_unregistered(persons).select_related("household__building")[:20])
            if self.can("add")
            else []
        )
        return ctx


class CareDetailView(ObjectDetailView):
    model = SpecialCare
    template_name = "homeservices/care_detail.html"

    def get_queryset(self):
        return (
            super().get_queryset().select_related("person", "household__area__parent", "household__building")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        care = self.object
        ctx["care"] = care
        ctx["checks"] = list(care.checks.order_by("-day", "kind")[:14])
        ctx["requests"] = _annotate(
            list(
                ServiceRequest.objects.restrict(self.request.user)
                .filter(person=care.person)
                .select_related(*RELATED)
                .order_by("-requested_at")[:10]
            )
        )
        return ctx


class CareEditView(LoginRequiredMixin, View):
    def _care(self, request, pk):
        if pk is None:
            if not request.user.has_scoped_perm("homeservices.add_specialcare"):
                raise PermissionDenied
            return None
        care = get_scoped_or_404(SpecialCare, request.user, pk)
        if not SpecialCare.objects.restrict(request.user, "change").filter(pk=care.pk).exists():
            raise PermissionDenied
        return care

    def get(self, request, pk=None):
        care = self._care(request, pk)
        initial = (
            {"person": request.GET.get("person"), "group": request.GET.get("group")} if care is None else {}
        )
        return self._render(care, CareForm(instance=care, initial=initial, user=request.user))

    def post(self, request, pk=None):
        care = self._care(request, pk)
        form = CareForm(request.POST, instance=care, user=request.user)
        if form.is_valid():
            data = dict(form.cleaned_data)
            person, group = data.pop("person"), data.pop("group")
            try:
                care = services.register_care(request.user, person, group, **data)
            except (ValidationError, PermissionDenied) as exc:
                form.add_error(None, refusal_text(exc))
            else:
                messages.success(request, _("Saved %(object)s.") % {"object": care})
                return redirect(care.get_absolute_url())
        return self._render(care, form)

    def _render(self, care, form):
        title = _("Special group entry") if care else _("Register a person of a special group")
        return render(
            self.request, "homeservices/care_form.html", {"form": form, "care": care, "title": title}
        )


class CheckListView(ObjectListView):
    model = ProactiveCheck
    table_class = ProactiveCheckTable
    filterset_class = ProactiveCheckFilterSet
    template_name = "homeservices/check_list.html"

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if not self.request.GET:
            kwargs["data"] = QueryDict(f"day={timezone.localdate().isoformat()}")
        return kwargs

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("care__person", "care__household__area__parent", "care__household__building")
        )


@login_required
@require_POST
def record_check(request, pk):
    check = get_object_or_404(ProactiveCheck.objects.restrict(request.user), pk=pk)
    if not may_at(request.user, services.CHECK, check.area):
        raise PermissionDenied
    form = CheckForm(request.POST)
    if form.is_valid():
        try:
            services.record_check(
                request.user, check, form.cleaned_data["outcome"], form.cleaned_data["note"]
            )
        except ValidationError as exc:
            messages.error(request, refusal_text(exc))
        else:
            messages.success(request, _("Recorded."))
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/homeservices/") else "homeservices:check_list")

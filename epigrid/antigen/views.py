"""Pages of antigen self-tests: rounds, the completion drill-down, the phone pages of the door-to-
door work (kits for a whole building in one save, a household's results with "all negative" as one
tap), distributions, reports (with their photo, served only here), and nucleic-acid follow-ups.

Reads go through `restrict`; writes through `antigen.services`. Open follow-ups head the round
list and the round page of whoever may see them: that is where a grid worker's antigen work starts."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, prefetch_related_objects
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views import View

from epigrid.antigen import services
from epigrid.antigen.filtersets import (
    AntigenFollowUpFilterSet,
    AntigenReportFilterSet,
    AntigenRoundFilterSet,
    KitDistributionFilterSet,
)
from epigrid.antigen.forms import (
    AntigenFollowUpForm,
    AntigenReportForm,
    AntigenRoundForm,
    FollowUpMoveForm,
    KitDistributionForm,
    QuickReportForm,
)
from epigrid.antigen.models import AntigenFollowUp, AntigenReport, AntigenRound, KitDistribution, Result
from epigrid.antigen.tables import (
    AntigenFollowUpTable,
    AntigenReportTable,
    AntigenRoundTable,
    KitDistributionTable,
)
from epigrid.areas.models import Area, Building, Household, Level
from epigrid.core.scoping import ScopeViolation, may, within
from epigrid.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    TransitionView,
    get_scoped_or_404,
    safe_next,
)
from epigrid.people.models import Person

REPORT_PERM = "antigen.view_antigenreport"
BANNER_ROWS = 20


def open_follow_ups(user):
    """The follow-ups still to arrange that `user` sees, soonest due first (the banner's rows)."""
    if not user.has_scoped_perm("antigen.view_antigenfollowup"):
        return AntigenFollowUp.objects.none()
    return (
        AntigenFollowUp.objects.restrict(user, "view")
        .filter(status__in=AntigenFollowUp.ACTIVE)
        .select_related("person", "area__parent", "report__household__building", "report__round")
        .order_by("due_by", "id")
    )


def _banner(user):
    rows = list(open_follow_ups(user)[: BANNER_ROWS + 1])
    return {"follow_ups": rows[:BANNER_ROWS], "follow_ups_more": len(rows) > BANNER_ROWS}


def round_for(user, pk, perm=REPORT_PERM):
    if not user.has_scoped_perm(perm):
        raise PermissionDenied
    rnd = get_scoped_or_404(AntigenRound, user, pk)
    # Its covered areas once: pages test every grid and household against them (rnd.covers).
    prefetch_related_objects([rnd], "areas")
    return rnd


def resolve_node(user, rnd, code=None, perm=REPORT_PERM):
    """The area a page shows: the one asked for, or the round's area as far as the user's scope
    reaches (a grid worker lands on their grid). 404 outside the user's scope or the round."""
    paths = user.scope_paths(perm)
    covered = list(rnd.areas.all())
    if code:
        node = Area.objects.filter(code=code).first()
        if node is None or not within(node.path, paths):
            raise Http404
        if not any(node.path.startswith(a.path) or a.path.startswith(node.path) for a in covered):
            raise Http404
        return node
    default = covered[0] if len(covered) == 1 else rnd.area
    if within(default.path, paths):
        return default
    for area in Area.objects.filter(path__in=paths or []).order_by("path"):
        if any(area.path.startswith(a.path) for a in covered):
            return area
    raise Http404


def resolve_building(grid, building_id):
    if not building_id:
        return None
    if grid.level != Level.GRID or not str(building_id).isdigit():
        raise Http404
    return get_object_or_404(Building, pk=building_id, area=grid)


def breadcrumb(user, rnd, node, perm=REPORT_PERM):
    paths = user.scope_paths(perm)
    covered = [a.path for a in rnd.areas.all()]
    return [
        area
        for area in [*node.ancestors(), node]
        if within(area.path, paths)
        and any(area.path.startswith(p) or p.startswith(area.path) for p in covered)
    ]


# -- rounds --------------------------------------------------------------------------------------


class AntigenRoundListView(ObjectListView):
    model = AntigenRound
    table_class = AntigenRoundTable
    filterset_class = AntigenRoundFilterSet
    add_url_name = "antigen:antigenround_add"
    template_name = "antigen/antigenround_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_banner(self.request.user)}


class AntigenRoundDetailView(ObjectDetailView):
    model = AntigenRound
    template_name = "antigen/antigenround_detail.html"

    def get_object(self, queryset=None):
        return get_scoped_or_404(AntigenRound, self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user, rnd = self.request.user, self.object
        ctx.update(_banner(user))
        ctx["covered"] = list(rnd.areas.all())
        ctx["may_report"] = user.has_scoped_perm(REPORT_PERM)
        ctx["may_hand_out"] = user.has_scoped_perm("antigen.add_kitdistribution")
        if ctx["may_report"]:
            try:
                node = resolve_node(user, rnd)
            except Http404:
                node = None
            ctx["node"] = node
            if node is not None:
                ctx["head"], _rows = services.completion(rnd, node)
        return ctx


class AntigenRoundEditView(ObjectEditView):
    model = AntigenRound
    form_class = AntigenRoundForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}


# -- completion drill-down -----------------------------------------------------------------------


class CompletionView(LoginRequiredMixin, View):
    """GET /antigen/<round>/completion/?area=CODE[&building=ID]: kits handed out against persons
    reported, positives and invalids, district → … → grid → building → household."""

    def get(self, request, pk):
        rnd = round_for(request.user, pk)
        node = resolve_node(request.user, rnd, request.GET.get("area"))
        building = resolve_building(node, request.GET.get("building"))
        ctx = {
            "round": rnd,
            "node": node,
            "building": building,
            "trail": breadcrumb(request.user, rnd, node),
            **_banner(request.user),
            **self.figures(request, rnd, node, building),
        }
        return TemplateResponse(request, "antigen/completion.html", ctx)

    def figures(self, request, rnd, node, building):
        if node.level < Level.GRID:
            head, rows = services.completion(rnd, node)
            for row in rows:
                row["label"], row["url"] = row["name"], f"?{urlencode({'area': row['code']})}"
            return {"head": head, "rows": rows, "child_label": Level(node.level + 1).label}
        base = {"area": node.code}
        if building is None:
            head, _children = services.completion(rnd, node)
            rows = services.building_completion(rnd, node)
            names = dict(Building.objects.filter(pk__in=[r["key"] for r in rows]).values_list("pk", "name"))
            for row in rows:
                row["label"] = names.get(row["key"], "—")
                row["url"] = f"?{urlencode({**base, 'building': row['key']})}"
                row["hand_out_url"] = _hand_out_url(rnd, node, row["key"])
            rows.sort(key=lambda r: r["label"])
            return {
                "head": head,
                "rows": rows,
                "child_label": _("Building"),
                "hand_out_url": _hand_out_url(rnd, node),
            }
        rows = services.building_completion(rnd, node, building)
        head = services.figures({k: sum(r[k] for r in rows) for k in services.FIGURES})
        households = {
            h.pk: h
            for h in Household.objects.filter(pk__in=[r["key"] for r in rows]).select_related("building")
        }
        for row in rows:
            household = households.get(row["key"])
            row["label"] = household.address if household else "—"
            row["url"] = reverse("antigen:household", args=[rnd.pk, household.pk]) if household else None
            row["sort"] = (household.unit, household.room) if household else ("", "")
        rows.sort(key=lambda r: r["sort"])
        return {
            "head": head,
            "rows": rows,
            "child_label": _("Household"),
            "hand_out_url": _hand_out_url(rnd, node, building.pk),
        }


def _hand_out_url(rnd, grid, building_id=None):
    query = {"area": grid.code, **({"building": building_id} if building_id else {})}
    return f"{reverse('antigen:hand_out', args=[rnd.pk])}?{urlencode(query)}"


# -- the phone pages: kits for a building, results for a household ---------------------------------


class HandOutView(LoginRequiredMixin, View):
    """GET/POST /antigen/<round>/hand-out/?area=GRID&building=ID: every household of a building
    with a number field; one save records the whole building (services.hand_out_many). Without a
    building: the grid's buildings to choose from; above a grid: the grids."""

    perm = "antigen.add_kitdistribution"

    def place(self, request, pk):
        rnd = round_for(request.user, pk, self.perm)
        node = resolve_node(request.user, rnd, request.GET.get("area"), self.perm)
        return rnd, node, resolve_building(node, request.GET.get("building"))

    def get(self, request, pk, errors=None, status=200):
        rnd, node, building = self.place(request, pk)
        ctx = {
            "round": rnd,
            "node": node,
            "building": building,
            "trail": breadcrumb(request.user, rnd, node, self.perm),
        }
        if node.level < Level.GRID:
            paths = request.user.scope_paths(self.perm)
            grids = [
                g
                for g in Area.objects.filter(path__startswith=node.path, level=Level.GRID)
                .select_related("parent")
                .order_by("path")
                if within(g.path, paths) and rnd.covers(g.path)
            ]
            ctx["grids"] = grids[:500]
        elif building is None:
            ctx["buildings"] = self.buildings(rnd, node)
        else:
            typed = request.POST if request.method == "POST" else {}
            ctx["households"] = self.households(rnd, building, errors or {}, typed)
            ctx["errors"] = errors
        return TemplateResponse(request, "antigen/hand_out.html", ctx, status=status)

    def buildings(self, rnd, grid):
        reached = dict(
            KitDistribution.objects.filter(round=rnd, area=grid, kits__gt=0)
            .values_list("household__building_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        rows = Building.objects.filter(area=grid).annotate(n=Count("households")).order_by("name_key", "name")
        return [{"building": b, "households": b.n, "reached": reached.get(b.pk, 0)} for b in rows]

    def households(self, rnd, building, errors, typed):
        households = list(
            Household.objects.filter(building=building)
            .select_related("building")
            .annotate(member_count=Count("members", filter=Q(members__merged_into__isnull=True)))
            .order_by("unit", "room")
        )
        given = dict(
            KitDistribution.objects.filter(round=rnd, household__in=households).values_list(
                "household_id", "kits"
            )
        )
        return [
            {
                "household": h,
                "kits": given.get(h.pk),
                # A refused save shows every number as typed: nothing the worker entered is lost.
                "value": typed.get(f"kits-{h.pk}", given.get(h.pk, "")) if typed else given.get(h.pk, ""),
                "suggested": rnd.suggested_kits(h.member_count),
                "error": errors.get(h.pk),
                "sheet_url": reverse("antigen:household", args=[rnd.pk, h.pk]),
            }
            for h in households
        ]

    def post(self, request, pk):
        rnd, node, building = self.place(request, pk)
        if building is None:
            raise Http404
        households = {
            h.pk: h
            for h in Household.objects.restrict(request.user, "view")
            .filter(building=building)
            .select_related("area")
        }
        counts, errors = {}, {}
        for key, value in request.POST.items():
            if not key.startswith("kits-") or not value.strip():
                continue  # an empty field means "not handed out (yet)": nothing to record
            pk_text = key.removeprefix("kits-")
            household = households.get(int(pk_text)) if pk_text.isdigit() else None
            if household is None:
                raise Http404
            text = value.strip()
            if not text.isdigit():
                errors[household.pk] = _("Enter a whole number of kits.")
                continue
            try:
                counts[household] = services.check_kits(int(text))
            except ValidationError as exc:
                errors[household.pk] = exc.messages[0]
        if errors:
            # Nothing is saved while one field is wrong: the page keeps every number typed.
            return self.get(request, pk, errors=errors, status=400)
        try:
            outcome = services.hand_out_many(request.user, rnd, counts)
        except (ValidationError, ScopeViolation) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            return redirect(request.get_full_path())
        messages.success(
            request,
            _("Saved %(building)s: %(created)d new, %(updated)d corrected, %(unchanged)d unchanged.")
            % {"building": building.name, **outcome},
        )
        return redirect(request.get_full_path())


class HouseholdSheetView(LoginRequiredMixin, View):
    """GET/POST /antigen/<round>/households/<id>/: the household's members with their result and
    one-tap buttons (阴性 / 阳性 / 无效, optional photo), and "all negative" for the members not
    reported yet."""

    def objects(self, request, pk, household_pk):
        rnd = round_for(request.user, pk)
        household = get_scoped_or_404(Household, request.user, household_pk)
        if not rnd.covers(household.area.path):
            raise Http404
        return rnd, household

    def get(self, request, pk, household, error=None, status=200):
        rnd, household = self.objects(request, pk, household)
        members = list(
            Person.objects.filter(household=household, merged_into__isnull=True).order_by("name_key", "id")
        )
        reports = {
            r.person_id: r
            for r in AntigenReport.objects.filter(round=rnd, person__in=members).select_related("follow_up")
        }
        for person in members:
            person.antigen = reports.get(person.pk)
        distribution = KitDistribution.objects.filter(round=rnd, household=household).first()
        ctx = {
            "round": rnd,
            "household": household,
            "members": members,
            "distribution": distribution,
            "unreported": sum(1 for p in members if p.antigen is None),
            "may_report": request.user.has_scoped_perm("antigen.add_antigenreport"),
            "results": Result.choices,
            "error": error,
            "back_url": f"{reverse('antigen:completion', args=[rnd.pk])}?{urlencode({'area': household.area.code, 'building': household.building_id})}",
        }
        return TemplateResponse(request, "antigen/household.html", ctx, status=status)

    def post(self, request, pk, household):
        rnd, household_obj = self.objects(request, pk, household)
        if not request.user.has_scoped_perm("antigen.add_antigenreport"):
            raise PermissionDenied
        try:
            if request.POST.get("action") == "all_negative":
                created = services.report_household_negative(request.user, rnd, household_obj)
                messages.success(request, _("%(n)d members reported negative.") % {"n": len(created)})
            else:
                self.report_one(request, rnd, household_obj)
        except ScopeViolation as exc:
            raise PermissionDenied(str(exc)) from None
        except ValidationError as exc:
            return self.get(request, pk, household, error=" ".join(exc.messages), status=400)
        return redirect(request.get_full_path())

    def report_one(self, request, rnd, household):
        person_pk = request.POST.get("person", "")
        person = (
            Person.objects.restrict(request.user, "view")
            .filter(
                pk=person_pk if person_pk.isdigit() else None, household=household, merged_into__isnull=True
            )
            .select_related("area")
            .first()
        )
        if person is None:
            raise Http404
        form = QuickReportForm(request.POST, request.FILES)
        if not form.is_valid():
            raise ValidationError([m for errors in form.errors.values() for m in errors])
        report, action = services.report(
            request.user, rnd, person, form.cleaned_data["result"], photo=form.cleaned_data.get("photo")
        )
        text = _("%(person)s: %(result)s recorded.") % {
            "person": person.name,
            "result": report.get_result_display(),
        }
        if report.result == Result.POSITIVE:
            text += " " + _("A nucleic-acid test is to be arranged; the person is on the key-person list.")
        elif report.result == Result.INVALID:
            text += " " + _("Ask for a retest with a new kit.")
        messages.success(request, text)


# -- distributions -------------------------------------------------------------------------------


class KitDistributionListView(ObjectListView):
    model = KitDistribution
    table_class = KitDistributionTable
    filterset_class = KitDistributionFilterSet
    import_name = "antigen-kits"

    def get_queryset(self):
        return super().get_queryset().select_related("household__building", "area", "round", "handed_out_by")


class KitDistributionDetailView(ObjectDetailView):
    model = KitDistribution
    template_name = "antigen/kitdistribution_detail.html"

    def get_object(self, queryset=None):
        return get_scoped_or_404(KitDistribution, self.request.user, self.kwargs["pk"])


class KitDistributionEditView(ObjectEditView):
    """Correct a household's kits (services.hand_out: audited, in scope). New hand-outs are made
    on the building page."""

    model = KitDistribution
    form_class = KitDistributionForm

    creates = False  # made by the services

    def form_valid(self, form):
        obj = KitDistribution.objects.select_related("household__area", "round").get(pk=self.object.pk)
        try:
            self.object, _action = services.hand_out(
                self.request.user,
                obj.round,
                obj.household,
                form.cleaned_data["kits"],
                note=form.cleaned_data["note"],
            )
        except (ScopeViolation, ValidationError) as exc:
            form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
            return self.form_invalid(form)
        self.object = self.object or obj
        messages.success(self.request, _("Saved %(object)s.") % {"object": self.object})
        return redirect(self.object.get_absolute_url())


# -- reports -------------------------------------------------------------------------------------


class AntigenReportListView(ObjectListView):
    model = AntigenReport
    table_class = AntigenReportTable
    filterset_class = AntigenReportFilterSet
    export_name = "antigen-reports"
    template_name = "antigen/antigenreport_list.html"

    def get_queryset(self):
        return super().get_queryset().select_related("person", "household__building", "area")

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_banner(self.request.user)}


class AntigenReportDetailView(ObjectDetailView):
    model = AntigenReport
    template_name = "antigen/antigenreport_detail.html"

    def get_object(self, queryset=None):
        return get_scoped_or_404(AntigenReport, self.request.user, self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["follow_up"] = AntigenFollowUp.objects.filter(report=self.object).first()
        return ctx


class AntigenReportEditView(ObjectEditView):
    """Correct a result (services.report: a positive opens the follow-up, a change is audited)."""

    model = AntigenReport
    form_class = AntigenReportForm
    template_name = "antigen/antigenreport_form.html"  # the generic one has no file upload

    creates = False  # made by the services

    def form_valid(self, form):
        current = AntigenReport.objects.select_related("person__area", "round").get(pk=self.object.pk)
        data = form.cleaned_data
        try:
            self.object, _action = services.report(
                self.request.user,
                current.round,
                current.person,
                data["result"],
                tested_at=data.get("tested_at"),
                photo=self.request.FILES.get("photo"),
                note=data.get("note", ""),
            )
        except (ScopeViolation, ValidationError) as exc:
            form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
            return self.form_invalid(form)
        messages.success(self.request, _("Saved %(object)s.") % {"object": self.object})
        return redirect(self.object.get_absolute_url())


class AntigenReportPhotoView(LoginRequiredMixin, View):
    """The photo, to whoever may see the report: never a public media URL."""

    def get(self, request, pk):
        report = get_scoped_or_404(AntigenReport, request.user, pk)
        if not report.photo:
            raise Http404
        content_type = "image/png" if report.photo.name.endswith(".png") else "image/jpeg"
        response = FileResponse(report.photo.open("rb"), content_type=content_type)
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


# -- follow-ups ----------------------------------------------------------------------------------


class AntigenFollowUpListView(ObjectListView):
    model = AntigenFollowUp
    table_class = AntigenFollowUpTable
    filterset_class = AntigenFollowUpFilterSet

    def get_queryset(self):
        return super().get_queryset().select_related("person", "area")


class AntigenFollowUpDetailView(ObjectDetailView):
    model = AntigenFollowUp
    template_name = "antigen/antigenfollowup_detail.html"

    def get_object(self, queryset=None):
        return get_scoped_or_404(AntigenFollowUp, self.request.user, self.kwargs["pk"])

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("person", "area", "report__round", "report__household__building", "key_person")
        )

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj = self.object
        ctx["moves"] = [
            (target, AntigenFollowUp.Status(target).label)
            for target in (
                AntigenFollowUp.Status.SAMPLED,
                AntigenFollowUp.Status.DONE,
                AntigenFollowUp.Status.CANCELLED,
            )
            if target in obj.allowed_transitions()
        ]
        ctx["may_move"] = may(self.request.user, obj)
        ctx["may_see_entry"] = obj.key_person_id and self.request.user.has_scoped_perm(
            "control.view_keyperson"
        )
        return ctx


class AntigenFollowUpEditView(ObjectEditView):
    model = AntigenFollowUp
    form_class = AntigenFollowUpForm

    creates = False  # made by the services


class AntigenFollowUpMoveView(TransitionView):
    """POST /antigen/followups/<id>/<status>/: sampled, done, or cancelled (with a note)."""

    model = AntigenFollowUp
    refusals = (ValidationError,)  # the service's PermissionDenied answers 403

    def move(self, follow, data):
        if self.kwargs["move"] not in AntigenFollowUp.Status.values:
            raise Http404
        form = FollowUpMoveForm(self.request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        services.set_follow_up(self.request.user, follow, self.kwargs["move"], note)
        return follow

    def get_success_message(self, follow):
        return _("%(person)s: %(status)s.") % {
            "person": follow.person.name,
            "status": follow.get_status_display(),
        }

    def get_redirect_url(self, follow):
        return safe_next(self.request, follow.get_absolute_url())

"""Roster pages (/rosters/): the roster of the next 24 h (posts × shifts, gaps highlighted, the gaps
tonight), staff and volunteers, teams, posts with their planning, a shift with its people, hours per
person, and "my shifts" — the duty staff's phone page with check-in and check-out.

Every write goes through rosters.services; a refusal comes back as a message on the page. Reads go
through `restrict`: out of scope → 404, in scope without the right → 403."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from epigrid.areas.models import Area
from epigrid.core.scoping import may
from epigrid.core.views import ObjectDetailView, ObjectEditView, ObjectListView
from epigrid.people.forms import RevealForm
from epigrid.rosters import services
from epigrid.rosters.filtersets import (
    AssignmentFilterSet,
    PostFilterSet,
    ShiftFilterSet,
    StaffMemberFilterSet,
    TeamFilterSet,
)
from epigrid.rosters.forms import (
    AssignForm,
    PeriodForm,
    PlanForm,
    PostForm,
    ShiftForm,
    StaffMemberForm,
    TeamForm,
)
from epigrid.rosters.models import Assignment, Post, Shift, StaffMember, Team
from epigrid.rosters.tables import (
    AssignmentTable,
    PostTable,
    ShiftTable,
    StaffMemberTable,
    TeamTable,
    span,
    status_badge,
)

ROSTER_EXPORT = "roster"
HOURS_EXPORT = "roster-hours"


def _error(request, exc):
    messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))


def _root_area(request):
    """The area the roster is drawn for: ?area=<code> inside the user's scope, else their first area."""
    user = request.user
    areas = Area.objects.restrict(user, "view")
    code = request.GET.get("area")
    if code:
        return get_object_or_404(areas, code=code)
    paths = user.scope_paths("rosters.view_shift")
    if paths:
        return areas.filter(path=paths[0]).first()
    return None


# The roster


@login_required
def roster(request):
    """Posts × shifts of the next 24 h with the empty places, and tonight's gaps."""
    user = request.user
    if not user.has_scoped_perm("rosters.view_shift"):
        raise PermissionDenied
    now = timezone.now()
    root = _root_area(request)
    posts = Post.objects.restrict(user, "view").filter(is_active=True).select_related("area")
    if root is not None:
        posts = posts.filter(area__path__startswith=root.path)
    posts = list(posts.order_by("area__path", "name")[:200])
    start = timezone.localtime(now).replace(minute=0, second=0, microsecond=0)
    grid = services.roster_grid(posts, start, 24, now)
    evening, morning = services.tonight(now)
    shifts = Shift.objects.restrict(user, "view")
    tonight_gaps = services.gaps(root, evening, morning, now, shifts=shifts)
    return render(
        request,
        "rosters/roster.html",
        {
            "grid": grid,
            "root": root,
            "now": now,
            "tonight": tonight_gaps,
            "tonight_span": span(evening, morning),
            "missing_tonight": sum(g["gap"] for g in tonight_gaps),
            "can_plan": user.has_scoped_perm(services.PLAN),
            "has_own_shifts": StaffMember.objects.filter(user=user).exists(),
        },
    )


# Staff


class StaffMemberListView(ObjectListView):
    model = StaffMember
    table_class = StaffMemberTable
    filterset_class = StaffMemberFilterSet
    add_url_name = "rosters:staffmember_add"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent")


class StaffMemberDetailView(ObjectDetailView):
    model = StaffMember
    template_name = "rosters/staffmember_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area", "user")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        member, user = self.object, self.request.user
        ctx["assignments"] = (
            Assignment.objects.restrict(user)
            .filter(staff=member, shift__end__gte=timezone.now() - datetime.timedelta(days=7))
            .select_related("shift__post")
            .order_by("shift__start")[:60]
        )
        ctx["teams"] = Team.objects.restrict(user).filter(members=member)
        ctx["can_reveal"] = bool(member.phone) and user.has_scoped_perm("people.reveal_person")
        ctx["reveal_form"] = RevealForm()
        ctx["can_change"] = may(user, member, "change")
        return ctx


class StaffMemberEditView(ObjectEditView):
    """Add (search before create: the same phone in the same area opens that member) or edit."""

    model = StaffMember
    form_class = StaffMemberForm

    def form_invalid(self, form):
        existing = getattr(form, "existing", None)
        if existing is not None and may(self.request.user, existing, "view"):
            return self._found(existing)
        return super().form_invalid(form)

    def _found(self, member):
        messages.warning(
            self.request,
            _("%(name)s is already registered in this area with this phone; here is the record.")
            % {"name": member.name},
        )
        return redirect(member.get_absolute_url())

    def form_valid(self, form):
        try:
            member, created = services.save_member(
                self.request.user,
                StaffMember.objects.get(pk=self.object.pk) if self.object else None,
                **form.fields_for_service(),
            )
        except (ValidationError, PermissionDenied) as exc:
            if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, " ".join(getattr(exc, "messages", None) or [str(exc)]))
            return self.form_invalid(form)
        if self.object is None and not created:
            return self._found(member)
        else:
            messages.success(self.request, _("Saved %(object)s.") % {"object": member})
        return redirect(member.get_absolute_url())


@login_required
@require_POST
def reveal_phone(request, pk):
    member = get_object_or_404(StaffMember.objects.restrict(request.user, "view"), pk=pk)
    form = RevealForm(request.POST)
    if not request.user.has_scoped_perm("people.reveal_person"):
        raise PermissionDenied
    if not form.is_valid():
        return render(request, "rosters/_revealed.html", {"form": form}, status=200 if request.htmx else 400)
    phone = services.reveal_phone(request.user, member, form.cleaned_data["reason"])
    return render(request, "rosters/_revealed.html", {"phone": phone})


# Teams


class TeamListView(ObjectListView):
    model = Team
    table_class = TeamTable
    filterset_class = TeamFilterSet
    add_url_name = "rosters:team_add"

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("area__parent")
            .annotate(size=Count("members"))
            .order_by("area__path", "name", "id")
        )


class TeamDetailView(ObjectDetailView):
    model = Team
    template_name = "rosters/team_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area", "leader", "key_person__person")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["members"] = self.object.members.select_related("area").order_by("name")
        ctx["may_see_entry"] = self.object.key_person_id is not None and self.request.user.has_scoped_perm(
            "control.view_keyperson"
        )
        return ctx


class TeamEditView(ObjectEditView):
    model = Team
    form_class = TeamForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["members"].queryset = form.fields["members"].queryset.order_by("name")
        return form


# Posts


class PostListView(ObjectListView):
    model = Post
    table_class = PostTable
    filterset_class = PostFilterSet
    add_url_name = "rosters:post_add"

    def get_queryset(self):
        return super().get_queryset().select_related("area__parent")


class PostDetailView(ObjectDetailView):
    model = Post
    template_name = "rosters/post_detail.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        now = timezone.now()
        ctx["shifts"] = services.shift_figures(
            Shift.objects.restrict(self.request.user).filter(post=self.object, end__gte=now), now
        ).order_by("start")[:30]
        ctx["plan_form"] = PlanForm()
        ctx["can_plan"] = may(self.request.user, self.object, perm="rosters.add_shift")
        return ctx


class PostEditView(ObjectEditView):
    model = Post
    form_class = PostForm


@login_required
@require_POST
def plan(request, pk):
    post = get_object_or_404(Post.objects.restrict(request.user, "view"), pk=pk)
    if not may(request.user, post, perm="rosters.add_shift"):
        raise PermissionDenied
    form = PlanForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(post.get_absolute_url())
    try:
        created, kept = services.plan_shifts(
            request.user, post, form.cleaned_data["first_day"], form.cleaned_data["days"]
        )
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    else:
        messages.success(
            request,
            _("Planned %(new)d shifts (%(kept)d were there already).")
            % {"new": len(created), "kept": len(kept)},
        )
    return redirect(post.get_absolute_url())


# Shifts and assignments


class ShiftListView(ObjectListView):
    model = Shift
    table_class = ShiftTable
    filterset_class = ShiftFilterSet

    def get_queryset(self):
        # Aggregates drop Meta.ordering: the pages need a stable order.
        return services.shift_figures(super().get_queryset().select_related("post")).order_by("start", "id")


class ShiftDetailView(ObjectDetailView):
    model = Shift
    template_name = "rosters/shift_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("post__area")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        shift, user = self.object, self.request.user
        rows = list(shift.assignments.select_related("staff").order_by("staff__name"))
        for row in rows:
            row.badge = status_badge(row)
        may_plan = may(user, shift, perm=services.PLAN)
        ctx.update(
            {
                "rows": rows,
                "span": span(shift.start, shift.end),
                "open_places": max(0, shift.needed - len(rows)),
                "may_plan": may_plan and shift.end > timezone.now(),
                "assign_form": AssignForm(user=user, shift=shift) if may_plan else None,
            }
        )
        return ctx


class ShiftEditView(ObjectEditView):
    model = Shift
    form_class = ShiftForm
    creates = False


@login_required
@require_POST
def assign(request, pk):
    shift = get_object_or_404(
        Shift.objects.restrict(request.user, "view").select_related("post__area"), pk=pk
    )
    if not may(request.user, shift, perm=services.PLAN):
        raise PermissionDenied
    form = AssignForm(request.POST, user=request.user, shift=shift)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(shift.get_absolute_url())
    try:
        row = services.assign(request.user, shift, form.cleaned_data["staff"])
    except (ValidationError, PermissionDenied) as exc:
        _error(request, exc)
    else:
        messages.success(request, _("%(name)s is on this shift.") % {"name": row.staff.name})
    return redirect(shift.get_absolute_url())


@login_required
@require_POST
def unassign(request, pk):
    row = get_object_or_404(Assignment.objects.restrict(request.user, "view").select_related("shift"), pk=pk)
    try:
        services.unassign(request.user, row)
    except (ValidationError, PermissionDenied) as exc:
        if isinstance(exc, PermissionDenied):
            raise
        _error(request, exc)
    else:
        messages.success(request, _("%(name)s is off this shift.") % {"name": row.staff.name})
    return redirect(row.shift.get_absolute_url())


class AssignmentListView(ObjectListView):
    model = Assignment
    table_class = AssignmentTable
    filterset_class = AssignmentFilterSet
    export_name = ROSTER_EXPORT

    def get_queryset(self):
        return super().get_queryset().select_related("shift__post", "staff")


@login_required
def hours(request):
    """Planned and worked hours per person over a period (the last 7 days by default)."""
    user = request.user
    if not user.has_scoped_perm("rosters.view_assignment"):
        raise PermissionDenied
    form = PeriodForm(request.GET or None)
    today = timezone.localdate()
    since, until = today - datetime.timedelta(days=6), today
    if form.is_valid():
        since = form.cleaned_data["since"] or since
        until = form.cleaned_data["until"] or until
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min)
    )
    rows = services.hours(Assignment.objects.restrict(user, "view"), start, end)
    return render(
        request,
        "rosters/hours.html",
        {
            "form": form,
            "rows": rows,
            "since": since,
            "until": until,
            "query": f"since={since.isoformat()}&until={until.isoformat()}",
            "export_name": HOURS_EXPORT,
            "totals": {
                "planned": round(sum(r["planned"] for r in rows), 1),
                "worked": round(sum(r["worked"] for r in rows), 1),
            },
        },
    )


# My shifts (phone)


@login_required
def my_shifts(request):
    user = request.user
    now = timezone.now()
    rows = list(services.my_shifts(user, now))
    for row in rows:
        row.state = services.check_in_state(row, now)
        row.badge = status_badge(row)
        row.span = span(row.shift.start, row.shift.end)
    if not rows and not StaffMember.objects.filter(user=user).exists():
        raise PermissionDenied(_("Your account is not linked to a staff record."))
    return render(request, "rosters/my_shifts.html", {"rows": rows, "now": now})


def _own_row(request, pk):
    return get_object_or_404(
        Assignment.objects.filter(staff__user=request.user).select_related("shift__post", "staff"), pk=pk
    )


@login_required
@require_POST
def check_in(request, pk):
    row = _own_row(request, pk)
    try:
        row = services.check_in(request.user, row)
    except ValidationError as exc:
        _error(request, exc)
    else:
        if row.late:
            messages.warning(request, _("Checked in at %(post)s, late.") % {"post": row.shift.post.name})
        else:
            messages.success(request, _("Checked in at %(post)s.") % {"post": row.shift.post.name})
    return redirect("rosters:my_shifts")


@login_required
@require_POST
def check_out(request, pk):
    row = _own_row(request, pk)
    try:
        row = services.check_out(request.user, row)
    except ValidationError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Checked out of %(post)s.") % {"post": row.shift.post.name})
    return redirect("rosters:my_shifts")

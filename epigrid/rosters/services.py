"""The one way rosters change (decision 0031): members found before they are created, shifts
stamped out of a post's pattern, assignments checked against the rules under a row lock, check-in
and check-out from the phone, the sweep that marks absences and closes forgotten check-outs, and
the figures: gaps, hours.

`gaps(root_area, start, end)` is the seam other apps (the dashboard, supervision) read."""

import datetime
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from epigrid.audit.services import log_reveal
from epigrid.core import identity, reasons
from epigrid.core.scoping import may, may_at
from epigrid.rosters.models import Assignment, Shift, StaffMember, parse_pattern

PLAN = "rosters.add_assignment"
CHANGE_POST = "rosters.change_post"
CHECK_IN = "rosters.checkin_assignment"
# The check-in window opens before the start (hand-over) and closes at the end; a person not
# checked in this long after the start is absent.
CHECK_IN_EARLY = datetime.timedelta(minutes=30)
ABSENT_AFTER = datetime.timedelta(minutes=30)
MAX_PLAN_DAYS = 31


def min_rest():
    return datetime.timedelta(hours=getattr(settings, "EPIGRID_ROSTER_MIN_REST_HOURS", 8))


def checkout_grace():
    return datetime.timedelta(hours=getattr(settings, "EPIGRID_ROSTER_CHECKOUT_GRACE_HOURS", 2))


def _local(dt):
    return timezone.localtime(dt).strftime("%m-%d %H:%M")


# Members


def find_member(area, phone):
    """The member with this phone in this area, if any (search before create)."""
    if not phone:
        return None
    return StaffMember.objects.filter(area=area, phone=phone).first()


def save_member(actor, member=None, **fields):
    """Create (search before create: the same phone in the same area is that member, returned with
    created=False) or update a member. `fields` may name the member's `user` account. Returns
    (member, created)."""
    area = fields.get("area") or (member.area if member else None)
    if area is None:
        raise ValidationError({"area": _("Choose the area where the member is posted.")})
    perm = "rosters.change_staffmember" if member else "rosters.add_staffmember"
    if not may_at(actor, perm, area):
        raise PermissionDenied(_("You may not keep staff records in this area."))
    if fields.get("phone"):
        fields["phone"] = identity.normalise_phone(fields["phone"])
    with transaction.atomic():
        if member is None:
            existing = find_member(area, fields.get("phone"))
            if existing is not None:
                return existing, False
            member = StaffMember(**fields)
        else:
            member = StaffMember.objects.select_for_update(of=("self",)).get(pk=member.pk)
            for name, value in fields.items():
                setattr(member, name, value)
            other = find_member(member.area, member.phone)
            if other is not None and other.pk != member.pk:
                raise ValidationError(
                    {"phone": _("%(name)s in this area already has this phone.") % {"name": other.name}}
                )
        member.full_clean()
        try:
            with transaction.atomic():
                member.save()
        except IntegrityError:
            # Two officers registering the same phone at once: the second finds the first's record.
            existing = find_member(area, member.phone)
            if existing is None:
                raise
            return existing, False
    return member, True


def reveal_phone(user, member, reason):
    """The full phone of one member, after a reason; logged like a person's reveal."""
    if not user.has_scoped_perm("people.reveal_person") or not may(user, member, "view"):
        raise PermissionDenied
    reason = reasons.clean_reason(reason)
    log_reveal(member, ("phone",), reason)
    return identity.display_phone(member.phone) if member.phone else ""


# Shifts


def shift_times(day, start, end):
    """Aware start and end of a pattern's shift on `day`; an end at or before the start is the next day."""
    tz = timezone.get_current_timezone()
    begin = timezone.make_aware(datetime.datetime.combine(day, start), tz)
    finish_day = day if end > start else day + datetime.timedelta(days=1)
    return begin, timezone.make_aware(datetime.datetime.combine(finish_day, end), tz)


def plan_shifts(user, post, first_day, days):
    """Stamp out the post's pattern for `days` days from `first_day`; shifts already there are kept
    (planning twice changes nothing). Returns (created, kept) lists."""
    if not 1 <= days <= MAX_PLAN_DAYS:
        raise ValidationError(_("Plan between 1 and %(n)d days at a time.") % {"n": MAX_PLAN_DAYS})
    if user is not None and not may(user, post, perm="rosters.add_shift"):
        raise PermissionDenied(_("You may not plan shifts at this post."))
    pattern = parse_pattern(post.pattern)
    created, kept = [], []
    with transaction.atomic():
        for offset in range(days):
            day = first_day + datetime.timedelta(days=offset)
            for start, end in pattern:
                begin, finish = shift_times(day, start, end)
                shift, new = Shift.objects.get_or_create(
                    post=post, start=begin, defaults={"end": finish, "needed": post.needed}
                )
                (created if new else kept).append(shift)
    return created, kept


def _rule_errors(shift, member, now):
    """Why `member` cannot take `shift`, or None. Runs under the member's row lock."""
    day = timezone.localtime(shift.start).date()
    if not member.is_active_on(day):
        return "inactive", _("%(name)s is not on duty on %(day)s (service %(from)s – %(to)s).") % {
            "name": member.name,
            "day": day.isoformat(),
            "from": member.active_from.isoformat(),
            "to": member.active_to.isoformat() if member.active_to else "…",
        }
    if shift.end <= now:
        return "over", _("This shift is over; it can no longer be staffed.")
    rest = min_rest()
    near = (
        Assignment.objects.filter(
            staff=member, shift__start__lt=shift.end + rest, shift__end__gt=shift.start - rest
        )
        .exclude(shift=shift)
        .select_related("shift__post")
        .order_by("shift__start")
    )
    for other in near:
        o = other.shift
        if o.start < shift.end and o.end > shift.start:
            return "overlap", _(
                "%(name)s is already on %(post)s %(from)s–%(to)s, which overlaps this shift."
            ) % {
                "name": member.name,
                "post": o.post.name,
                "from": _local(o.start),
                "to": _local(o.end),
            }
        return "rest", _(
            "%(name)s would rest less than %(hours)d h between this shift and %(post)s %(from)s–%(to)s."
        ) % {
            "name": member.name,
            "hours": rest.total_seconds() // 3600,
            "post": o.post.name,
            "from": _local(o.start),
            "to": _local(o.end),
        }
    return None


def assign(user, shift, member, now=None):
    """Put `member` on `shift`. Refused, with the reason: the same person twice, a full shift,
    overlapping shifts of one person, less than the minimum rest, a member outside the post's area
    or out of service. The shift's row is locked, so two planners cannot both fill its last place;
    the member's too, so two planners cannot give one person two overlapping shifts."""
    now = now or timezone.now()
    with transaction.atomic():
        shift = Shift.objects.select_for_update(of=("self",)).select_related("post__area").get(pk=shift.pk)
        if user is not None and not may(user, shift, perm=PLAN):
            raise PermissionDenied(_("You may not plan this post's shifts."))
        member = StaffMember.objects.select_for_update(of=("self",)).select_related("area").get(pk=member.pk)
        if user is not None and not may(user, member, "view"):
            raise PermissionDenied(_("This staff member is outside your area."))
        taken = list(shift.assignments.values_list("staff_id", flat=True))
        if member.pk in taken:
            raise ValidationError(
                _("%(name)s is already on this shift.") % {"name": member.name}, code="twice"
            )
        if len(taken) >= shift.needed:
            raise ValidationError(
                _("This shift is full: %(n)d of %(n)d places taken.") % {"n": shift.needed}, code="full"
            )
        problem = _rule_errors(shift, member, now)
        if problem:
            code, message = problem
            raise ValidationError(message, code=code)
        return Assignment.objects.create(shift=shift, staff=member, assigned_by=user)


def unassign(user, assignment):
    """Take a member off a shift that has not begun for them (no check-in recorded)."""
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("shift__post")
            .get(pk=assignment.pk)
        )
        if user is not None and not may(user, assignment, "delete"):
            raise PermissionDenied(_("You may not change this post's roster."))
        if assignment.status != Assignment.Status.PLANNED:
            raise ValidationError(
                _("%(name)s has checked in or been marked; the record stays.")
                % {"name": assignment.staff.name}
            )
        assignment.delete()


# Check-in and check-out


def _own(user, assignment):
    if user is None:
        return
    if assignment.staff.user_id != user.pk or not may(user, assignment, perm=CHECK_IN):
        raise PermissionDenied(_("Only the person on this shift checks in for it."))


def worked_minutes(shift, start, end):
    """Minutes of [start, end] inside the shift: early arrivals and overstays are not credited."""
    begin, finish = max(start, shift.start), min(end, shift.end)
    return max(0, int((finish - begin).total_seconds() // 60))


def check_in(user, assignment, now=None):
    """Check in at the post, from 30 min before the start until the end; after the start it is late.
    Checking in again answers the first check-in unchanged (a retried tap)."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("shift__post", "staff")
            .get(pk=assignment.pk)
        )
        _own(user, assignment)
        if assignment.status in (Assignment.Status.ON_DUTY, Assignment.Status.DONE):
            return assignment
        shift = assignment.shift
        if now < shift.start - CHECK_IN_EARLY:
            raise ValidationError(
                _("Check-in opens at %(at)s, 30 minutes before the shift.")
                % {"at": _local(shift.start - CHECK_IN_EARLY)},
                code="early",
            )
        if now > shift.end:
            raise ValidationError(
                _("This shift ended at %(at)s; check-in is closed.") % {"at": _local(shift.end)},
                code="closed",
            )
        return assignment.transition(
            Assignment.Status.ON_DUTY,
            note=pgettext("roster", "checked in"),
            checked_in_at=now,
            late=now > shift.start,
        )


def check_out(user, assignment, now=None):
    """Check out; a second tap answers the first check-out unchanged."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("shift__post", "staff")
            .get(pk=assignment.pk)
        )
        _own(user, assignment)
        if assignment.status == Assignment.Status.DONE:
            return assignment
        if assignment.status != Assignment.Status.ON_DUTY:
            raise ValidationError(_("Check in first."))
        return assignment.transition(
            Assignment.Status.DONE,
            note=pgettext("roster", "checked out"),
            checked_out_at=now,
            worked_minutes=worked_minutes(assignment.shift, assignment.checked_in_at, now),
        )


def sweep(now=None, area=None):
    """Mark absent whoever has not checked in 30 min after the start, and close check-outs forgotten
    past the end + grace, crediting only the planned hours (to the shift's end). Returns counts.
    Run by `epigrid rosters_sweep` (every few minutes) and before the roster pages are drawn."""
    now = now or timezone.now()
    base = Assignment.objects.all()
    if area is not None:
        base = base.filter(shift__post__area__path__startswith=area.path)
    absent = closed = 0
    late_ids = list(
        base.filter(status=Assignment.Status.PLANNED, shift__start__lte=now - ABSENT_AFTER).values_list(
            "pk", flat=True
        )
    )
    for pk in late_ids:
        with transaction.atomic():
            row = (
                Assignment.objects.select_for_update(of=("self",))
                .filter(pk=pk, status=Assignment.Status.PLANNED)
                .first()
            )
            if row is not None:
                row.transition(Assignment.Status.ABSENT, note=_("no check-in 30 minutes after the start"))
                absent += 1
    open_ids = list(
        base.filter(status=Assignment.Status.ON_DUTY, shift__end__lte=now - checkout_grace()).values_list(
            "pk", flat=True
        )
    )
    for pk in open_ids:
        with transaction.atomic():
            row = (
                Assignment.objects.select_for_update(of=("self",))
                .select_related("shift")
                .filter(pk=pk, status=Assignment.Status.ON_DUTY)
                .first()
            )
            if row is not None:
                row.transition(
                    Assignment.Status.DONE,
                    note=_("check-out forgotten: closed at the shift's end"),
                    checked_out_at=row.shift.end,
                    auto_closed=True,
                    worked_minutes=worked_minutes(row.shift, row.checked_in_at, row.shift.end),
                )
                closed += 1
    return {"absent": absent, "closed": closed}


# Figures


def _absent_q(now):
    """No check-in 30 minutes after the start (marked by the sweep or not yet)."""
    return Q(assignments__status=Assignment.Status.ABSENT) | Q(
        assignments__status=Assignment.Status.PLANNED, start__lte=now - ABSENT_AFTER
    )


def shift_figures(shifts, now=None):
    """Shifts annotated with `assigned`, `absent` and `gap` = needed − assigned (+ absent once the
    shift has started: an absent person leaves their place empty)."""
    now = now or timezone.now()
    return shifts.annotate(
        assigned=Count("assignments", distinct=True),
        absent=Count("assignments", filter=_absent_q(now), distinct=True),
        checked_in=Count(
            "assignments",
            filter=Q(assignments__status__in=(Assignment.Status.ON_DUTY, Assignment.Status.DONE)),
            distinct=True,
        ),
    )


def short_of_staff(shifts, now=None):
    """The shifts of `shifts` at active posts with an empty place by the rule of `gaps` (needed −
    assigned, + absent once started), as one filter: the shift list's "short" filter and the
    dashboard's count read this, so they agree with the roster page."""
    now = now or timezone.now()

    def counted(condition):
        rows = Assignment.objects.filter(condition, shift=OuterRef("pk")).order_by().values("shift")
        return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)

    absent = Q(status=Assignment.Status.ABSENT) | Q(
        status=Assignment.Status.PLANNED, shift__start__lte=now - ABSENT_AFTER
    )
    gap = (
        F("needed")
        - counted(Q())
        + Case(When(start__lte=now, then=counted(absent)), default=Value(0), output_field=IntegerField())
    )
    return shifts.filter(post__is_active=True).alias(open_places=gap).filter(open_places__gt=0)


def gaps(root_area, start, end, now=None, shifts=None):
    """Per shift overlapping [start, end) at an active post under `root_area`: needed − assigned
    (− absent for started shifts), only where places are empty. A list of dicts, soonest first:
    shift, post, area, start, end, needed, assigned, absent, gap."""
    now = now or timezone.now()
    qs = shifts if shifts is not None else Shift.objects.all()
    qs = qs.filter(start__lt=end, end__gt=start, post__is_active=True)
    if root_area is not None:
        qs = qs.filter(post__area__path__startswith=root_area.path)
    out = []
    for shift in shift_figures(qs.select_related("post__area"), now).order_by("start", "post__name", "id"):
        absent = shift.absent if shift.start <= now else 0
        gap = shift.needed - shift.assigned + absent
        if gap > 0:
            out.append(
                {
                    "shift": shift,
                    "post": shift.post,
                    "area": shift.post.area,
                    "start": shift.start,
                    "end": shift.end,
                    "needed": shift.needed,
                    "assigned": shift.assigned,
                    "absent": absent,
                    "gap": gap,
                }
            )
    return out


def tonight(now=None):
    """Tonight: from 18:00 today (or now, if later) to 08:00 tomorrow, local time."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    evening = local.replace(hour=18, minute=0, second=0, microsecond=0)
    if local.hour < 8:
        evening -= datetime.timedelta(days=1)
    morning = evening.replace(hour=8) + datetime.timedelta(days=1)
    return max(evening, local), morning


def hours(assignments, since, until, now=None):
    """Planned and worked hours per member over the shifts starting in [since, until): a list of
    dicts (member, shifts, planned, worked, late, absent, forgotten), by name."""
    now = now or timezone.now()
    rows = defaultdict(
        lambda: {"shifts": 0, "planned": 0.0, "worked": 0.0, "late": 0, "absent": 0, "forgotten": 0}
    )
    members = {}
    qs = assignments.filter(shift__start__gte=since, shift__start__lt=until).select_related(
        "shift", "staff__area"
    )
    for a in qs.iterator(chunk_size=2000):
        row = rows[a.staff_id]
        members[a.staff_id] = a.staff
        row["shifts"] += 1
        row["planned"] += a.shift.hours
        if a.status == Assignment.Status.DONE:
            row["worked"] += a.worked_minutes / 60
        elif a.status == Assignment.Status.ON_DUTY:
            row["worked"] += worked_minutes(a.shift, a.checked_in_at, min(now, a.shift.end)) / 60
        row["late"] += a.late
        row["absent"] += a.status == Assignment.Status.ABSENT
        row["forgotten"] += a.auto_closed
    out = [
        {"member": members[pk], **{k: (round(v, 1) if isinstance(v, float) else v) for k, v in row.items()}}
        for pk, row in rows.items()
    ]
    return sorted(out, key=lambda r: (r["member"].name, r["member"].pk))


def my_shifts(user, now=None, days=2):
    """The user's own assignments from the shift before now until `days` ahead, soonest first."""
    now = now or timezone.now()
    return (
        Assignment.objects.filter(staff__user=user, shift__end__gte=now - datetime.timedelta(hours=12))
        .filter(shift__start__lt=now + datetime.timedelta(days=days))
        .select_related("shift__post__area", "staff")
        .order_by("shift__start", "id")
    )


def check_in_state(assignment, now):
    """What the phone card offers: 'early' (opens later), 'open', 'on_duty', 'closed', 'done'."""
    shift = assignment.shift
    if assignment.status == Assignment.Status.DONE:
        return "done"
    if assignment.status == Assignment.Status.ON_DUTY:
        return "on_duty"
    if now < shift.start - CHECK_IN_EARLY:
        return "early"
    if now > shift.end:
        return "closed"
    return "open"


def roster_grid(posts, start, hours_ahead=24, now=None):
    """Posts × shifts overlapping [start, start + hours): [(post, [shift with figures, ...])]."""
    now = now or timezone.now()
    end = start + datetime.timedelta(hours=hours_ahead)
    shifts = shift_figures(Shift.objects.filter(post__in=posts, start__lt=end, end__gt=start), now).order_by(
        "start", "id"
    )
    by_post = defaultdict(list)
    for shift in shifts:
        shift.gap = shift.needed - shift.assigned + (shift.absent if shift.start <= now else 0)
        by_post[shift.post_id].append(shift)
    names = defaultdict(list)
    shown = [s.pk for v in by_post.values() for s in v]
    for shift_id, name in Assignment.objects.filter(shift__in=shown).values_list("shift_id", "staff__name"):
        names[shift_id].append(name)
    for v in by_post.values():
        for s in v:
            s.names = sorted(names[s.pk])
    return [(post, by_post.get(post.pk, [])) for post in posts]

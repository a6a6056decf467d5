"""The one way passes and their uses change (pages, API and demo call these).

The quota is claimed in the database, not in Python: one statement creates the window's counter
row with this exit or moves its counter up while under N (`INSERT … ON CONFLICT DO UPDATE SET
used = used + 1 WHERE used < N RETURNING used`); a row returned is the claim. Two gates scanning
the same household's last exit at once: the second waits for the first transaction's row and
then finds the window full, so exactly one person goes out.
A scan also locks the person's row, so the same person cannot leave twice through two gates."""

import datetime
import uuid
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.audit.services import insert_logged, log_bulk_create
from epigrid.checkpoints import services as checkpoints
from epigrid.checkpoints.models import Checkpoint
from epigrid.control import services as control_services
from epigrid.control.models import ControlMeasure, KeyPerson, MeasureKind
from epigrid.core import reasons
from epigrid.core.identity import mask_name
from epigrid.core.prepared import Prepared
from epigrid.core.scoping import ScopeViolation, check_in_scope, may_path
from epigrid.passes import codes
from epigrid.passes.models import DEFAULT_DAYS, DEFAULT_PERSONS, HouseholdPass, PassUse, PassWindow
from epigrid.people.models import Person

ISSUE = "passes.add_householdpass"
CHANGE = "passes.change_householdpass"
SCAN = "passes.add_passuse"
# Zone levels under which residents' exits are rationed (the protocols' controlled, medium, high and
# sealed areas); precaution and low-risk areas need no pass.
CONTROLLED_LEVELS = ("sealed", "controlled", "high", "medium")
# Measures that keep a person in (home isolation at home, centralized at the site); a medical pass
# still lets a home-isolated patient out to hospital (就医), never someone in centralized isolation.
KEEP_IN = (MeasureKind.HOME_ISOLATION, MeasureKind.CENTRALIZED)
DEFAULT_VALID_DAYS = 14
Reason = PassUse.Reason


@dataclass
class ScanOutcome:
    allowed: bool
    reason: str  # a PassUse.Reason value, "unknown", or "" when allowed
    message: str
    direction: str
    use: PassUse | None = None
    household_pass: HouseholdPass | None = None
    person_label: str = ""  # masked name and birth year
    status_label: str = ""  # the person's measure, if any
    remaining: int | None = None  # exits left in the window after this scan
    next_window: datetime.date | None = None
    replayed: bool = False


# Issuing


def _require(user, perm, message):
    if user is not None and not user.has_scoped_perm(perm):
        raise PermissionDenied(message)


def zone_is_controlled(zone):
    return zone is not None and zone.status != "lifted" and zone.level in CONTROLLED_LEVELS


def _validity(valid_from, valid_until, now):
    valid_from = valid_from or now
    valid_until = valid_until or valid_from + datetime.timedelta(days=DEFAULT_VALID_DAYS)
    if valid_until <= valid_from:
        raise ValidationError(_("A pass must end after it starts."), code="validity")
    return valid_from, valid_until


def _rule(persons, days):
    persons = persons or DEFAULT_PERSONS
    days = days or DEFAULT_DAYS
    if not (1 <= persons <= 20 and 1 <= days <= 30):
        raise ValidationError(_("The rule is 1 to 20 persons per 1 to 30 days."), code="rule")
    return persons, days


def issue(
    user,
    household,
    kind=HouseholdPass.Kind.HOUSEHOLD,
    *,
    zone=None,
    holder=None,
    persons=None,
    days=None,
    valid_from=None,
    valid_until=None,
    note="",
    now=None,
):
    """One pass. A household pass carries the rule (default one person per two days) and is the
    household's only one in force; a special pass names its holder, a member of the household,
    and has no quota unless `persons` and `days` are given."""
    _require(user, ISSUE, _("You may not issue passes."))
    now = now or timezone.now()
    valid_from, valid_until = _validity(valid_from, valid_until, now)
    if kind == HouseholdPass.Kind.HOUSEHOLD:
        persons, days = _rule(persons, days)
        holder = None
    else:
        if holder is None or holder.household_id != household.pk:
            raise ValidationError(_("A special pass names a person of the household."), code="holder")
        persons, days = _rule(persons, days) if persons or days else (None, None)
    if zone is not None:
        if not zone_is_controlled(zone):
            raise ValidationError(_("This zone is not under control: no pass is needed."), code="zone")
        if not control_services.zone_households(zone).filter(pk=household.pk).exists():
            raise ValidationError(_("The household is not inside the zone."), code="zone")
    household_pass = HouseholdPass(
        household=household,
        area_id=household.area_id,
        kind=kind,
        zone=zone,
        holder=holder,
        persons_per_window=persons,
        window_days=days,
        valid_from=valid_from,
        valid_until=valid_until,
        issued_by=user,
        issued_at=now,
        note=note[:200],
    )
    try:
        with transaction.atomic():
            household_pass.save()
            if user is not None:
                check_in_scope(user, household_pass, "add")
    except IntegrityError:
        raise ValidationError(
            _("This household already has a pass in force: revoke it first."), code="exists"
        ) from None
    except ScopeViolation as exc:
        raise PermissionDenied(str(exc)) from None
    return household_pass


def issue_for_zone(user, zone, persons=None, days=None, valid_until=None, now=None):
    """A household pass for every household of the zone that the user may issue for. Idempotent:
    a household with a pass in force keeps it. Returns (new passes, households that kept theirs)."""
    _require(user, ISSUE, _("You may not issue passes."))
    if not zone_is_controlled(zone):
        raise ValidationError(_("This zone is not under control: no pass is needed."), code="zone")
    now = now or timezone.now()
    persons, days = _rule(persons, days)
    valid_from, valid_until = _validity(now, valid_until, now)
    households = control_services.zone_households(zone)
    paths = user.scope_paths(ISSUE) if user is not None else None
    if paths is not None:
        # Only the households the user may issue for (a community's officer and a street's zone).
        within = Q()
        for path in paths:
            within |= Q(area__path__startswith=path)
        households = households.filter(within) if paths else households.none()
    households = list(households.order_by("pk").values_list("pk", "area_id"))
    if not households:
        raise PermissionDenied(_("None of the zone's households lies in your area."))
    holding = set(
        HouseholdPass.objects.filter(
            household_id__in=[pk for pk, _area in households],
            kind=HouseholdPass.Kind.HOUSEHOLD,
            status=HouseholdPass.Status.ACTIVE,
        ).values_list("household_id", flat=True)
    )
    new = [
        HouseholdPass(
            household_id=pk,
            area_id=area_id,
            zone=zone,
            persons_per_window=persons,
            window_days=days,
            valid_from=valid_from,
            valid_until=valid_until,
            issued_by=user,
            issued_at=now,
        )
        for pk, area_id in households
        if pk not in holding
    ]
    try:
        with transaction.atomic():
            created = HouseholdPass.objects.bulk_create(new)
            log_bulk_create(created)
    except IntegrityError:
        # Another officer issued for some of these households at the same moment.
        raise ValidationError(
            _("Passes were being issued for this zone at the same time; try again."), code="busy"
        ) from None
    return created, len(holding)


def amend(user, household_pass, valid_until=None, note=None):
    """Extend or shorten a pass in force, or change its note (the rule stays: cards are printed)."""
    _require_change(user, household_pass)
    if household_pass.status != HouseholdPass.Status.ACTIVE:
        raise ValidationError(_("Only a pass in force can be changed."), code="status")
    if valid_until is not None:
        if valid_until <= household_pass.valid_from:
            raise ValidationError(_("A pass must end after it starts."), code="validity")
        household_pass.valid_until = valid_until
    if note is not None:
        household_pass.note = note[:200]
    with transaction.atomic():
        household_pass.save()
        _check_scope(user, household_pass, "change")
    return household_pass


def revoke(user, household_pass, reason):
    """Revoke a pass: every printed card of it stops scanning (the code's version moves on)."""
    _require_change(user, household_pass)
    try:
        reason = reasons.clean_reason(reason)
    except ValidationError:
        raise ValidationError(
            _("Give the reason for revoking the pass (at least two letters or characters)."), code="reason"
        ) from None
    with transaction.atomic():
        household_pass.transition(
            HouseholdPass.Status.REVOKED, note=reason, code_version=household_pass.code_version + 1
        )
        _check_scope(user, household_pass, "change")
    return household_pass


def expire(now=None):
    """Passes past their end move to expired (daily); scans check the dates in any case."""
    now = now or timezone.now()
    done = 0
    for household_pass in HouseholdPass.objects.filter(status="active", valid_until__lt=now):
        household_pass.transition(HouseholdPass.Status.EXPIRED, note=_("Past its end"))
        done += 1
    return done


def _require_change(user, household_pass):
    if (
        user is not None
        and not HouseholdPass.objects.restrict(user, "change").filter(pk=household_pass.pk).exists()
    ):
        raise PermissionDenied(_("You may not change this pass."))


def _check_scope(user, obj, action):
    if user is not None:
        try:
            check_in_scope(user, obj, action)
        except ScopeViolation as exc:
            raise PermissionDenied(str(exc)) from None


# Windows


def window_start(household_pass, at):
    """The first local day of the M-day window holding `at`, counted from the pass's first local
    day: a day ends at local midnight, whatever the server's clock zone."""
    first = timezone.localtime(household_pass.valid_from).date()
    day = timezone.localtime(at).date()
    index = (day - first).days // household_pass.window_days
    return first + datetime.timedelta(days=index * household_pass.window_days)


def next_window(household_pass, at):
    return window_start(household_pass, at) + datetime.timedelta(days=household_pass.window_days)


def remaining(household_pass, at=None):
    """Exits left in the window holding `at` (None: no quota)."""
    if not household_pass.has_quota:
        return None
    at = at or timezone.now()
    used = (
        PassWindow.objects.filter(household_pass=household_pass, starts_on=window_start(household_pass, at))
        .values_list("used", flat=True)
        .first()
    )
    return household_pass.persons_per_window - (used or 0)


def _claim(household_pass, starts_on):
    """The atomic claim: the exits used in the window after this one, or None when none is left.
    One statement: the window's row is created with this exit, or its counter moves up while
    under N (`INSERT … ON CONFLICT DO UPDATE … WHERE used < N RETURNING used`); a racing claim
    waits on the row and then finds the window full."""
    table = connection.ops.quote_name(PassWindow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (household_pass_id, starts_on, used) VALUES (%s, %s, 1) "
            f"ON CONFLICT (household_pass_id, starts_on) DO UPDATE SET used = {table}.used + 1 "
            f"WHERE {table}.used < %s RETURNING used",
            [household_pass.pk, starts_on, household_pass.persons_per_window],
        )
        row = cursor.fetchone()
    return row[0] if row else None


# People of a pass


def members(household_pass):
    """Who may use the pass: the household's persons, or a special pass's holder."""
    if household_pass.is_special:
        return Person.objects.filter(pk=household_pass.holder_id)
    return Person.objects.filter(household_id=household_pass.household_id, merged_into__isnull=True).order_by(
        "name_key", "pk"
    )


def _keeping(persons):
    return ControlMeasure.objects.filter(
        key_person__person__in=persons,
        key_person__status=KeyPerson.Status.OPEN,
        status="active",
        kind__in=KEEP_IN,
    ).order_by("sequence")[:1]


def _open_exits(persons):
    return PassUse.objects.filter(
        person__in=persons,
        direction=PassUse.Direction.EXIT,
        outcome=PassUse.Outcome.ALLOWED,
        return_use__isnull=True,
    ).order_by("-at")[:1]


def _uses_by_client_id(client_ids):
    return PassUse.objects.filter(client_id__in=client_ids).order_by("pk")[:1]


def _passes(pks):
    # With its area: the use's change-log row is filed under it (no query more per scan).
    return HouseholdPass.objects.filter(pk__in=pks).select_related("zone", "household", "area")


def _locked(pks):
    # The scanned person's row locked (not their area's), with the area its scope is decided by.
    return (
        Person.objects.select_for_update(of=("self",))
        .select_related("area")
        .filter(pk__in=pks, merged_into__isnull=True)
    )


# Every pass scan reads these: built once per process (core.prepared), as the gate's person query.
_locked_persons = Prepared(_locked, pks=Person._meta.pk)
_keeping_measures = Prepared(_keeping, persons=Person._meta.pk)
_open_exit_uses = Prepared(_open_exits, persons=Person._meta.pk)
_earlier_uses = Prepared(_uses_by_client_id, client_ids=PassUse._meta.get_field("client_id"))
_passes_by = Prepared(_passes, pks=HouseholdPass._meta.pk)


def keeping_measure(person):
    """The running measure of the person's open key-person entry that keeps them in, or None."""
    return next(iter(_keeping_measures(persons=[person.pk])), None)


def open_exit(person):
    """The person's allowed exit not yet closed by a return (the latest), or None."""
    return next(iter(_open_exit_uses(persons=[person.pk])), None)


def person_label(person):
    born = f" {person.birth_date.year}" if person.birth_date else ""
    return f"{mask_name(person.name)}{born}"


# Scanning


def read_pass(user, code):
    """The pass a code names if the user sees it; ValidationError (code "unknown") otherwise, the
    same for a forged code and a pass outside the user's area (telling them apart would say that
    the pass exists)."""
    pk, version = codes.parse_code(code)
    household_pass = next(iter(_passes_by(pks=[pk])), None)
    # restrict(user, "view")'s rule, decided on the pass read (its area is at hand).
    if household_pass is None or not (user is None or may_path(user, HouseholdPass, household_pass.area.path)):
        raise ValidationError(_("Unknown pass: not issued here, damaged or forged."), code="unknown")
    return household_pass, version


def scan_checkpoint(user, pk):
    """The checkpoint a gate's API scan names, if `user` sees it: their posts from the checkpoints'
    per-process answer (no query on a gate's usual scan), others read as the API reads them."""
    found = checkpoints.postable_checkpoints(user, [pk]).get(pk)
    return found or Checkpoint.objects.restrict(user, "view").filter(pk=pk).first()


def scan(user, code, person, direction, checkpoint=None, client_id=None, at=None):
    """A gate's scan of a pass for `person` going out ("exit") or coming back ("return"): allowed
    and recorded, or refused with the reason (recorded too, for the checkpoints' statistics).
    A scan sent again with its `client_id` answers as the first did and records nothing.
    `person`: the Person, or the id of one the user sees (read as it is locked: the API's scan)."""
    _require(user, SCAN, _("You may not record pass scans."))
    if direction not in PassUse.Direction.values:
        raise ValidationError(_("Exit or return?"), code="direction")
    client_id = _client_id(client_id)
    earlier = next(iter(_earlier_uses(client_ids=[client_id])), None)
    if earlier is not None:
        return _replay(user, earlier)
    try:
        household_pass, version = read_pass(user, code)
    except ValidationError as exc:
        return ScanOutcome(False, "unknown", exc.messages[0], direction)
    at = at or timezone.now()
    try:
        with transaction.atomic():
            # Scans of one person queue here: the second gate sees the first one's exit.
            person = _lock_person(user, person)
            outcome = _decide(household_pass, version, person, direction, at)
            # The use and its change-log row in one statement (PostgreSQL); a repeated client id
            # ends the whole transaction below, so no savepoint of its own.
            outcome.use = PassUse(
                household_pass=household_pass,
                person=person,
                direction=direction,
                outcome=PassUse.Outcome.ALLOWED if outcome.allowed else PassUse.Outcome.REFUSED,
                reason=outcome.reason,
                at=at,
                window_starts_on=outcome.window_starts_on,
                exit=outcome.closes,
                checkpoint=checkpoint,
                client_id=client_id,
                scanned_by=user,
            )
            insert_logged([outcome.use], savepoint=False)
            _check_scan_scope(user, outcome.use)
    except IntegrityError:
        # The same scan arrived twice at once (a retry racing its original): answer as the first.
        earlier = PassUse.objects.filter(client_id=client_id).first()
        if earlier is None:
            raise
        return _replay(user, earlier)
    return outcome.result(household_pass, person)


def _lock_person(user, person):
    """The person's row locked for the scan; an id is read in the same statement, within what the
    user sees (ValidationError when they don't)."""
    if isinstance(person, Person):
        list(Person.objects.select_for_update().filter(pk=person.pk).values_list("pk"))
        return person
    # Read and locked by key in one kept statement, the scope then decided in memory by
    # restrict()'s rule (may_path): a person outside it is refused as one that does not exist.
    found = next(iter(_locked_persons(pks=[person])), None)
    if found is None or (user is not None and not may_path(user, Person, found.area.path, "view")):
        raise ValidationError({"person": _("No such person in your area.")}, code="person")
    return found


def _check_scan_scope(user, use):
    if user is None:  # the system itself (the demo, a command): no grant to check
        return
    # Decided in memory on a gate's usual scan (the pass's area and the gate's staff are at hand);
    # the query otherwise, which also gives the refusal.
    area = use.household_pass.area
    posted = use.checkpoint_id is not None and use.checkpoint_id in checkpoints.posts_of(user)
    if may_path(user, PassUse, area.path, "add", posted=posted):
        return
    try:
        check_in_scope(user, use, "add")
    except ScopeViolation:
        if use.checkpoint_id is None:
            message = _("Choose the checkpoint you are scanning at.")
        else:
            message = _("You may not record scans of this pass at this checkpoint.")
        raise PermissionDenied(message) from None


def _client_id(value):
    if value in (None, ""):
        return uuid.uuid4()
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(_("The client id is not a UUID."), code="client_id") from None


class _Decision:
    def __init__(self, direction):
        self.direction = direction
        self.allowed = False
        self.reason = ""
        self.message = ""
        self.window_starts_on = None
        self.closes = None
        self.remaining = None
        self.next_window = None
        self.status_label = ""
        self.use = None

    def refuse(self, reason, message):
        self.reason, self.message = reason, message
        return self

    def result(self, household_pass, person):
        return ScanOutcome(
            allowed=self.allowed,
            reason=self.reason,
            message=self.message,
            direction=self.direction,
            use=self.use,
            household_pass=household_pass,
            person_label=person_label(person),
            status_label=self.status_label,
            remaining=self.remaining,
            next_window=self.next_window,
        )


def _is_member(household_pass, person):
    if household_pass.is_special:
        return person.pk == household_pass.holder_id
    return person.household_id == household_pass.household_id and person.merged_into_id is None


def _decide(household_pass, version, person, direction, at):
    decision = _Decision(direction)
    name = mask_name(person.name)
    measure = keeping_measure(person)
    if measure is not None:
        decision.status_label = measure.get_kind_display()
    if not _is_member(household_pass, person):
        return decision.refuse(
            Reason.NOT_MEMBER, _("%(name)s is not a person of this pass.") % {"name": name}
        )
    if direction == PassUse.Direction.RETURN:
        return _decide_return(decision, person, name)
    return _decide_exit(decision, household_pass, version, person, name, measure, at)


def _decide_return(decision, person, name):
    # A return is taken on any pass state: whoever is out must be able to come home.
    exit_use = open_exit(person)
    if exit_use is None:
        return decision.refuse(
            Reason.NOT_OUT, _("%(name)s has no open exit to return from.") % {"name": name}
        )
    decision.allowed, decision.closes = True, exit_use
    decision.message = _("%(name)s is back.") % {"name": name}
    return decision


def _decide_exit(decision, household_pass, version, person, name, measure, at):
    local = timezone.localtime
    if household_pass.status == HouseholdPass.Status.REVOKED or version != household_pass.code_version:
        return decision.refuse(
            Reason.REVOKED, _("This pass was revoked or replaced: the card no longer works.")
        )
    if household_pass.status == HouseholdPass.Status.EXPIRED or at > household_pass.valid_until:
        return decision.refuse(
            Reason.EXPIRED,
            _("This pass expired on %(date)s.")
            % {"date": f"{local(household_pass.valid_until):%Y-%m-%d %H:%M}"},
        )
    if at < household_pass.valid_from:
        return decision.refuse(
            Reason.NOT_YET_VALID,
            _("This pass is valid from %(date)s.")
            % {"date": f"{local(household_pass.valid_from):%Y-%m-%d %H:%M}"},
        )
    if household_pass.zone_id and not zone_is_controlled(household_pass.zone):
        return decision.refuse(
            Reason.ZONE_LIFTED,
            _("The zone this pass was issued for is no longer controlled: the pass no longer applies."),
        )
    if measure is not None and not (
        household_pass.kind == HouseholdPass.Kind.MEDICAL and measure.kind == MeasureKind.HOME_ISOLATION
    ):
        return decision.refuse(
            Reason.ISOLATING,
            _("%(name)s is under %(measure)s and may not go out.")
            % {"name": name, "measure": measure.get_kind_display()},
        )
    out = open_exit(person)
    if out is not None:
        return decision.refuse(
            Reason.ALREADY_OUT,
            _("%(name)s is already out (left %(time)s): record the return first.")
            % {"name": name, "time": f"{local(out.at):%m-%d %H:%M}"},
        )
    if household_pass.has_quota:
        starts_on = window_start(household_pass, at)
        decision.next_window = next_window(household_pass, at)
        used = _claim(household_pass, starts_on)
        if used is None:
            decision.remaining = 0
            return decision.refuse(
                Reason.QUOTA_USED,
                _(
                    "This window's exits are used (%(n)d per %(m)d days). The next window opens on %(date)s at 00:00."
                )
                % {
                    "n": household_pass.persons_per_window,
                    "m": household_pass.window_days,
                    "date": f"{decision.next_window:%Y-%m-%d}",
                },
            )
        decision.window_starts_on = starts_on
        decision.remaining = household_pass.persons_per_window - used
    decision.allowed = True
    decision.message = _("%(name)s may go out.") % {"name": name}
    return decision


def _replay(user, use):
    """The answer a recorded scan gave, for its retry."""
    if use.scanned_by_id != getattr(user, "pk", None):
        raise ValidationError(_("This client id belongs to another scan."), code="client_id")
    household_pass = use.household_pass
    decision = _Decision(use.direction)
    decision.allowed = use.outcome == PassUse.Outcome.ALLOWED
    decision.reason = use.reason
    decision.use = use
    name = mask_name(use.person.name)
    if decision.allowed:
        decision.message = (
            _("%(name)s may go out.") if use.direction == PassUse.Direction.EXIT else _("%(name)s is back.")
        ) % {"name": name}
    else:
        decision.message = use.get_reason_display()
    if household_pass.has_quota:
        decision.remaining = remaining(household_pass, use.at)
        decision.next_window = next_window(household_pass, use.at)
    outcome = decision.result(household_pass, use.person)
    outcome.replayed = True
    return outcome


def daily_scan_counts(checkpoints, start, end):
    """{(checkpoint id, local day): {"pass_exits": n, "pass_returns": n, "pass_refused": n}} of the
    scans at `checkpoints` (a queryset the caller scoped) between `start` and `end`: one grouped
    query, for the checkpoints' statistics (decision 0027)."""
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    rows = (
        PassUse.objects.filter(checkpoint__in=checkpoints, at__gte=start, at__lt=end)
        .order_by()
        .annotate(day=TruncDate("at"))
        .values("checkpoint_id", "day")
        .annotate(
            pass_exits=Count("id", filter=Q(direction=PassUse.Direction.EXIT, outcome=PassUse.Outcome.ALLOWED)),
            pass_returns=Count("id", filter=Q(direction=PassUse.Direction.RETURN, outcome=PassUse.Outcome.ALLOWED)),
            pass_refused=Count("id", filter=Q(outcome=PassUse.Outcome.REFUSED)),
        )
    )
    return {
        (r["checkpoint_id"], r["day"]): {k: r[k] for k in ("pass_exits", "pass_returns", "pass_refused")}
        for r in rows
    }

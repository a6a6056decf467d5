"""Supervision's one way in (decision 0030): raise, assign, start, submit with evidence, sign off,
send back, cancel, escalate; and for other apps `raise_item` (idempotent per open source record)
and `resolve_source` (the source's condition cleared: the system signs the item off).

Every move locks the item row, checks who may make it, then goes through `Item.transition` (the
conditional UPDATE): of two officers signing off and sending back at once exactly one wins, the
other is told what happened. A `user` of None is the system (a command, another app, the demo)."""

import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.areas.models import Area
from epigrid.audit.services import log_transition
from epigrid.core.scoping import may_at, within
from epigrid.supervision.models import Category, FoundBy, Item, ItemPhoto
from epigrid.supervision.photos import validate_photos

VIEW = "supervision.view_item"
RAISE = "supervision.add_item"
WORK = "supervision.change_item"
SIGN_OFF = "supervision.signoff_item"

S = Item.Status


def grace():
    """How long an escalated item waits at one level before it goes to the next."""
    return datetime.timedelta(hours=settings.EPIGRID_SUPERVISION_GRACE_HOURS)


def _text(value):
    return (value or "").strip()


def _needs_text(value, message, code):
    # Two letters or characters at least: "." or "ok" typed to get past the form is not a reason.
    if sum(ch.isalnum() for ch in _text(value)) < 2:
        raise ValidationError(message, code=code)
    return _text(value)


def _lock(item):
    return Item.objects.select_for_update(of=("self",)).select_related("area", "raised_in").get(pk=item.pk)


def _deadline(value):
    if isinstance(value, datetime.datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    if isinstance(value, datetime.date):
        # A day given is the end of that day: "by Friday" means Friday evening.
        return timezone.make_aware(datetime.datetime.combine(value, datetime.time(23, 59)))
    raise ValidationError(_("Give a deadline."), code="deadline")


def _name(user):
    return (user.get_full_name() or user.get_username()) if user else ""


# -- who ------------------------------------------------------------------------------------------


def may_be_responsible(user, area):
    """An official who may work on items of `area`: holds the right over it."""
    return user is not None and user.is_active and within(area.path, user.scope_paths(WORK))


def raising_level(user, area):
    """The level an item is raised at: the raiser's own grant area above it (a street officer
    raising for a community raises at the street); for the system, the level above the area."""
    if user is None:
        return area.parent or area
    paths = user.scope_paths(RAISE)
    if paths is None:
        return Area.objects.get(path="/" + area.path.strip("/").split("/")[0] + "/")
    covering = sorted((p for p in paths if area.path.startswith(p)), key=len)
    if not covering:
        raise PermissionDenied(_("You may not raise items in this area."))
    return Area.objects.get(path=covering[0])


def may_sign_off(user, item):
    return may_at(user, SIGN_OFF, item.raised_in)


def may_cancel(user, item):
    if user is None:
        return True
    if item.raised_by_id is not None:
        return item.raised_by_id == user.pk
    return may_sign_off(user, item)  # raised by the system: the level that signs it off


def _check_responsible(responsible, area):
    if responsible is not None and not may_be_responsible(responsible, area):
        raise ValidationError(
            _("%(name)s holds no right over %(area)s and cannot be responsible for it.")
            % {"name": _name(responsible), "area": area.name},
            code="responsible",
        )


# -- raising --------------------------------------------------------------------------------------


def source_key(source):
    return ContentType.objects.get_for_model(type(source)), source.pk


def open_item_for(source):
    content_type, pk = source_key(source)
    return Item.objects.filter(source_type=content_type, source_id=pk, status__in=Item.OPEN).first()


def open_system_items(model, category):
    """{source id: item} of the open items the system raised from records of `model` in
    `category` (a sweep resolves those whose record is no longer late)."""
    content_type = ContentType.objects.get_for_model(model)
    return {
        item.source_id: item
        for item in Item.objects.filter(
            source_type=content_type, category=category, found_by=FoundBy.SYSTEM, status__in=Item.OPEN
        )
    }


def raise_item(
    *,
    area,
    title,
    category,
    deadline,
    source=None,
    responsible=None,
    description="",
    found_by=FoundBy.SYSTEM,
    user=None,
    photos=(),
    source_label="",
    now=None,
):
    """A new item; for a `source` record with an open item already, that item (idempotent).
    With a responsible person it is assigned at once, without one it waits to be assigned."""
    now = now or timezone.now()
    if source is not None:
        existing = open_item_for(source)
        if existing is not None:
            return existing
    if user is not None and not may_at(user, RAISE, area):
        raise PermissionDenied(_("You may not raise items in this area."))
    due_at = _deadline(deadline)
    if user is not None and due_at <= now:
        raise ValidationError(_("The deadline must lie in the future."), code="deadline")
    title = _needs_text(title, _("Say what the problem is."), "title")
    if category not in Category.values or found_by not in FoundBy.values:
        # Other apps call this directly, past any form: an unknown category would never be listed.
        raise ValidationError(_("Unknown category or way of finding."), code="category")
    _check_responsible(responsible, area)
    photos = validate_photos(photos)
    item = Item(
        area=area,
        raised_in=raising_level(user, area),
        title=title[:120],
        description=_text(description),
        category=category,
        found_by=found_by,
        responsible=responsible,
        due_at=due_at,
        status=S.ASSIGNED if responsible else S.NEW,
        raised_by=user,
        raised_at=now,
    )
    if source is not None:
        item.source_type, item.source_id = source_key(source)
        item.source_label = (source_label or str(source))[:200]
    try:
        with transaction.atomic():
            item.save()
            _store_photos(item, photos, ItemPhoto.Kind.PROBLEM, user)
            log_transition(item, "", item.status, _text(description)[:200])
    except IntegrityError:
        if source is None:
            raise
        # Another process raised it for the same source between our look and our insert.
        return open_item_for(source)
    return item


def _store_photos(item, photos, kind, user):
    stored = []
    for upload in photos:
        photo = ItemPhoto(item=item, kind=kind, taken_by=user, round=item.reopen_count)
        photo.image.save(upload.name or "photo.jpg", upload, save=False)
        photo.save()
        stored.append(photo)
    return stored


def add_photos(user, item, photos, kind):
    """Photos of the problem (whoever may raise items there) or of the fix (the responsible
    person, while rectifying)."""
    photos = validate_photos(photos)
    if not photos:
        raise ValidationError(_("Choose a photo."), code="photo_missing")
    with transaction.atomic():
        item = _lock(item)
        if not item.is_open:
            raise ValidationError(_("This item is closed."), code="closed")
        if kind == ItemPhoto.Kind.EVIDENCE:
            _check_is_responsible(user, item)
            if item.status not in (S.ASSIGNED, S.RECTIFYING):
                raise ValidationError(_("Evidence is added while the item is being rectified."), code="state")
        elif user is not None and not may_at(user, RAISE, item.area) and user.pk != item.raised_by_id:
            raise PermissionDenied(_("You may not add photos of this problem."))
        return _store_photos(item, photos, kind, user)


# -- the moves ------------------------------------------------------------------------------------


def _check_is_responsible(user, item):
    if user is None:
        return
    if item.responsible_id != user.pk or not may_be_responsible(user, item.area):
        raise PermissionDenied(_("Only the responsible person works on this item."))


def assign(user, item, responsible, due_at=None, note=""):
    """Give an item its responsible person (and a new deadline); an item being worked on can be
    handed to someone else."""
    with transaction.atomic():
        item = _lock(item)
        if user is not None and not (may_at(user, RAISE, item.area) or may_sign_off(user, item)):
            raise PermissionDenied(_("You may not assign this item."))
        if item.status not in (S.NEW, S.ASSIGNED, S.RECTIFYING):
            raise ValidationError(
                _("An item that is “%(status)s” cannot be reassigned.")
                % {"status": item.get_status_display()},
                code="state",
            )
        if responsible is None:
            raise ValidationError(_("Choose the responsible person."), code="responsible")
        _check_responsible(responsible, item.area)
        fields = {"responsible": responsible}
        if due_at is not None:
            fields["due_at"] = _deadline(due_at)
        if item.status == S.NEW:
            return item.transition(S.ASSIGNED, _text(note) or _name(responsible), **fields)
        for name, value in fields.items():
            setattr(item, name, value)
        item.save()
        log_transition(item, item.status, item.status, "→ " + _name(responsible))
        return item


def start(user, item, now=None):
    with transaction.atomic():
        item = _lock(item)
        if item.status != S.ASSIGNED:
            raise ValidationError(_state_message(item, "start"), code="state")
        _check_is_responsible(user, item)
        return item.transition(S.RECTIFYING, started_at=now or timezone.now())


def submit(user, item, note, photos=(), now=None):
    """The fix, with what was done and — for problems seen on site — a photo of it."""
    photos = validate_photos(photos)
    note = _needs_text(note, _("Say what was done to fix the problem."), "evidence_note")
    with transaction.atomic():
        item = _lock(item)
        if item.status != S.RECTIFYING:
            raise ValidationError(_state_message(item, "submit"), code="state")
        _check_is_responsible(user, item)
        stored = _store_photos(item, photos, ItemPhoto.Kind.EVIDENCE, user)
        have = item.photos.filter(kind=ItemPhoto.Kind.EVIDENCE, round=item.reopen_count).exclude(
            pk__in=[p.pk for p in stored]
        ).count() + len(stored)
        if item.photo_required and not have:
            raise ValidationError(
                _("A photo of the fix is needed for a “%(category)s” problem.")
                % {"category": item.get_category_display()},
                code="evidence_photo",
            )
        return item.transition(S.SUBMITTED, note, submitted_at=now or timezone.now(), evidence_note=note)


def _check_signer(user, item):
    if user is None:
        return
    if user.pk == item.responsible_id:
        raise PermissionDenied(_("The responsible person cannot sign off or send back their own item."))
    if not may_sign_off(user, item):
        raise PermissionDenied(
            _("Only the level that raised this item (%(area)s) or a level above signs it off.")
            % {"area": item.raised_in.name}
        )


def sign_off(user, item, note="", now=None):
    """销号: someone other than the responsible person, at the raising level or above, checks the
    evidence and closes the item."""
    with transaction.atomic():
        item = _lock(item)
        if item.status != S.SUBMITTED:
            raise ValidationError(_state_message(item, "decide"), code="state")
        _check_signer(user, item)
        return item.transition(
            S.SIGNED_OFF,
            _text(note),
            signed_off_at=now or timezone.now(),
            signed_off_by=user,
            signoff_note=_text(note),
        )


def send_back(user, item, reason):
    """驳回: the fix does not hold; back to rectifying with the reason, counted as a reopening."""
    reason = _needs_text(reason, _("Say why the item is sent back."), "reason")
    with transaction.atomic():
        item = _lock(item)
        if item.status != S.SUBMITTED:
            raise ValidationError(_state_message(item, "decide"), code="state")
        _check_signer(user, item)
        return item.transition(S.RECTIFYING, reason, reopen_count=item.reopen_count + 1)


def cancel(user, item, reason):
    reason = _needs_text(reason, _("Say why the item is cancelled."), "reason")
    with transaction.atomic():
        item = _lock(item)
        if not item.is_open:
            raise ValidationError(_state_message(item, "cancel"), code="state")
        if not may_cancel(user, item):
            raise PermissionDenied(_("Only the one who raised this item cancels it."))
        return item.transition(S.CANCELLED, reason, cancel_reason=reason)


def resolve_source(source, note):
    """The condition behind a source's open item cleared (the report came in, the box arrived):
    the system signs the item off with `note`. None when the source has no open item."""
    item = open_item_for(source)
    if item is None:
        return None
    return resolve(item, note)


def resolve(item, note):
    """Sign off an item the system raised, its condition cleared (resolve_source by the item)."""
    with transaction.atomic():
        item = _lock(item)
        if not item.is_open:
            return item
        return item.transition(
            S.SIGNED_OFF,
            _text(note),
            signed_off_at=timezone.now(),
            signed_off_by=None,
            signoff_note=_text(note),
        )


def _state_message(item, move):
    """Why a move is refused, in words: what the item is now and what must come first."""
    if item.status == S.SIGNED_OFF:
        return _("This item is signed off already.")
    if item.status == S.CANCELLED:
        return _("This item is cancelled.")
    if move == "decide":
        return _("Only an item submitted with evidence can be signed off or sent back.")
    if item.status == S.NEW:
        return _("Assign the item to a responsible person first.")
    if item.status == S.SUBMITTED:
        return _("The item is submitted already and waits for sign-off.")
    if move == "submit":
        return _("Start the rectification first.")
    return _("Rectification has started already.")


# -- escalation -----------------------------------------------------------------------------------


def escalate_overdue(now=None):
    """Move every item past its deadline and not signed off one level up the area tree: to the
    parent of its area when first overdue, then to the next level each further grace period.
    Running it twice at the same moment changes nothing the second time. Returns the count."""
    now = now or timezone.now()
    waited = now - grace()
    due = (
        Item.objects.filter(status__in=Item.OPEN, due_at__lt=now)
        .filter(Q(escalation_level=0) | Q(escalated_at__lte=waited))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    moved = 0
    for pk in list(due):
        with transaction.atomic():
            item = Item.objects.select_for_update(of=("self",)).select_related("area", "escalated_to").get(pk=pk)
            if not _escalation_due(item, now, waited):
                continue
            above = (item.escalated_to or item.area).parent
            if above is None:
                continue  # at the top of the tree: nobody above to tell
            item.escalated_to = above
            item.escalation_level += 1
            item.escalated_at = now
            item.save(update_fields=["escalated_to", "escalation_level", "escalated_at"])
            log_transition(item, item.status, item.status, f"↑ {above.name}")
            moved += 1
    return moved


def _escalation_due(item, now, waited):
    if not item.is_open or item.due_at >= now:
        return False
    return item.escalation_level == 0 or (item.escalated_at is not None and item.escalated_at <= waited)


# -- reads ----------------------------------------------------------------------------------------


def overdue_q(now=None):
    """Open and past the deadline, live (whether or not escalate_overdue has run yet)."""
    return Q(status__in=Item.OPEN, due_at__lt=now or timezone.now())


def escalated_to_user_q(user):
    """Items escalated to one of the areas the user is posted at (their own level, not below)."""
    paths = user.scope_paths(VIEW)
    if paths is None:
        return Q(escalated_to__isnull=False)
    return Q(escalated_to__path__in=paths)


def escalated_to_user(user):
    return Item.objects.restrict(user).filter(escalated_to_user_q(user), status__in=Item.OPEN)


def figures(now=None):
    """The on-time figures as aggregates (cancelled items are left out by the callers)."""
    now = now or timezone.now()
    return {
        "received": Count("pk"),
        "signed_off": Count("pk", filter=Q(status=S.SIGNED_OFF)),
        "on_time": Count("pk", filter=Q(status=S.SIGNED_OFF, signed_off_at__lte=F("due_at"))),
        "overdue": Count("pk", filter=overdue_q(now)),
        "reopened": Count("pk", filter=Q(reopen_count__gt=0)),
        "escalated": Count("pk", filter=Q(escalation_level__gt=0)),
    }


FIGURE_NAMES = ("received", "signed_off", "on_time", "overdue", "reopened", "escalated")


def _rate(row):
    row["on_time_rate"] = round(100 * row["on_time"] / row["received"], 1) if row["received"] else None
    return row


def stats_by_area(queryset, root, now=None):
    """Figures per child of `root` (and the items filed on `root` itself), from one grouped query
    over the areas that hold items."""
    children = list(Area.objects.filter(parent=root).order_by("path"))
    rows = {a.path: {"area": a, **dict.fromkeys(FIGURE_NAMES, 0)} for a in [root, *children]}
    grouped = (
        queryset.exclude(status=S.CANCELLED)
        .filter(area__path__startswith=root.path)
        .values("area__path")
        .annotate(**figures(now))
        .order_by()
    )
    for group in grouped:
        path = group["area__path"]
        key = next((c.path for c in children if path.startswith(c.path)), root.path)
        for name in FIGURE_NAMES:
            rows[key][name] += group[name]
    ordered = [rows[c.path] for c in children]
    if any(rows[root.path][n] for n in FIGURE_NAMES):
        ordered.insert(0, rows[root.path])
    return [_rate(r) for r in ordered]


def stats_by_person(queryset, now=None):
    """Figures per responsible person, most items first."""
    from django.contrib.auth import get_user_model

    grouped = list(
        queryset.exclude(status=S.CANCELLED)
        .filter(responsible__isnull=False)
        .values("responsible")
        .annotate(**figures(now))
        .order_by("-received", "responsible")
    )
    users = get_user_model().objects.in_bulk([g["responsible"] for g in grouped])
    return [_rate({**g, "person": users.get(g["responsible"])}) for g in grouped]


def totals(rows):
    total = {name: sum(r[name] for r in rows) for name in FIGURE_NAMES}
    return _rate(total)

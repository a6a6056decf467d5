"""Named service functions of the people app (other apps call these, never model internals)."""

import datetime
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.audit.models import Action
from epigrid.audit.services import log_change, log_lookup, log_lookups_within, log_reveal
from epigrid.core import identity, reasons
from epigrid.people.models import Person
from epigrid.people.search import exact_terms, search_persons

REVEALABLE_FIELDS = ("doc_number", "phone", "birth_date")
logger = logging.getLogger(__name__)


class LookupLimitReached(ValidationError):
    """A role that may not reveal asked for more exact lookups than the limit allows."""


def may_reveal(user):
    return user is not None and user.is_authenticated and user.has_scoped_perm("people.reveal_person")


def charge_lookups(user, terms, limits=None):
    """Count exact document or phone lookups by a user who may not reveal (decision 0015).

    Trying candidate numbers against the masked ones is how a mask is undone, so each such
    lookup is logged (the term masked) and, past EPIGRID_LOOKUP_LIMITS (per hour, per day), refused
    with one LOOKUP_LIMIT row that the auditors see. Roles with the reveal right are not counted:
    they can see the number anyway, with a reason."""
    terms = [t for t in terms if t]
    if not terms or user is None or may_reveal(user):
        return
    # A post that checks persons all day (a checkpoint's gate) has limits of its own.
    per_hour, per_day = limits or settings.EPIGRID_LOOKUP_LIMITS
    now = timezone.now()
    hour_ago, day_ago = now - datetime.timedelta(hours=1), now - datetime.timedelta(days=1)
    masked = [identity.mask_lookup_term(term) for term in terms]
    within = log_lookups_within(Person, user, masked, hour_ago, day_ago, per_hour, per_day)
    if not within:
        log_lookup(Person, user, masked[0], refused=True)
        logger.warning("exact-lookup limit reached by %s", user.get_username())
        raise LookupLimitReached(
            _(
                "You have looked up too many full ID or phone numbers (at most %(hour)d an hour and "
                "%(day)d a day). The auditor has been told; ask your community officer if you need more."
            )
            % {"hour": per_hour, "day": per_day},
            code="lookup_limit",
        )


def near_misses(user, numbers):
    """Resident IDs, not registered, that look like a registered person in the user's scope as
    far as the mask shows (first and last four characters and the birth year): a file of such
    numbers tests candidates for a masked one. Empty for roles that may reveal."""
    if may_reveal(user):
        return []
    by_tail = {}
    for number in numbers:
        if len(number) == 18:
            by_tail.setdefault(number[-4:], []).append(number)
    tails, hits = sorted(by_tail), []
    for start in range(0, len(tails), 500):
        q = Q()
        for tail in tails[start : start + 500]:
            q |= Q(doc_number_rev__prefix=tail[::-1])
        known = Person.objects.restrict(user, "view").filter(q).values_list("doc_number", flat=True)
        for doc in known.iterator():
            hits += [
                n for n in by_tail.get(doc[-4:], ()) if n != doc and n[:4] == doc[:4] and n[6:10] == doc[6:10]
            ]
    return sorted(set(hits))


def search(user, queryset, text):
    """The search box for `user`: exact lookups charged (LookupLimitReached past the limit),
    tails no longer than the mask shows for a role that may not reveal."""
    charge_lookups(user, exact_terms(text))
    return search_persons(queryset, text, narrow=not may_reveal(user))


def find_by_document(doc_type, number):
    """The live record holding this document (following merges), or None."""
    try:
        number = identity.normalise_document(doc_type, number)
    except ValidationError:
        return None
    person = Person.objects.filter(doc_type=doc_type, doc_number=number).first()
    while person is not None and person.merged_into_id:
        person = person.merged_into
    return person


def reveal(person, reason):
    """Full personal data of one person, after a reason; the reveal is logged."""
    reason = reasons.clean_reason(reason)
    log_reveal(person, REVEALABLE_FIELDS, reason)
    return {"doc_number": person.doc_number, "phone": person.display_phone, "birth_date": person.birth_date}


@transaction.atomic
def merge(survivor, duplicate, reason=""):
    """Merge `duplicate` into `survivor`: every reference moves to the survivor; the duplicate
    stays as a record pointing at the survivor, so both histories remain readable."""
    if survivor.pk == duplicate.pk:
        raise ValidationError(_("A record cannot be merged with itself."))
    if survivor.is_merged or duplicate.is_merged:
        raise ValidationError(_("One of these records has already been merged."))
    moved = {}
    # include_hidden: relations declared with related_name="+" (household contact) move too.
    for rel in Person._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete) or rel.many_to_many:
            continue
        related = rel.related_model
        if related is Person or related._meta.auto_created:  # merge pointer, M2M through rows
            continue
        field = rel.field.name
        # A model with one row per person and something (a round) says how to fold the two.
        fold = getattr(related, "merge_persons", None)
        if fold is not None:
            count = fold(field, survivor, duplicate)
        else:
            count = related._default_manager.filter(**{field: duplicate}).update(**{field: survivor})
        if count:
            moved[f"{related._meta.label}.{field}"] = count
    for m2m in Person._meta.many_to_many:
        getattr(survivor, m2m.name).add(*getattr(duplicate, m2m.name).all())
    duplicate.merged_into = survivor
    duplicate.save(update_fields=["merged_into", "last_updated"])
    details = {"survivor": survivor.pk, "duplicate": duplicate.pk, "moved": moved}
    log_change(survivor, Action.MERGE, None, details, reason)
    log_change(duplicate, Action.MERGE, None, details, reason)
    return survivor

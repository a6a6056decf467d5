"""Named service functions of the people app (other apps call these, never model internals)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from epigrid.audit.models import Action
from epigrid.audit.services import log_change, log_reveal
from epigrid.core import identity
from epigrid.people.models import Person

REVEALABLE_FIELDS = ("doc_number", "phone")


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
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError(_("Give the reason for viewing full personal data."))
    log_reveal(person, REVEALABLE_FIELDS, reason)
    return {"doc_number": person.doc_number, "phone": person.display_phone}


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

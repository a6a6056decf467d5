"""Personal QR codes 个人核酸码: signed, revocable, without personal data in clear.

The code is "EPG1:<person id>.<version>:<signature>" (django.core.signing with its own salt, so no
other signed value of the site can pass for one). Revoking bumps `Person.code_version`: every
card printed before stops scanning. Samplers and checkpoints read codes only through
`read_code`/`read_codes`.

The code text carries the person's row id and nothing else about them: a photographed card
tells a stranger no name, number or address. It is still a credential (whoever holds it is
sampled as that person), so every image of it and every printed card leaves an audit row
(people/code_views.py)."""

import io

import segno
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.audit.models import Action
from epigrid.audit.services import log_change
from epigrid.core import reasons

PREFIX = "EPG1:"
_signer = signing.Signer(salt="epigrid.people.personal-code")


def make_code(person):
    return PREFIX + _signer.sign(f"{person.pk}.{person.code_version}")


def parse_code(text):
    """(person id, version) from a code's text, or ValidationError: not ours, or tampered with."""
    text = (text or "").strip()
    if not text.startswith(PREFIX):
        raise ValidationError(_("This QR code is not an epigrid personal code."), code="not_ours")
    try:
        value = _signer.unsign(text[len(PREFIX) :])
        pk, version = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        raise ValidationError(_("This personal code is damaged or forged."), code="bad_signature") from None
    return pk, version


def read_codes(texts):
    """{text: Person or ValidationError} for many codes in one query (the batch API)."""
    from epigrid.people.models import Person

    parsed, out = {}, {}
    for text in texts:
        try:
            parsed[text] = parse_code(text)
        except ValidationError as exc:
            out[text] = exc
    persons = Person.objects.in_bulk({pk for pk, _v in parsed.values()})
    for text, (pk, version) in parsed.items():
        person = persons.get(pk)
        if person is None:
            out[text] = ValidationError(
                _("This personal code belongs to no registered person."), code="unknown"
            )
        elif person.code_version != version:
            out[text] = ValidationError(
                _("This personal code was replaced by a newer one; ask for the new card."), code="revoked"
            )
        else:
            out[text] = person.merged_into if person.merged_into_id else person
    return out


def read_code(text):
    result = read_codes([text])[text]
    if isinstance(result, ValidationError):
        raise result
    return result


def qr(text, mask=None):
    """The QR symbol of a code. Level M (15% of the modules may be lost: a creased or smudged
    card still scans); never Micro QR, which phone cameras and desk scanners often do not read.

    Choosing the best of the eight masks is 80% of segno's work (17 ms a symbol, 50 s for a
    grid's 3,000 cards); the cards pass a fixed `mask`, which any reader accepts (the mask is
    in the symbol's format bits) and which costs nothing in readability here: the data is a
    signature, random-looking under any mask."""
    return segno.make(text, error="m", micro=False, mask=mask)


def svg(text):
    # Scale in the file only sets its natural size; the page sizes the image by CSS.
    out = io.BytesIO()
    qr(text).save(out, kind="svg", scale=8, border=4, light="#fff", xmldecl=False, svgns=True, title=None)
    return out.getvalue()


def png(text):
    # Saved to a phone and shown from its album: big enough for a desk scanner at arm's length.
    out = io.BytesIO()
    qr(text).save(out, kind="png", scale=10, border=4, light="#fff")
    return out.getvalue()


def clean_revoke_reason(text):
    """core.reasons' rule (an auditor must be able to read why), with a message about codes."""
    try:
        return reasons.clean_reason(text)
    except ValidationError:
        raise ValidationError(
            _("Give the reason for replacing the code (at least two letters or characters)."),
            code="reason",
        ) from None


def revoke(person, reason):
    """Replace the person's code (换码): every code made before, printed or photographed, stops
    scanning (read_code: "replaced by a newer one"). The reason is required and kept with the
    audit row (a lost card, a code someone else used, ...). Returns the new version."""
    reason = clean_revoke_reason(reason)
    from epigrid.people.models import Person

    with transaction.atomic():
        # One conditional UPDATE: two officers replacing the same code at once give two versions,
        # each with its audit row, and no lost increment.
        Person.objects.filter(pk=person.pk).update(
            code_version=F("code_version") + 1, last_updated=timezone.now()
        )
        person.refresh_from_db(fields=["code_version", "last_updated"])
        # The change is written here with its reason: an ordinary save would log it without one.
        person.snapshot()
        log_change(
            person,
            Action.UPDATE,
            {"code_version": person.code_version - 1},
            {"code_version": person.code_version},
            reason,
        )
    return person.code_version

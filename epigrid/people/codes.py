"""Personal QR codes 个人核酸码: signed, revocable, without personal data in clear.

The code is "EPG1:<person id>.<version>:<signature>" (django.core.signing with its own salt, so no
other signed value of the site can pass for one). Revoking bumps `Person.code_version`: every
card printed before stops scanning. Samplers and checkpoints read codes only through
`read_code`/`read_codes`."""

from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

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

"""The QR code of a pass: "EPP1:<pass id>.<version>:<signature>" (django.core.signing with its own
salt, as people.codes does for personal codes), so no other signed value of the site passes for
one. It carries no personal data: a photographed card names nobody. Revoking bumps the pass's
`code_version`, and every card printed before stops scanning."""

from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PREFIX = "EPP1:"
_signer = signing.Signer(salt="epigrid.passes.household-pass")


def make_code(household_pass):
    return PREFIX + _signer.sign(f"{household_pass.pk}.{household_pass.code_version}")


def parse_code(text):
    """(pass id, version), or ValidationError: not a pass code, or tampered with."""
    text = (text or "").strip()
    if not text.startswith(PREFIX):
        raise ValidationError(_("This QR code is not an epigrid pass."), code="not_ours")
    try:
        value = _signer.unsign(text[len(PREFIX) :])
        pk, version = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        raise ValidationError(_("This pass code is damaged or forged."), code="unknown") from None
    return pk, version

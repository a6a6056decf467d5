"""Validation and normalisation of identity documents, phones and masking of personal data.

Resident IDs are checked by length, check digit and birth date only. The region code says
where the ID was issued, and codes of abolished or renamed counties stay on valid cards, so an
unknown region code is never a reason to reject (see docs/decisions/0003-resident-id.md).
"""

import datetime
import re
import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import ric

DOC_RESIDENT_ID = "111"


def normalise_text(value):
    """Full-width to half-width (NFKC), drop all whitespace, upper-case."""
    value = unicodedata.normalize("NFKC", str(value or ""))
    return "".join(value.split()).upper()


def validate_resident_id(value, today=None):
    """Return the normalised 18-character resident ID or raise ValidationError."""
    number = normalise_text(value)
    if len(number) != 18:
        raise ValidationError(
            _("A resident ID has 18 characters; this one has %(n)d.") % {"n": len(number)}, code="length"
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError(_("A resident ID is 17 digits followed by a digit or X."), code="format")
    try:
        # What stdnum's ric.get_birth_date does after its character clean-up, which this number
        # (already normalised: 17 digits and a digit or X) does not need; the clean-up was most of
        # the time a desk scan spent in validation.
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The birth date in this resident ID is not a real date."), code="birth_date"
        ) from None
    today = today or datetime.date.today()
    if birth > today or birth.year < 1880:
        raise ValidationError(_("The birth date in this resident ID is impossible."), code="birth_date")
    if ric.calc_check_digit(number) != number[17]:
        raise ValidationError(
            _("The check digit of this resident ID is wrong: mistyped or not a real ID."), code="checksum"
        )
    return number


def resident_id_facts(number):
    """Sex ('M'/'F') and birth date read from a valid resident ID."""
    return ("M" if int(number[16]) % 2 else "F"), ric.get_birth_date(number)


def normalise_document(doc_type, value):
    if doc_type == DOC_RESIDENT_ID:
        return validate_resident_id(value)
    number = normalise_text(value)
    if not number:
        raise ValidationError(_("The document number is empty."), code="required")
    if len(number) > 32 or not number.isalnum():
        raise ValidationError(_("A document number has at most 32 letters and digits."), code="format")
    return number


def _mainland_mobile_patterns():
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    return [
        re.compile(desc.national_number_pattern)
        for desc in (metadata.general_desc, metadata.mobile)
        if desc is not None and desc.national_number_pattern
    ]


_MOBILE_PATTERNS = _mainland_mobile_patterns()
_ELEVEN_DIGITS = re.compile(r"1[0-9]{10}")


def normalise_phone(value):
    """E.164 form of a valid phone number (mainland numbers may be given without +86).

    An 11-digit mainland mobile number, by far the commonest input, is checked against
    phonenumbers' own patterns for China without parsing: parsing is most of the time of
    cleaning an imported row."""
    raw = normalise_text(value).replace("-", "")
    if (
        _ELEVEN_DIGITS.fullmatch(raw)
        and len(_MOBILE_PATTERNS) == 2
        and all(p.fullmatch(raw) for p in _MOBILE_PATTERNS)
    ):
        return "+86" + raw
    return normalise_phone_by_parsing(value)


def normalise_phone_by_parsing(value):
    """normalise_phone through phonenumbers' full parser (every number the short cut does not take)."""
    raw = normalise_text(value).replace("-", "")
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("%(value)s is not a phone number.") % {"value": value}, code="phone"
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("%(value)s is not a valid phone number.") % {"value": value}, code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164):
    """Mainland numbers without +86, others in international form."""
    if not e164:
        return ""
    if e164.startswith("+86"):
        return e164[3:]
    return e164


def mask_document(number):
    """6201**********1234 for an 18-character resident ID; other documents keep about a sixth.

    What stays visible must not narrow the number to a few candidates (issue 7): a resident ID
    keeps its first and last four characters (with the birth year, the only birth detail shown,
    about 3,300 numbers remain, and exact lookups are throttled); a passport such as E12345678
    keeps one leading and two trailing characters (a million numbers remain); numbers of five
    characters or fewer are hidden entirely."""
    if not number:
        return ""
    n = len(number)
    if n == 18:
        head, tail = 4, 4
    elif n >= 12:
        head, tail = 2, 3
    elif n >= 8:
        head, tail = 1, 2
    elif n >= 6:
        head, tail = 1, 1
    else:
        head, tail = 0, 0
    return number[:head] + "*" * (n - head - tail) + number[n - tail :]


def mask_lookup_term(term):
    """A searched number as the audit log keeps it: a phone as 138****5678, a document masked."""
    term = normalise_text(term)
    if term.startswith("+") or (len(term) == 11 and term.startswith("1") and term.isdigit()):
        return mask_phone(term if term.startswith("+") else "+86" + term)
    return mask_document(term)


# Numbers inside free text (a filter's query string, a reason someone typed): resident IDs and
# mainland mobiles, with or without +86, not inside a longer run of digits.
_ID_IN_TEXT = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])(?:\+?86)?1[3-9][0-9]{9}(?![0-9])")


def mask_text(text):
    """Free text with every resident ID and mobile number in it masked."""
    text = _ID_IN_TEXT.sub(lambda m: mask_document(m.group().upper()), text)
    return _MOBILE_IN_TEXT.sub(lambda m: mask_phone("+86" + m.group()[-11:]), text)


def mask_phone(e164):
    """138****5678: first three and last four digits kept."""
    shown = display_phone(e164)
    if len(shown) < 8:
        return "*" * len(shown)
    return shown[:3] + "*" * (len(shown) - 7) + shown[-4:]


def make_resident_id(region, birth_date, sequence):
    """A well-formed resident ID (demo data and tests): 6-digit region, birth date, 3-digit sequence."""
    body = f"{region}{birth_date:%Y%m%d}{sequence % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character


def mask_name(name):
    """张*明 / 张* / J*** S***: enough for a sampler to confirm the person before them, not enough
    to name a stranger from a typed-in number."""
    name = (name or "").strip()
    if not name:
        return ""
    if " " in name:  # Latin names: initials of each word
        return " ".join(w[0] + "*" * (len(w) - 1) for w in name.split())
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


class PhoneFields:
    """For a model holding phone numbers (a staff member's, an outlet's, an enterprise contact's):
    `clean()` normalises each of `phone_fields` through `normalise_phone` (errors by field, with
    whatever else the model's own clean finds) and `masked(field)` is what a role without the reveal
    right sees. One mechanism instead of the same dozen lines on every such model."""

    phone_fields = ("phone",)

    def phone_errors(self):
        """Normalise the phone fields in place; {field: messages} of those that are not phones."""
        errors = {}
        for name in self.phone_fields:
            value = getattr(self, name)
            if value:
                try:
                    setattr(self, name, normalise_phone(value))
                except ValidationError as exc:
                    errors[name] = exc.messages
        return errors

    def clean(self):
        super().clean()
        errors = self.phone_errors()
        if errors:
            raise ValidationError(errors)

    def masked(self, name="phone"):
        value = getattr(self, name)
        return mask_phone(value) if value else ""

    @property
    def masked_phone(self):
        return self.masked(self.phone_fields[0])

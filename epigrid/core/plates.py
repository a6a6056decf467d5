"""Chinese vehicle plates (机动车号牌, GA 36): normalised and validated without a database, like the
resident ID in core/identity.py.

- Regular plates: a province abbreviation, the issuing office's letter, then five letters or digits
  (letters never I or O), optionally one of the special suffixes 学 警 挂 港 澳 领 试 超: 甘A12345,
  甘A1234学.
- New-energy plates (8 characters): small vehicles have D (pure electric) or F (hybrid) third,
  then a letter or digit and four digits (甘AD12345, 粤BF1A234 is not valid); large vehicles have
  five digits and D or F last (甘A12345D).
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_LETTER = "A-HJ-NP-Z"
_REGULAR = re.compile(rf"^[{PROVINCES}][{_LETTER}][{_LETTER}0-9]{{4}}[{_LETTER}0-9学警挂港澳领试超]$")
_NEW_ENERGY_SMALL = re.compile(rf"^[{PROVINCES}][{_LETTER}][DF][{_LETTER}0-9][0-9]{{4}}$")
_NEW_ENERGY_LARGE = re.compile(rf"^[{PROVINCES}][{_LETTER}][0-9]{{5}}[DF]$")


def normalise_plate(value):
    """Full-width to half-width, upper case, without spaces, dots and dashes ("甘A·12345" → "甘A12345");
    refused with the reason when it is no plate."""
    text = unicodedata.normalize("NFKC", value or "").upper()
    text = re.sub(r"[\s·.\-_]", "", text)
    if not text:
        raise ValidationError(_("Enter the plate number."), code="plate_empty")
    if text[0] not in PROVINCES:
        raise ValidationError(
            _("A plate starts with a province's abbreviation (甘, 京, 粤 ...)."), code="plate_province"
        )
    if len(text) == 8:
        if _NEW_ENERGY_SMALL.match(text) or _NEW_ENERGY_LARGE.match(text):
            return text
        raise ValidationError(
            _("An eight-character plate is a new-energy plate: D or F third (甘AD12345) or last (甘A12345D)."),
            code="plate_new_energy",
        )
    if len(text) == 7 and _REGULAR.match(text):
        return text
    raise ValidationError(
        _("Not a valid plate: a province, a letter and five letters or digits (甘A12345); no I or O."),
        code="plate_invalid",
    )


def is_new_energy(plate):
    return len(plate) == 8

"""Reasons for seeing full personal data (a reveal, a full-data export).

A reason is what an auditor reads later, so it must say something: the usual ones are offered to
pick, free text is allowed, and text that is empty once invisible characters, spaces and
punctuation are dropped ("..", zero-width spaces) is refused."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# The reasons offices give, offered first; "other" asks for the text.
COMMON_REASONS = (
    gettext_lazy("Contact-tracing verification"),
    gettext_lazy("Assistance request from another area"),
    gettext_lazy("Required by a superior"),
    gettext_lazy("Requested by the person"),
    gettext_lazy("Checking a duplicate record"),
)
MIN_REASON_CHARS = 2


def clean_reason(text):
    """The reason with outer spaces trimmed, or ValidationError when it says nothing."""
    text = unicodedata.normalize("NFKC", str(text or "")).strip()
    meaningful = [c for c in text if unicodedata.category(c)[0] in ("L", "N")]
    if len(meaningful) < MIN_REASON_CHARS:
        raise ValidationError(
            _("Give the reason for viewing full personal data (at least two letters or characters)."),
            code="reason",
        )
    return text[:500]

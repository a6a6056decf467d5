"""One search box: name, full ID, last 4+ ID characters, or phone. Every branch hits an index
(name prefix, document number, reversed document number, phone)."""

import contextlib
import re

from django.core.exceptions import ValidationError
from django.db.models import Q

from epigrid.core.identity import normalise_phone, normalise_text

_ID_TAIL = re.compile(r"^[0-9X]{4,}$")


def search_persons(queryset, text):
    term = normalise_text(text)
    if not term:
        return queryset
    q = Q(name__startswith=term) | Q(doc_number=term)
    if _ID_TAIL.match(term):
        q |= Q(doc_number_rev__startswith=term[::-1])
    if term.isdigit() or term.startswith("+"):
        with contextlib.suppress(ValidationError):
            q |= Q(phone=normalise_phone(term))
    return queryset.filter(q)

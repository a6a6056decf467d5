"""One search box: a name, a full document number, its last 4+ characters, or a phone.

What the term looks like decides where it is looked for, so every query is a few index ranges
(docs/decisions/0010-person-search-at-scale.md):

- only digits, X and + (spaces and dashes ignored): the document number, its last 4+ characters
  (a prefix of the indexed reversed number) and the phone — never the name;
- anything else: a prefix of the name, matched as typed (full-width letters and digits become
  half-width, outer spaces are trimmed; case and inner spaces count). A term of letters and
  digits (a passport number such as E12345678) is also looked up as a whole document number.

Prefixes (of the name, of the reversed number) are ranges in code-point order, `name__prefix`
and `doc_number_rev__prefix` (CodePointPrefix): on PostgreSQL through the explicit `COLLATE "C"`
indexes of migration 0005, whatever the database's own collation is; SQLite compares text by code
point already. Name matches come in that order too. The autocomplete uses name__prefix as well.
"""

import contextlib
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import F, Lookup, Q
from django.db.models.functions import Collate

from epigrid.core.identity import normalise_phone, normalise_text

_DOCUMENT_OR_PHONE = re.compile(r"[0-9X+]*[0-9][0-9X+]*")
_ID_TAIL = re.compile(r"[0-9X]{4,}")
_DOCUMENT = re.compile(r"[0-9A-Z]*(?:[0-9][A-Z]|[A-Z][0-9])[0-9A-Z]*")
# Above every character a name can hold: [term, term + _TOP) is every name starting with term.
_TOP = "\U0010ffff"


# A role without the reveal right sees the last four characters of a number; a longer tail would
# tell it the hidden ones one by one (decision 0015), so it searches tails of exactly this length.
SHOWN_TAIL = 4


def search_persons(queryset, text, narrow=False):
    """`narrow`: the searcher may not reveal numbers, so tails are searched only as long as the
    mask shows them (longer digit terms are whole numbers; see exact_terms)."""
    name = unicodedata.normalize("NFKC", str(text or "")).strip()
    if not name:
        return queryset
    compact = normalise_text(name).replace("-", "")  # no spaces, upper case
    if _DOCUMENT_OR_PHONE.fullmatch(compact):
        return queryset.filter(_document_or_phone(compact, narrow))
    q = Q(name__prefix=name)
    if _DOCUMENT.fullmatch(compact) and len(compact) <= 32:
        q |= Q(doc_number=compact)
    return queryset.filter(q).order_by(_code_point_name(queryset).asc(), "id")


def exact_terms(text):
    """The whole numbers (document or phone) a search for `text` tests: what a role without the
    reveal right is charged for (people.services.charge_lookups)."""
    compact = normalise_text(unicodedata.normalize("NFKC", str(text or ""))).replace("-", "")
    if len(compact) <= SHOWN_TAIL:
        return []
    if _DOCUMENT_OR_PHONE.fullmatch(compact) or (_DOCUMENT.fullmatch(compact) and len(compact) <= 32):
        return [compact]
    return []


def _document_or_phone(term, narrow=False):
    q = Q(doc_number=term)
    if _ID_TAIL.fullmatch(term) and (not narrow or len(term) == SHOWN_TAIL):
        q |= Q(doc_number_rev__prefix=term[::-1])
    if term.isdigit() or term.startswith("+"):
        with contextlib.suppress(ValidationError):
            q |= Q(phone=normalise_phone(term))
    return q


def _code_point_name(queryset):
    """The name in code-point order, the order of the name__prefix index."""
    if connections[queryset.db].vendor == "postgresql":
        return Collate("name", "C")
    return F("name")  # SQLite's default BINARY collation compares UTF-8 bytes: code point order


class CodePointPrefix(Lookup):
    """`name__prefix="王"`: the values starting with "王", as the range [value, value + U+10FFFF) in
    code-point order. A prefix is a range only in that order: under the database's default
    collation (en_US.UTF-8, zh_CN.UTF-8, ...) "jones" falls between "Jo" and "Jo" + U+10FFFF. So on
    PostgreSQL both sides compare under COLLATE "C" (the indexes of migration 0005, whose
    statistics also give the planner true row estimates, which LIKE on a pattern index does not);
    SQLite compares by code point anyway. Case and inner spaces count; the value is taken as typed.
    """

    lookup_name = "prefix"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            lhs = f'({lhs} COLLATE "C")'
        value = str(self.rhs)
        return f"({lhs} >= %s AND {lhs} < %s)", [*lhs_params, value, *lhs_params, value + _TOP]

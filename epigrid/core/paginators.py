"""The one paginator of every list page: counts exactly up to a cap, then stops counting.

An exact COUNT(*) over a million rows costs more than the page itself. `CappedPaginator` counts
at most `cap + 1` rows (`SELECT COUNT(*) FROM (… LIMIT cap + 1)`): below the cap the count is
exact; above it the list says "10,000+ results". The count always reaches one row past the page
asked for, so page links, "next" and deep pages keep working however far the user goes.
"""

import contextlib

from django.core.paginator import InvalidPage, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_CAP = 10_000


def _queryset_of(object_list):
    """The QuerySet behind object_list: itself, or the one django-tables2 wraps (rows.data.data)."""
    for _depth in range(3):
        if isinstance(object_list, QuerySet):
            return object_list
        object_list = getattr(object_list, "data", None)
    return None


class CappedPaginator(Paginator):
    cap = COUNT_CAP

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, cap=None, **kwargs):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page, **kwargs)
        if cap is not None:
            self.cap = cap
        self._wanted = 1

    def page(self, number):
        # Remember the page asked for before anything counts: the count must reach past it.
        with contextlib.suppress(TypeError, ValueError):
            self._wanted = max(1, int(number))
        return super().page(number)

    def validate_number(self, number):
        try:
            return super().validate_number(number)
        except InvalidPage:
            if not self.capped or self._wanted * int(self.per_page) <= self.limit:
                raise
            # Counted (capped) before this deeper page was asked for: count again, this far.
            for name in ("limit", "count", "num_pages"):
                self.__dict__.pop(name, None)
            return super().validate_number(number)

    @cached_property
    def limit(self):
        """Rows counted exactly; one row more means "more than this"."""
        return max(self.cap, self._wanted * int(self.per_page))

    @cached_property
    def count(self):
        """The number of rows, but at most limit + 1."""
        queryset = _queryset_of(self.object_list)
        if queryset is None:
            return min(len(self.object_list), self.limit + 1)
        if not queryset.query.distinct_fields:  # DISTINCT ON needs its ORDER BY
            queryset = queryset.order_by()  # any limit + 1 rows will do, and the cheapest
        return queryset[: self.limit + 1].count()

    @property
    def capped(self):
        """More rows exist than were counted: show `shown_count` followed by "+"."""
        return self.count > self.limit

    @property
    def shown_count(self):
        return self.limit if self.capped else self.count

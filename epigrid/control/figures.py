"""Figures of the key-person ledger for other apps' reports (reports.live, decision 0029): counts in
an area's subtree (by the entry's responsible area path) for one day."""

from django.db.models import Count

from epigrid.control.models import Category, KeyPerson

ARRIVAL_CATEGORIES = (
    Category.HIGH_RISK_ARRIVAL,
    Category.MEDIUM_RISK_ARRIVAL,
    Category.LOW_RISK_ARRIVAL,
    Category.INBOUND,
)


def key_persons_by_category(area, day):
    """{category: n} of the entries under control on `day`: open now and identified by then (the
    ledger keeps no per-day history of releases, so a past day counts today's open entries)."""
    rows = (
        KeyPerson.objects.filter(
            area__path__startswith=area.path, status=KeyPerson.Status.OPEN, identified_on__lte=day
        )
        .values("category")
        .annotate(n=Count("id"))
    )
    found = {c.value: 0 for c in Category}
    found.update({r["category"]: r["n"] for r in rows})
    return found


def arrivals(area, day):
    """Arrivals entered in the ledger (any source: checkpoint, self-report, 协查) who arrived on `day`."""
    return KeyPerson.objects.filter(
        area__path__startswith=area.path, category__in=ARRIVAL_CATEGORIES, arrival=day
    ).count()


def new_key_persons(area, day, categories):
    """Entries of these categories identified on `day` (new fever cases, new contacts...)."""
    return KeyPerson.objects.filter(
        area__path__startswith=area.path, category__in=categories, identified_on=day
    ).count()

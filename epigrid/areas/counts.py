"""Household and person counts per area node, rolled up from grids in one grouped query each."""

from collections import Counter

from django.db.models import Count

from epigrid.areas.models import Area, Household
from epigrid.people.models import Person


def _rolled_up(queryset, nodes):
    # COUNT(*): an index-only count per area (people's person_area_live) when no other column is read.
    per_area = dict(queryset.order_by().values_list("area").annotate(n=Count("*")))
    paths = dict(Area.objects.filter(pk__in=per_area).values_list("pk", "path"))
    by_path = Counter()
    for area_id, n in per_area.items():
        by_path[paths[area_id]] += n
    return {node.pk: sum(n for path, n in by_path.items() if path.startswith(node.path)) for node in nodes}


def subtree_counts(user, root, nodes):
    """({node.pk: households}, {node.pk: persons}) for nodes inside `root`, within the user's scope."""
    households = Household.objects.restrict(user, "view").filter(area__path__startswith=root.path)
    persons = Person.objects.restrict(user, "view").filter(
        area__path__startswith=root.path, merged_into__isnull=True
    )
    return _rolled_up(households, nodes), _rolled_up(persons, nodes)

"""Supervision's figures for other apps (the community daily report's live "problems found")."""

import datetime

from django.utils import timezone

from epigrid.supervision.models import Item


def items_raised(area, day):
    """Problems raised in `area`'s subtree on `day` (any way of finding, any state since)."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return Item.objects.filter(
        area__path__startswith=area.path,
        raised_at__gte=start,
        raised_at__lt=start + datetime.timedelta(days=1),
    ).count()

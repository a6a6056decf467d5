"""Figures of assistance requests for other apps' reports (reports.live, decision 0029)."""

import datetime

from django.utils import timezone

from epigrid.assistance.models import AssistPerson


def persons_answered(area, day):
    """Persons of 协查 lists assigned in the area's subtree and answered on `day`."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return AssistPerson.objects.filter(
        area__path__startswith=area.path,
        answered_at__gte=start,
        answered_at__lt=start + datetime.timedelta(days=1),
    ).count()

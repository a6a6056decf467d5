"""Figures of mass testing for other apps' reports (reports.live, decision 0029): counts in an
area's subtree for one local day."""

import datetime

from django.utils import timezone

from epigrid.testing.models import SampledPerson, SweepVisit


def _day(day):
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def persons_tested(area, day):
    """Persons sampled for the first time in a round on `day`, filed under their grid."""
    start, end = _day(day)
    return SampledPerson.objects.filter(
        area__path__startswith=area.path, sampled_at__gte=start, sampled_at__lt=end
    ).count()


def sweep_visits(area, day):
    """Door-to-door sweep visits 扫楼 recorded on `day`."""
    start, end = _day(day)
    return SweepVisit.objects.filter(
        area__path__startswith=area.path, visited_at__gte=start, visited_at__lt=end
    ).count()

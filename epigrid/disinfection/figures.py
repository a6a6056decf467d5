"""Figures for the community daily report (wired into reports/live.py): the disinfection tasks of
an area's subtree on a day — due in that day's rounds, and done — so a report's "sites disinfected"
comes from the rounds the teams completed rather than a number typed from memory."""

from django.db.models import Count, Q

from epigrid.disinfection.models import Task


def tasks_on(area, day):
    """{"due": n, "done": n}: the tasks of `day`'s rounds filed under `area`'s subtree. One query."""
    return Task.objects.filter(area__path__startswith=area.path, round__date=day).aggregate(
        due=Count("pk"), done=Count("pk", filter=Q(status=Task.Status.DONE))
    )

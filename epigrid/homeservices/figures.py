"""Figures for the community daily report (the lead wires them into reports/live.py): requests
opened and closed in an area's subtree within a report window. Closed = confirmed by the requester
or cancelled; a request done but not yet confirmed is still open for the report."""

from django.db.models import Count, Q

from epigrid.homeservices.models import ServiceRequest


def requests_in_window(area, start, end):
    """{"opened": n, "closed": n, "open_now": n, "overdue": n} for `area`'s subtree; `start` and
    `end` are aware datetimes, the window [start, end). One query."""
    rows = ServiceRequest.objects.filter(area__path__startswith=area.path)
    return rows.aggregate(
        opened=Count("pk", filter=Q(requested_at__gte=start, requested_at__lt=end)),
        closed=Count("pk", filter=Q(closed_at__gte=start, closed_at__lt=end)),
        open_now=Count("pk", filter=Q(status__in=ServiceRequest.OPEN, requested_at__lt=end)),
        overdue=Count("pk", filter=Q(status__in=ServiceRequest.OPEN, due_at__lt=end)),
    )

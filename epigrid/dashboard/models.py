"""The tiles' counts per area for the whole city, taken every few seconds (decision 0032,
addendum 2): one row, replaced whole by `dashboard.snapshot.refresh`."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TileSnapshot(models.Model):
    day = models.DateField(_("day counted"))
    taken_at = models.DateTimeField(_("taken at"))
    # How long the counting took (the figure the bench and the page's footnote report).
    seconds = models.FloatField(_("seconds to count"), default=0)
    # {tile key: {area path: rows filed under that area}}: every area with at least one row.
    counts = models.JSONField(_("counts"), default=dict)
    # {series: {area path: {day: n}}} over the trend window ending on `day`.
    trends = models.JSONField(_("trends"), default=dict)
    # {round id: {grid id: [residents, sampled, exempt]}} for the running rounds and the last finished.
    coverage = models.JSONField(_("coverage"), default=dict)

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")

    def __str__(self):
        return f"{self.day} {self.taken_at:%H:%M:%S}"

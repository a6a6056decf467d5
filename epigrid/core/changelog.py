"""Central change logging (style habit 5).

Models inherit ChangeLoggedModel. Each instance keeps a snapshot of its field values as
loaded; one receiver (in the audit app) compares it with the saved values and writes the
change row. Bulk writes that bypass signals go through `log_bulk` explicitly.
"""

import datetime
import decimal
import uuid

from django.db import models
from django.db.models.signals import post_init

_UNLOGGED_FIELDS = {"created", "last_updated"}


def to_json_value(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value


class ChangeLoggedModel(models.Model):
    created = models.DateTimeField(auto_now_add=True, null=True, editable=False)
    last_updated = models.DateTimeField(auto_now=True, null=True, editable=False)

    # Fields shown masked in the audit log view; the log itself keeps the true values.
    personal_fields = ()

    class Meta:
        abstract = True

    def serialize_for_log(self):
        # __dict__ instead of getattr: reading a deferred field would cost a query per row.
        return {
            f.attname: to_json_value(self.__dict__[f.attname])
            for f in self._meta.concrete_fields
            if f.attname in self.__dict__ and f.attname not in _UNLOGGED_FIELDS
        }

    def snapshot(self):
        self._prechange = self.serialize_for_log()

    @property
    def scope_area_path(self):
        """Area path the change row is filed under, so auditors see only their subtree."""
        lookup = getattr(type(self), "scope_lookup", None)
        if not lookup:
            return ""
        obj = self
        for part in lookup.split("__"):
            obj = getattr(obj, part, None)
            if obj is None:
                return ""
        return obj


def _snapshot_on_load(sender, instance, **kwargs):
    if isinstance(instance, ChangeLoggedModel):
        instance.snapshot()


post_init.connect(_snapshot_on_load, dispatch_uid="epigrid_changelog_snapshot")

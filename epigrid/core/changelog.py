"""Central change logging (style habit 5).

Models inherit ChangeLoggedModel. Each instance keeps a snapshot of its field values as
loaded; one receiver (in the audit app) compares it with the saved values and writes the
change row. Bulk writes that bypass signals go through `log_bulk` explicitly.
"""

import datetime
import decimal
import uuid

from django.core.files import File
from django.db import models
from django.db.models.signals import post_init

_UNLOGGED_FIELDS = {"created", "last_updated"}


def to_json_value(value):
    if isinstance(value, File):  # an uploaded file (photo) as its stored name
        return value.name or ""
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

    def serialize_for_log(self, values=None):
        # __dict__ instead of getattr: reading a deferred field would cost a query per row.
        values = self.__dict__ if values is None else values
        return {
            f.attname: to_json_value(values[f.attname])
            for f in self._meta.concrete_fields
            if f.attname in values and f.attname not in _UNLOGGED_FIELDS
        }

    def snapshot(self):
        # The values as loaded, copied shallowly at C speed (a list page loads hundreds of rows it
        # never saves); turned into the log's JSON only when a save or delete compares them.
        loaded = self.__dict__.copy()
        loaded.pop("_loaded", None)
        self._loaded = loaded

    @property
    def _prechange(self):
        loaded = self.__dict__.get("_loaded")
        return None if loaded is None else self.serialize_for_log(loaded)

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

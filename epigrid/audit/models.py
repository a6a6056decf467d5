from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.core.scoping import RestrictedQuerySet


class Action(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    REVEAL = "reveal", _("Revealed personal data")
    MERGE = "merge", _("Merged")
    EXPORT = "export", _("Exported")
    # An exact document or phone lookup by a role that may not reveal (people.services.charge_lookups);
    # LOOKUP_LIMIT marks the one that went over the limit and was refused: the auditor's alert.
    LOOKUP = "lookup", _("Exact number lookup")
    LOOKUP_LIMIT = "lookup_limit", _("Exact lookups over the limit")


class ObjectChange(models.Model):
    """One row per change or personal-data reveal: who, when, which request, before/after."""

    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    user_name = models.CharField(_("user name"), max_length=150, blank=True)
    request_id = models.UUIDField(_("request id"), null=True, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=16)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("object type")
    )
    object_id = models.BigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200)
    area_path = models.CharField(max_length=255, db_index=True, blank=True)
    prechange_data = models.JSONField(_("before"), null=True, blank=True)
    postchange_data = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    scope_lookup = "area_path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("change")
        verbose_name_plural = _("audit log")
        ordering = ["-time", "-id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="objectchange_object"),
            # A user's recent lookups are counted on every exact search (people.services).
            models.Index(fields=["user", "action", "time"], name="objectchange_user_action"),
            # The audit page's filters: by user name and by action, newest first.
            models.Index(fields=["user_name", "time"], name="objectchange_user_name"),
            models.Index(fields=["action", "time"], name="objectchange_action"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr}"

    @property
    def changed_fields(self):
        before, after = self.prechange_data or {}, self.postchange_data or {}
        return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


class Transition(models.Model):
    """One row per workflow state change (core.workflow): the history shown on a record's page."""

    time = models.DateTimeField(_("time"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    user_name = models.CharField(_("user name"), max_length=150, blank=True)
    request_id = models.UUIDField(_("request id"), null=True, blank=True)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("object type")
    )
    object_id = models.BigIntegerField(_("object id"))
    source = models.CharField(_("from"), max_length=32)
    target = models.CharField(_("to"), max_length=32)
    note = models.TextField(_("note"), blank=True)
    area_path = models.CharField(max_length=255, db_index=True, blank=True)

    scope_lookup = "area_path"
    objects = RestrictedQuerySet.as_manager()

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        ordering = ["time", "id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="transition_object")]

    def __str__(self):
        return f"{self.source} → {self.target}"

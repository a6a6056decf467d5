from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from epigrid.audit.models import Action
from epigrid.audit.services import log_change, log_transition
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.workflow import transitioned


@receiver(post_save, dispatch_uid="audit_post_save")
def on_save(sender, instance, created, raw=False, **kwargs):
    if raw or not isinstance(instance, ChangeLoggedModel):
        return
    after = instance.serialize_for_log()
    if created:
        log_change(instance, Action.CREATE, None, after)
    else:
        before = getattr(instance, "_prechange", None)
        if before != after:
            changed = {k for k in set(before or {}) | set(after) if (before or {}).get(k) != after.get(k)}
            log_change(
                instance,
                Action.UPDATE,
                {k: (before or {}).get(k) for k in changed},
                {k: after.get(k) for k in changed},
            )
    instance.snapshot()


@receiver(post_delete, dispatch_uid="audit_post_delete")
def on_delete(sender, instance, **kwargs):
    if isinstance(instance, ChangeLoggedModel):
        log_change(instance, Action.DELETE, getattr(instance, "_prechange", None), None)


@receiver(m2m_changed, dispatch_uid="audit_m2m")
def on_m2m(sender, instance, action, model, pk_set, **kwargs):
    if not isinstance(instance, ChangeLoggedModel) or action not in ("post_add", "post_remove", "post_clear"):
        return
    field = next(
        (f.name for f in type(instance)._meta.many_to_many if f.remote_field.through is sender),
        sender.__name__,
    )
    verb = {"post_add": "added", "post_remove": "removed", "post_clear": "cleared"}[action]
    log_change(instance, Action.UPDATE, None, {field: {verb: sorted(pk_set or [])}})


@receiver(transitioned, dispatch_uid="audit_transition")
def on_transition(sender, instance, source, target, note="", **kwargs):
    log_transition(instance, source, target, note)

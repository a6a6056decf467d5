from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CheckpointsConfig(AppConfig):
    name = "epigrid.checkpoints"
    label = "checkpoints"
    verbose_name = _("Checkpoints")

    def ready(self):
        from epigrid.checkpoints import exports  # noqa: F401 (registers the exports)
        from epigrid.checkpoints.panels import today_arrivals
        from epigrid.core import panels

        # Arrivals handed to a community head its work list the minute the gate records them.
        panels.register_page(panels.TODAY, "checkpoints/_today_arrivals.html", today_arrivals)

        # The gate keeps the active protocol, the zones in force and who is posted where a few
        # seconds per process: a save here clears them at once (other processes follow on their own).
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from epigrid.checkpoints.models import Checkpoint
        from epigrid.checkpoints.services import forget_cached
        from epigrid.control.models import Protocol, Zone

        for model in (Protocol, Zone, Checkpoint):
            post_save.connect(forget_cached, sender=model, dispatch_uid=f"gate-cache-{model.__name__}")
            post_delete.connect(forget_cached, sender=model, dispatch_uid=f"gate-cache-del-{model.__name__}")
        m2m_changed.connect(forget_cached, sender=Checkpoint.staff.through, dispatch_uid="gate-cache-staff")
        # Who is posted where is a right: the other processes learn of a change through the auth
        # epoch (decision 0040), as of a changed grant.
        from epigrid.accounts.throttle import move_auth_epoch

        post_save.connect(move_auth_epoch, sender=Checkpoint, dispatch_uid="gate-epoch-checkpoint")
        post_delete.connect(move_auth_epoch, sender=Checkpoint, dispatch_uid="gate-epoch-checkpoint-del")
        m2m_changed.connect(move_auth_epoch, sender=Checkpoint.staff.through, dispatch_uid="gate-epoch-staff")

"""Workflow transitions (style habit 6): one method checks the allowed next states, saves, and
sends `transitioned`, which the audit app turns into a history row. Models list their
transitions as data: TRANSITIONS = {from_state: {to_state, ...}}."""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.dispatch import Signal
from django.utils.translation import gettext as _

transitioned = Signal()  # sender=model class; kwargs: instance, source, target, note, fields


class WorkflowModel(models.Model):
    TRANSITIONS = {}
    status_field = "status"

    class Meta:
        abstract = True

    def allowed_transitions(self):
        return set(self.TRANSITIONS.get(getattr(self, self.status_field), ()))

    def transition(self, target, note="", **fields):
        """Move to `target`, also setting `fields`; refused with a clear message if not allowed.
        Concurrent callers cannot both move from the same state: the UPDATE is conditional."""
        source = getattr(self, self.status_field)
        if target not in self.allowed_transitions():
            raise ValidationError(
                _("Cannot go from “%(source)s” to “%(target)s”.")
                % {"source": self._label(source), "target": self._label(target)},
                code="invalid_transition",
            )
        with transaction.atomic():
            claimed = (
                type(self)
                ._default_manager.filter(pk=self.pk, **{self.status_field: source})
                .update(**{self.status_field: target})
            )
            if not claimed:
                raise ValidationError(
                    _("Someone else changed this record first; reload and try again."), code="stale"
                )
            # The conditional UPDATE claimed the move; save() writes the other fields and the change log.
            setattr(self, self.status_field, target)
            for name, value in fields.items():
                setattr(self, name, value)
            self.save()
            transitioned.send(
                type(self), instance=self, source=source, target=target, note=note, fields=fields
            )
        return self

    def _label(self, state):
        field = self._meta.get_field(self.status_field)
        return str(dict(field.flatchoices).get(state, state))

"""Area scoping (style habits 1-3): one mechanism for every read and write.

A model declares `scope_lookup`, the ORM path from the model to an area path string (for
example "area__path"), and uses `RestrictedQuerySet.as_manager()`. A user's grants become a Q of
`startswith` filters on that indexed path; users supply `scope_paths(perm)` (accounts.User).
"""

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

ACTIONS = ("view", "add", "change", "delete")


class ScopeViolation(PermissionDenied):
    """A write would leave the object outside the writer's scope."""


def perm_name(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def collapse_paths(paths):
    """Drop paths that lie under another path of the list: fewer, disjoint OR terms."""
    kept = []
    for path in sorted(set(paths)):
        if not any(path.startswith(k) for k in kept):
            kept.append(path)
    return kept


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action="view", perm=None):
        """Rows in the subtrees where `user` holds `perm` (by default app.<action>_<model>)."""
        lookup = self.model.scope_lookup
        perm = perm or perm_name(self.model, action)
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        paths = user.scope_paths(perm)
        if paths is None:  # unrestricted (superuser, or grants covering every root)
            return self
        if not paths:
            return self.none()
        q = models.Q()
        for path in paths:
            q |= models.Q(**{f"{lookup}__startswith": path})
        return self.filter(q)


def check_in_scope(user, obj, action):
    """After a write inside a transaction: refuse if the object left the user's scope."""
    model = type(obj)
    if not model.objects.restrict(user, action).filter(pk=obj.pk).exists():
        raise ScopeViolation(_("The record would fall outside your area scope, so it was not saved."))

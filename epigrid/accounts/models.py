from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from epigrid.accounts.roles import BOUND_ROLES, ROLE_CHOICES, role_permissions
from epigrid.core.changelog import ChangeLoggedModel
from epigrid.core.scoping import collapse_paths


class User(AbstractUser):
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def _grant_rows(self):
        # One query per request: grants and their area paths are cached on the instance.
        if not hasattr(self, "_grant_cache"):
            self._grant_cache = list(self.grants.select_related("area").values_list("role", "area__path"))
        return self._grant_cache

    def scope_paths(self, perm, bound=None):
        """Area paths where this user holds `perm`; None means everywhere.

        `bound` picks grants by kind for models with a `scope_binding` (core.scoping): True only
        bound roles' grants (reaching only the user's posts), False only the others, None all, a
        role name only that role's grants (a binding that maps each bound role to its own path)."""
        if self.is_superuser:
            return [] if bound else None
        cache = self.__dict__.setdefault("_scope_cache", {})
        key = (perm, bound)
        if key not in cache:
            paths = collapse_paths(
                path
                for role, path in self._grant_rows()
                if perm in role_permissions(role) and _picked(role, bound)
            )
            # Grants covering every root need no filter at all: the commander's list stays fast.
            everywhere = paths and set(paths) >= self._roots() and not bound
            cache[key] = None if everywhere else paths
        return cache[key]

    def _roots(self):
        if "_root_cache" not in self.__dict__:
            self._root_cache = _root_paths()
        return self._root_cache

    def has_scoped_perm(self, perm):
        return self.scope_paths(perm) != []

    @property
    def roles(self):
        return sorted({role for role, _path in self._grant_rows()})


def _picked(role, bound):
    if bound is None:
        return True
    if isinstance(bound, str):
        return role == bound
    return (role in BOUND_ROLES) == bound


def _root_paths():
    from epigrid.areas.models import Area

    return set(Area.objects.filter(parent__isnull=True).values_list("path", flat=True))


class Grant(ChangeLoggedModel):
    """A role held over an area subtree. Grants are audited like any other change."""

    scope_lookup = "area__path"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="grants", verbose_name=_("user"))
    role = models.CharField(_("role"), max_length=32, choices=ROLE_CHOICES)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.CASCADE, related_name="grants", verbose_name=_("area")
    )

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        constraints = [models.UniqueConstraint(fields=["user", "role", "area"], name="grant_unique")]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.area}"

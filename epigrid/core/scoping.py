"""Area scoping (style habits 1-3): one mechanism for every read and write.

A model declares `scope_lookup`, the ORM path from the model to an area path string (for
example "area__path"), and uses `RestrictedQuerySet.as_manager()`. A user's grants become a Q of
`startswith` filters on that indexed path; users supply `scope_paths(perm)` (accounts.User).

Two optional refinements, both declared by the model:
- `scope_binding`: the ORM path from the model to the users posted there (for example
  "point__staff"). Grants of a bound role (accounts.roles.BOUND_ROLES: a sampler, a lab's staff)
  reach only the rows of the posts the user is on, inside the grant's subtree; other roles' grants
  ignore it. Where bound roles are posted through different paths (a transport box: samplers at
  its point, lab staff at its lab) the binding maps role → path,
  {"sampler": "point__staff", "lab_staff": "lab__staff"}; a bound role the map does not name
  reaches no row of that model. Users supply `scope_paths(perm, bound=...)`: False for the
  unbound roles' grants, True for every bound role's, a role name for that role's.
- `scope_upward = True`: viewing also reaches rows filed on an ancestor of the user's area (a
  round drawn for the district is seen by the grid worker who sweeps part of it). Only "view":
  changing still needs the row inside the user's subtree.
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
        model = self.model
        lookup = model.scope_lookup
        perm = perm or perm_name(model, action)
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        binding = getattr(model, "scope_binding", None)
        paths = user.scope_paths(perm, bound=False if binding else None)
        if paths is None:  # unrestricted (superuser, or grants covering every root)
            return self
        q = models.Q()
        for path in paths:
            q |= models.Q(**{f"{lookup}__startswith": path})
        # Upward reach is for viewing only: asked for another permission by name (restrict(user,
        # perm="app.change_x")), it must not let a street officer change the district's round.
        upward = perm == perm_name(model, "view") and getattr(model, "scope_upward", False)
        if upward and paths:
            q |= models.Q(**{f"{lookup}__in": ancestor_paths(paths)})
        reached = bool(paths)
        for role, path_to_staff in bindings(binding):
            bound = user.scope_paths(perm, bound=role)
            if not bound:
                continue
            # A subquery, not a join: joining the posts' staff would repeat rows under an OR.
            posted = models.Q(pk__in=model._base_manager.filter(**{path_to_staff: user}).values("pk"))
            within = models.Q()
            for path in bound:
                within |= models.Q(**{f"{lookup}__startswith": path})
            q |= within & posted
            reached = True
        if not reached:
            return self.none()
        return self.filter(q)


def bindings(binding):
    """A model's `scope_binding` as (grants, path to the posted users) pairs: one path for every
    bound role (True), or a path per role name."""
    if not binding:
        return []
    if isinstance(binding, str):
        return [(True, binding)]
    return sorted(binding.items())


def within(path, paths):
    """Whether `path` lies in one of the subtrees `paths` (None: everywhere), as `scope_paths` gives."""
    return paths is None or any(path.startswith(p) for p in paths)


def may_at(user, perm, area):
    """Whether `user` holds `perm` over `area` (no user: a command or the demo, which may)."""
    return user is None or within(area.path, user.scope_paths(perm))


def may(user, obj, action="change", perm=None):
    """Whether `user` may `action` this object — or hold `perm` (e.g. "isolation.add_reading") where
    it lies: it is in their scope for that right (one query)."""
    return type(obj).objects.restrict(user, action, perm=perm).filter(pk=obj.pk).exists()


def may_path(user, model, path, action="view", posted=False):
    """Whether an object of `model` filed at area `path` is in `user`'s scope for `action`, decided
    in memory by restrict()'s rule; `posted`: the user is on the object's post (its
    scope_binding's staff), which the caller knows. For a hot path that has the object's area at
    hand; everywhere else restrict() and may() are the rule."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    perm = perm_name(model, action)
    binding = getattr(model, "scope_binding", None)
    paths = user.scope_paths(perm, bound=False if binding else None)
    if paths is None or within(path, paths):
        return True
    upward = action == "view" and getattr(model, "scope_upward", False)
    if upward and paths and path in ancestor_paths(paths):
        return True
    return posted and any(within(path, user.scope_paths(perm, bound=role) or []) for role, _ in bindings(binding))


def check_in_scope(user, obj, action):
    """After a write inside a transaction: refuse if the object left the user's scope."""
    if not may(user, obj, action):
        raise ScopeViolation(_("The record would fall outside your area scope, so it was not saved."))


def ancestor_paths(paths):
    """'/1/2/3/' -> {'/1/', '/1/2/'}: the paths above each given one."""
    found = set()
    for path in paths:
        parts = path.strip("/").split("/")
        found.update("/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts)))
    return sorted(found)

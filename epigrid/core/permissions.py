"""DRF permission for scoped models; kept apart from core.api because DRF imports it while
its own modules are still loading."""

from rest_framework import permissions

from epigrid.core.scoping import perm_name

ACTION_FOR_METHOD = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ScopedPermission(permissions.BasePermission):
    """Authenticated, and holding the model permission somewhere. Which objects is decided
    by the scoped queryset: out of scope is 404, in scope but read-only is 403."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        # Let the change log see token-authenticated users (see core.middleware).
        request._request._epigrid_api_user = user
        model = getattr(view, "queryset", None)
        if model is None:
            return True
        action = getattr(view, "scope_action", None) or ACTION_FOR_METHOD.get(request.method, "change")
        return user.has_scoped_perm(perm_name(model.model, action))

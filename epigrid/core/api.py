"""Generic scoped API pieces: the same restrict() as pages, the same filtersets."""

from django.db import transaction
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied

from epigrid.core.permissions import ACTION_FOR_METHOD
from epigrid.core.scoping import ScopeViolation, check_in_scope


class ScopedModelViewSet(viewsets.ModelViewSet):
    """Reads through restrict(user, 'view'); writes re-check scope after saving, in one transaction."""

    def get_queryset(self):
        return self.queryset.model.objects.restrict(self.request.user, "view").select_related(
            *getattr(self, "select_related", ())
        )

    def get_object(self):
        obj = super().get_object()
        action = ACTION_FOR_METHOD.get(self.request.method, "view")
        if (
            action != "view"
            and not type(obj).objects.restrict(self.request.user, action).filter(pk=obj.pk).exists()
        ):
            raise PermissionDenied()
        return obj

    def _save_in_scope(self, serializer, action):
        try:
            with transaction.atomic():
                obj = serializer.save()
                check_in_scope(self.request.user, obj, action)
        except ScopeViolation as exc:
            raise PermissionDenied(str(exc)) from None

    def perform_create(self, serializer):
        self._save_in_scope(serializer, "add")

    def perform_update(self, serializer):
        self._save_in_scope(serializer, "change")


class _ScopedRelatedMixin:
    """Related objects can only be chosen from the requesting user's scope."""

    def get_queryset(self):
        request = self.context.get("request")
        qs = super().get_queryset()
        return qs.restrict(request.user, "view") if request is not None else qs.none()


class ScopedPrimaryKeyRelatedField(_ScopedRelatedMixin, serializers.PrimaryKeyRelatedField):
    pass


class ScopedSlugRelatedField(_ScopedRelatedMixin, serializers.SlugRelatedField):
    pass

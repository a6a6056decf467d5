"""Generic scoped API pieces: the same restrict() as pages, the same filtersets."""

import copy

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings

from epigrid.core.permissions import ACTION_FOR_METHOD
from epigrid.core.scoping import ScopeViolation, check_in_scope


class _ScopedViewMixin:
    select_related = ()
    prefetch_related = ()
    # Extra actions name the restrict() action their object needs: @action(..., object_action="reveal").
    object_action = None

    @property
    def scope_action(self):
        """What ScopedPermission asks of the user before any object is looked up.

        On detail routes only 'view' somewhere: get_object then answers 404 outside the user's
        view scope and 403 inside it, so holding the permission elsewhere (or not at all) never
        turns an invisible object into a 403 that would tell it exists."""
        if self.detail:
            return "view"
        return self.object_action or ACTION_FOR_METHOD.get(self.request.method, "change")

    def get_queryset(self):
        qs = self.queryset.model.objects.restrict(self.request.user, "view")
        # Guarded: select_related() without arguments would follow every foreign key.
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def filter_queryset(self, queryset):
        # Filters belong to lists; default filters (such as hiding merged persons) must not
        # make a record's own URL answer 404.
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    def get_object(self):
        obj = super().get_object()
        action = self.object_action or ACTION_FOR_METHOD.get(self.request.method, "view")
        if (
            action != "view"
            and not type(obj).objects.restrict(self.request.user, action).filter(pk=obj.pk).exists()
        ):
            raise PermissionDenied()
        return obj


class ScopedReadOnlyModelViewSet(_ScopedViewMixin, viewsets.ReadOnlyModelViewSet):
    """Reads through restrict(user, 'view')."""


class ScopedModelViewSet(_ScopedViewMixin, viewsets.ModelViewSet):
    """Reads through restrict(user, 'view'); writes re-check scope after saving, in one transaction."""

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

    def destroy(self, request, *args, **kwargs):
        try:
            return super().destroy(request, *args, **kwargs)
        except ProtectedError:
            # A 500 would hide a plain business rule: records still referring to this one.
            return Response(
                {"detail": _("Other records still refer to this one, so it cannot be deleted.")},
                status=status.HTTP_409_CONFLICT,
            )


class _ScopedRelatedMixin:
    """Related objects can only be chosen from the requesting user's scope; `scope_action`
    narrows the choice further when the relation changes the chosen object (e.g. merging)."""

    def __init__(self, *args, scope_action="view", **kwargs):
        self.scope_action = scope_action
        super().__init__(*args, **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        qs = super().get_queryset()
        return qs.restrict(request.user, self.scope_action) if request is not None else qs.none()


class ScopedPrimaryKeyRelatedField(_ScopedRelatedMixin, serializers.PrimaryKeyRelatedField):
    pass


class ScopedSlugRelatedField(_ScopedRelatedMixin, serializers.SlugRelatedField):
    pass


class ModelCleanMixin:
    """Runs the model's clean() on the validated values, so the API enforces the same rules as
    the forms (ModelForms call it; DRF does not). Values clean() normalises are taken over."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        m2m = {f.name for f in model._meta.many_to_many}
        plain = {k: v for k, v in attrs.items() if k not in m2m}
        # A copy: a refused update must leave the instance the view holds untouched.
        candidate = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in plain.items():
            setattr(candidate, name, value)
        try:
            candidate.clean()
        except DjangoValidationError as exc:
            errors = serializers.as_serializer_error(exc)
            if NON_FIELD_ERRORS in errors:  # Django's "__all__" is DRF's non_field_errors
                errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
            raise serializers.ValidationError(errors) from None
        return {**attrs, **{name: getattr(candidate, name) for name in plain}}


def call_service(fn, *args, **kwargs):
    """A service call with its refusals as API errors: rules broken → 400 with the service's
    message, no right → 403. The viewsets' actions call their app's services through it."""
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
    from django.core.exceptions import ValidationError as DjangoValidationError
    from rest_framework.exceptions import PermissionDenied

    try:
        return fn(*args, **kwargs)
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from None
    except DjangoValidationError as exc:
        raise serializers.ValidationError(serializers.as_serializer_error(exc)) from None

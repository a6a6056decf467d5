"""Generic scoped views (style habits 1, 3, 4). Per-model views are a few declarative lines."""

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.forms import ModelChoiceField
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DeleteView, DetailView, UpdateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from epigrid.core.forms import style_form
from epigrid.core.paginators import CappedPaginator
from epigrid.core.scoping import ScopeViolation, check_in_scope, may, perm_name
from epigrid.core.widgets import option_label


class ScopedViewMixin(LoginRequiredMixin):
    model = None
    action = "view"

    def get_queryset(self):
        return self.model.objects.restrict(self.request.user, self.action)

    def can(self, action):
        return self.request.user.has_scoped_perm(perm_name(self.model, action))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["model_meta"] = self.model._meta
        ctx["can_add"] = self.can("add")
        ctx["can_change"] = self.can("change")
        return ctx


class ObjectListView(ScopedViewMixin, SingleTableMixin, FilterView):
    template_name = "core/object_list.html"
    paginate_by = 50  # rows per page of the table (the table paginates; ListView does not)
    paginator_class = CappedPaginator
    add_url_name = None
    export_name = None  # a registered export (jobs.exports) offered with the list's filters
    import_name = None  # a registered ledger (jobs.imports) offered for upload

    def dispatch(self, request, *args, **kwargs):
        # A module the user holds no grant for at all is forbidden, not just empty.
        if request.user.is_authenticated and not self.can("view"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_paginate_by(self, queryset):
        # Only the table paginates: ListView paginating too would count every list twice.
        return None

    def get_table_pagination(self, table):
        return {"per_page": self.paginate_by, "paginator_class": self.paginator_class}

    def get_filterset_kwargs(self, filterset_class):
        # Always bound: default filters (such as hiding merged records) apply to the bare list too.
        return {**super().get_filterset_kwargs(filterset_class), "data": self.request.GET}

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        style_form(filterset.form)
        return filterset

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["add_url_name"] = self.add_url_name
        ctx["export_name"] = self.export_name
        ctx["import_name"] = self.import_name
        ctx["can_reveal"] = self.can("reveal")
        return ctx


class ObjectDetailView(ScopedViewMixin, DetailView):
    pass


def restrict_form_choices(form, user):
    """Choices of related objects are limited to what the user may see."""
    for field in form.fields.values():
        if isinstance(field, ModelChoiceField) and hasattr(field.queryset, "restrict"):
            field.queryset = field.queryset.restrict(user, "view")
    return form


class ObjectEditView(ScopedViewMixin, UpdateView):
    """Create (no pk) or update. Out of scope: 404; in scope but read-only: 403;
    a save that would move the object out of scope is rolled back with a form error."""

    template_name = "core/object_edit.html"
    # False: the view only edits (records are made by their services, not by this form).
    creates = True

    def get_object(self, queryset=None):
        if "pk" not in self.kwargs:
            if not self.creates:
                raise Http404
            if not self.can("add"):
                raise PermissionDenied
            return None
        obj = get_object_or_404(self.model.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])
        if not self.model.objects.restrict(self.request.user, "change").filter(pk=obj.pk).exists():
            raise PermissionDenied
        return obj

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        restrict_form_choices(form, self.request.user)
        return style_form(form)

    def form_valid(self, form):
        action = "change" if form.instance.pk else "add"
        try:
            with transaction.atomic():
                self.object = form.save()
                check_in_scope(self.request.user, self.object, action)
        except ScopeViolation as exc:
            form.add_error(None, str(exc))
            return self.form_invalid(form)
        messages.success(self.request, _("Saved %(object)s.") % {"object": self.object})
        return redirect(self.get_success_url())

    def get_success_url(self):
        return self.object.get_absolute_url()


class ObjectDeleteView(ScopedViewMixin, DeleteView):
    template_name = "core/object_delete.html"
    action = "delete"

    def get_object(self, queryset=None):
        obj = get_object_or_404(self.model.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])
        if not self.model.objects.restrict(self.request.user, "delete").filter(pk=obj.pk).exists():
            raise PermissionDenied
        return obj


def no_store(response):
    """Neither the browser nor a proxy keeps a copy (a credential, a document with personal data)."""
    response["Cache-Control"] = "no-store"
    return response


def safe_next(request, default, field="next"):
    """The URL of this site posted (or asked for) in `field`, else `default`: a form may send the
    user back to the page it was on, never to another site."""
    target = request.POST.get(field) or request.GET.get(field) or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def refusal_text(exc):
    """What a refused write (ValidationError, or PermissionDenied with a message) tells the user."""
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


class TransitionView(LoginRequiredMixin, View):
    """One POSTed move of a record through its service, the one way every page makes one
    (decision 0039). In order: without `permission` anywhere → 403; the record outside the user's
    view scope → 404; without `object_permission` where it lies → 403; a step someone else took
    meanwhile (`stale`) → said, nothing changed; the form (POST and FILES)
    with errors → each error a message (or the page's own answer, `form_invalid`), nothing changed; the service (`move`) refusing with a
    ValidationError or a PermissionDenied that says why → that message, nothing changed (a bare
    PermissionDenied stays a 403); done → `success_message`. Then back to the record — the one
    the move returned — or to the page the form named in `next` (`next_urls`).

    A move is a subclass declaring what differs and `move(obj, data)` calling the service."""

    http_method_names = ["post"]
    model = None
    related = ()  # select_related of the record's read
    permission = None  # a scoped permission the user must hold somewhere, e.g. services.WORK
    # Needed where the record lies: a permission name (core.scoping.may) or callable(user, obj).
    object_permission = None
    form_class = None  # None: a move without fields (data is {})
    label_errors = False  # "Label: error" rather than the bare error
    success_message = None  # formatted with {context_object_name: the moved record}
    context_object_name = "object"
    # What the service raises to refuse; a page that shows only ValidationError lets a
    # PermissionDenied with a message answer 403 as well.
    refusals = (ValidationError, PermissionDenied)
    next_field = "next"
    next_urls = {}  # a posted `next` value → a URL name, or callable(obj) → a URL

    def post(self, request, *args, **kwargs):
        if self.permission and not request.user.has_scoped_perm(self.permission):
            raise PermissionDenied
        self.object = self.get_object()
        if not self.has_object_permission(self.object):
            raise PermissionDenied
        gone = self.stale(self.object)
        if gone:
            messages.error(request, gone)
            return redirect(self.get_redirect_url(self.object))
        form = self.form = self.get_form()  # a move may want the form itself (self.form)
        if form is not None and not form.is_valid():
            return self.form_invalid(form) or redirect(self.get_redirect_url(self.object))
        try:
            moved = self.move(self.object, form.cleaned_data if form is not None else {})
        except self.refusals as exc:
            if isinstance(exc, PermissionDenied) and not str(exc):
                raise
            # Known to be in view: saying why the move is refused tells nothing new.
            self.refused(exc)
            return redirect(self.get_redirect_url(self.object))
        moved = self.object if moved is None else moved
        self.succeeded(moved)
        return redirect(self.get_redirect_url(moved))

    def get_queryset(self):
        return self.model.objects.restrict(self.request.user, "view").select_related(*self.related)

    def get_object(self):
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def has_object_permission(self, obj):
        check = self.object_permission
        if check is None:
            return True
        if getattr(check, "__self__", None) is self:
            check = check.__func__  # a function set on the class, not a method of the view
        if callable(check):
            return check(self.request.user, obj)
        return may(self.request.user, obj, perm=check)

    def stale(self, obj):
        """Why this move no longer applies to `obj` — a page left open while someone else moved the
        record — said before the form is read; None: it applies (the service still decides)."""
        return None

    def get_form_kwargs(self):
        return {"data": self.request.POST, "files": self.request.FILES}

    def get_form(self):
        return self.form_class(**self.get_form_kwargs()) if self.form_class else None

    def form_invalid(self, form):
        """Each error a message (then back); a page may return its own response instead."""
        for field, errors in form.errors.items():
            label = form.fields[field].label if self.label_errors and field in form.fields else ""
            for error in errors:
                messages.error(self.request, f"{label}: {error}" if label else error)

    def move(self, obj, data):
        """Call the service; return the moved record (None: `obj`)."""
        raise NotImplementedError

    def refused(self, exc):
        messages.error(self.request, refusal_text(exc))

    def get_success_message(self, moved):
        if self.success_message:
            return self.success_message % {self.context_object_name: moved}
        return None

    def succeeded(self, moved):
        message = self.get_success_message(moved)
        if message:
            messages.success(self.request, message)

    def get_redirect_url(self, obj):
        target = self.next_urls.get(self.request.POST.get(self.next_field, ""))
        if target is None:
            return obj.get_absolute_url()
        return target(obj) if callable(target) else reverse(target)


def get_scoped_or_404(model, user, pk, action="view"):
    try:
        return model.objects.restrict(user, action).get(pk=pk)
    except (model.DoesNotExist, ValueError):
        raise Http404 from None


MAX_OPTIONS = 20
# The surrogate and natural keys forms use (AutocompleteSelect's to_field_name); never a personal
# field, which an option value would show unmasked.
OPTION_KEYS = ("pk", "id", "code")


def _is_option_key(model, key):
    if key not in OPTION_KEYS or key == "pk":
        return key == "pk"
    try:
        field = model._meta.get_field(key)
    except FieldDoesNotExist:
        return False
    return field.concrete and (field.primary_key or field.unique)


def options_view(request, label):
    """Matching <option>s for AutocompleteSelect: scoped, at most MAX_OPTIONS, every word of the
    term matching one of the model's `autocomplete_lookups`."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        raise Http404 from None
    lookups = getattr(model, "autocomplete_lookups", None)
    if not lookups:
        raise Http404
    key = request.GET.get("key") or "pk"
    if not _is_option_key(model, key):
        return HttpResponseBadRequest(
            _("This list has no such key."), content_type="text/plain; charset=utf-8"
        )
    queryset = model.objects.restrict(request.user, "view")
    if request.GET.get("everywhere") and getattr(model, "autocomplete_everywhere", False):
        # Choices that are not personal data and may lie outside the user's areas (the
        # receiving area of a hand-over); the model says so.
        queryset = model.objects.all()
    queryset = queryset.select_related(*getattr(model, "autocomplete_select_related", ()))
    for word in request.GET.get("term", "").split()[:5]:
        q = Q()
        for lookup in lookups:
            q |= Q(**{lookup: word})
        queryset = queryset.filter(q)
    options = [(getattr(obj, key), option_label(obj)) for obj in queryset[:MAX_OPTIONS]]
    return TemplateResponse(request, "core/widgets/options.html", {"options": options})

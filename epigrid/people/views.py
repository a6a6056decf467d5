from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView

from epigrid.core import panels
from epigrid.core.views import (
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    ScopedViewMixin,
    get_scoped_or_404,
)
from epigrid.people import services
from epigrid.people.filtersets import PersonFilterSet
from epigrid.people.forms import MergeForm, PersonForm, RevealForm
from epigrid.people.models import Person
from epigrid.people.tables import PersonTable


class PersonListView(ObjectListView):
    model = Person
    table_class = PersonTable
    filterset_class = PersonFilterSet
    add_url_name = "people:person_add"
    export_name = "persons"
    import_name = "residents"

    def get_queryset(self):
        return super().get_queryset().select_related("area", "household__building").prefetch_related("tags")


class PersonDetailView(ObjectDetailView):
    model = Person
    template_name = "people/person_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("area", "household__building", "merged_into")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        ctx["can_reveal"] = user.has_scoped_perm("people.reveal_person")
        ctx["can_merge"] = Person.objects.restrict(user, "change").filter(
            pk=self.object.pk
        ).exists() and user.has_scoped_perm("people.merge_person")
        ctx["reveal_form"] = RevealForm()
        ctx["merged_records"] = self.object.merged_records.restrict(user, "view")
        ctx["panels"] = panels.for_object(self.request, self.object)  # operation apps' panels
        return ctx


class PersonEditView(ObjectEditView):
    model = Person
    form_class = PersonForm

    def get_initial(self):
        # "Add member" on a household page pre-selects that household.
        initial = super().get_initial()
        household = self.request.GET.get("household", "")
        if household.isdigit():
            initial["household"] = household
        return initial

    def post(self, request, *args, **kwargs):
        if "pk" not in kwargs:
            existing = services.find_by_document(
                request.POST.get("doc_type", ""), request.POST.get("doc_number", "")
            )
            if existing is not None:
                # Telling that a number is registered answers a lookup: counted like the search's.
                try:
                    services.charge_lookups(request.user, [request.POST.get("doc_number", "")])
                except services.LookupLimitReached as exc:
                    messages.error(request, exc.messages[0])
                    return redirect("people:person_list")
                return self._open_existing(existing)
        return super().post(request, *args, **kwargs)

    def _open_existing(self, existing):
        """Search before create: a known document opens its record instead of a duplicate."""
        if Person.objects.restrict(self.request.user, "view").filter(pk=existing.pk).exists():
            messages.info(self.request, _("This person is already registered; here is the record."))
            return redirect(existing.get_absolute_url())
        # Outside the user's scope: say so without showing the other area's data.
        messages.warning(
            self.request,
            _(
                "A person with this document is already registered in another area. Ask that community to hand the record over."
            ),
        )
        return redirect("people:person_list")


class PersonRevealView(ScopedViewMixin, FormView):
    """Break the glass: full ID and phone of one person after a reason, logged."""

    model = Person
    form_class = RevealForm
    template_name = "people/_revealed.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.person = get_scoped_or_404(Person, request.user, kwargs["pk"])
        if (
            not request.user.has_scoped_perm("people.reveal_person")
            or not Person.objects.restrict(request.user, "reveal").filter(pk=self.person.pk).exists()
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        data = services.reveal(self.person, form.cleaned_data["reason"])
        return render(self.request, self.template_name, {"person": self.person, "revealed": data})

    def form_invalid(self, form):
        # htmx swaps only 2xx responses; plain form posts get a proper 400.
        status = 200 if self.request.htmx else 400
        return render(self.request, self.template_name, {"person": self.person, "form": form}, status=status)


class PersonMergeView(ScopedViewMixin, FormView):
    model = Person
    form_class = MergeForm
    template_name = "people/person_merge.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.survivor = get_scoped_or_404(Person, request.user, kwargs["pk"])
        if not Person.objects.restrict(request.user, "merge").filter(pk=self.survivor.pk).exists():
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "survivor": self.survivor, "user": self.request.user}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "person": self.survivor}

    def form_valid(self, form):
        try:
            services.merge(self.survivor, form.cleaned_data["duplicate"], form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("The records were merged."))
        return redirect(reverse("people:person_detail", args=[self.survivor.pk]))

"""Pages of lab results: the list (filters: round, lab, result, late), a result's page (the tube's
persons masked, the corrections), the correction form, turnaround. Reads go through `restrict`:
out of scope → 404, in scope without the right → 403. Writes go through results.services."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from epigrid.core.forms import StyledFormMixin, style_form
from epigrid.core.scoping import may
from epigrid.core.views import ObjectDetailView, ObjectListView
from epigrid.people.models import Person
from epigrid.results import services
from epigrid.results.filtersets import TubeResultFilterSet
from epigrid.results.models import CT_MAX, CT_MIN, Result, TubeResult
from epigrid.results.tables import TubeResultTable, result_badge

VIEW = "results.view_tuberesult"


class TubeResultListView(ObjectListView):
    model = TubeResult
    table_class = TubeResultTable
    filterset_class = TubeResultFilterSet
    export_name = "lab-results"
    import_name = "lab-results"

    def get_queryset(self):
        return super().get_queryset().select_related("tube", "point", "lab")


class TubeResultDetailView(ObjectDetailView):
    model = TubeResult
    template_name = "results/tuberesult_detail.html"

    def get_queryset(self):
        return super().get_queryset().select_related("tube", "point", "lab", "campaign")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj, user = self.object, self.request.user
        ctx["badge"] = result_badge(obj.result, obj.get_result_display())
        ctx["corrections"] = obj.corrections.select_related("corrected_by")
        ctx["may_correct"] = may(user, obj)
        # Only the persons the user may see (a lab sees none): masked documents and phones.
        ctx["persons"] = services.tube_persons(obj.tube, Person.objects.restrict(user, "view"))
        return ctx


class CorrectionForm(StyledFormMixin, forms.Form):
    result = forms.ChoiceField(label=gettext_lazy("Correct result"), choices=Result.choices)
    ct_orf1ab = forms.DecimalField(
        label=gettext_lazy("Ct ORF1ab"), required=False, min_value=CT_MIN, max_value=CT_MAX, decimal_places=2
    )
    ct_n = forms.DecimalField(
        label=gettext_lazy("Ct N"), required=False, min_value=CT_MIN, max_value=CT_MAX, decimal_places=2
    )
    reason = forms.CharField(label=gettext_lazy("Reason for the correction"), max_length=300)


@login_required
def correct(request, pk):
    """The correction form (the result's edit page): out of scope 404, without the right 403."""
    obj = get_object_or_404(
        TubeResult.objects.restrict(request.user, "view").select_related("tube", "lab"), pk=pk
    )
    if not may(request.user, obj):
        raise PermissionDenied
    form = CorrectionForm(request.POST or None, initial={"result": obj.result})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcome = services.correct_result(
                request.user, obj, data["result"], data["reason"], data["ct_orf1ab"], data["ct_n"]
            )
        except ValidationError as exc:
            form.add_error(None, " ".join(exc.messages))
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            if outcome["status"] == services.UNCHANGED:
                messages.info(request, _("The tube already has this result; nothing changed."))
            else:
                messages.success(request, _("The result was corrected."))
            return redirect(obj)
    return TemplateResponse(request, "results/tuberesult_correct.html", {"object": obj, "form": form})


@login_required
def turnaround(request):
    """Turnaround per round, point and lab over the results the user sees, with the list's filters."""
    if not request.user.has_scoped_perm(VIEW):
        raise PermissionDenied
    filterset = TubeResultFilterSet(
        request.GET, queryset=TubeResult.objects.restrict(request.user, "view"), request=request
    )
    style_form(filterset.form)
    results = filterset.qs
    groups = [
        (_("Per round"), "campaign", services.turnaround(results, "campaign")),
        (_("Per sampling point"), "point", services.turnaround(results, "point")),
        (_("Per lab"), "lab", services.turnaround(results, "lab")),
    ]
    return TemplateResponse(request, "results/turnaround.html", {"filter": filterset, "groups": groups})

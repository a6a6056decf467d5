"""Personal QR code pages 个人码: a person's code, replacing it (换码), household cards to print.

Who: users who may change persons where the person (or building, grid) is — grid workers,
community and street officers — the people who hand codes out. Outside their scope: 404; in
scope with view rights only (an auditor): 403.

Audit decision: a code is a credential (whoever shows it is sampled as that person), so every
copy that leaves the system is logged, not only changes to it:
- each QR image served (the code page's image, a PNG saved to a phone): one EXPORT row on the
  person, with the format and code version (the page itself holds no code, only the image);
- each sheet of household cards printed: one EXPORT row on the building, household or grid, with
  the counts of cards and persons;
- each replacement: an UPDATE row of `code_version` with the reason given (people.codes.revoke).
Rows are filed under the object's area, so that area's auditors see them."""

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from epigrid.areas.models import Area, Building, Household, Level
from epigrid.audit.models import Action
from epigrid.audit.services import log_change
from epigrid.core.identity import mask_name
from epigrid.core.pdf import pdf_response
from epigrid.core.scoping import may
from epigrid.core.views import get_scoped_or_404, no_store
from epigrid.people import codes
from epigrid.people.forms import ReasonForm
from epigrid.people.models import Person
from epigrid.people.pdf import build_cards, household_cards

CHANGE_PERSON = "people.change_person"


def may_change_persons_at(user, path):
    """Whether `user` may change persons filed under the area `path`."""
    paths = user.scope_paths(CHANGE_PERSON)
    return paths is None or any(path.startswith(p) for p in paths)


def person_for_codes(user, pk):
    """The person, if `user` sees them (else 404) and may change them (else 403)."""
    person = get_scoped_or_404(Person, user, pk)
    if not may(user, person):
        raise PermissionDenied
    return person


class RevokeForm(ReasonForm):
    REASONS = (
        gettext_lazy("Card lost"),
        gettext_lazy("Code used by someone else"),
        gettext_lazy("Code photo shared outside the family"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason_choice"].choices = [
            ("", "—"),
            *[(str(r), r) for r in self.REASONS],
            (self.OTHER, _("Other (write it below)")),
        ]

    def clean(self):
        data = forms.Form.clean(self)
        picked = data.get("reason_choice")
        text = (data.get("reason") or "").strip()
        parts = [picked] if picked and picked != self.OTHER else []
        if text:
            parts.append(text)
        try:
            data["reason"] = codes.clean_revoke_reason("：".join(parts))
        except ValidationError as exc:
            self.add_error("reason", exc)
        return data


class PersonCodeView(LoginRequiredMixin, View):
    """The code page: the QR image (its own URL), masked name, birth year, and 换码."""

    template_name = "people/person_code.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.person = person_for_codes(request.user, kwargs["pk"])
        if self.person.is_merged:
            # The duplicate's codes already read as the survivor (people.codes.read_codes).
            return redirect("people:person_code", pk=self.person.merged_into_id)
        return super().dispatch(request, *args, **kwargs)

    def render(self, form, status=200):
        person = self.person
        ctx = {
            "person": person,
            "masked_name": mask_name(person.name),
            "form": form,
        }
        return no_store(TemplateResponse(self.request, self.template_name, ctx, status=status))

    def get(self, request, *args, **kwargs):
        return self.render(RevokeForm())

    def post(self, request, *args, **kwargs):
        form = RevokeForm(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        codes.revoke(self.person, form.cleaned_data["reason"])
        messages.success(request, _("The code was replaced. Cards printed before no longer scan."))
        return redirect("people:person_code", pk=self.person.pk)


class PersonCodeImageView(LoginRequiredMixin, View):
    """The QR image alone, as SVG (the page) or PNG (saved to a phone); audited each time."""

    kind = "svg"

    def get(self, request, pk):
        person = person_for_codes(request.user, pk)
        if person.is_merged:
            raise PermissionDenied  # the page sends users to the survivor's code
        text = codes.make_code(person)
        log_change(
            person, Action.EXPORT, None, {"personal_code": self.kind, "code_version": person.code_version}
        )
        if self.kind == "png":
            response = HttpResponse(codes.png(text), content_type="image/png")
            if "download" in request.GET:
                response["Content-Disposition"] = content_disposition_header(
                    True, f"epigrid-code-{person.pk}.png"
                )
        else:
            response = HttpResponse(codes.svg(text), content_type="image/svg+xml")
        return no_store(response)


class HouseholdCardsView(LoginRequiredMixin, View):
    """Household cards as a PDF for one building (?building=ID), household (?household=ID) or
    grid (?area=GRID_CODE): what `user` may change there, merged records left out."""

    def get(self, request):
        user, params = request.user, request.GET
        if "building" in params:
            target = self._scoped(Building, user, pk=params["building"])
            households = Household.objects.filter(building=target)
            persons = Person.objects.filter(household__building=target)
            grid, name = target.area, target.name
        elif "household" in params:
            target = self._scoped(Household, user, pk=params["household"])
            households = Household.objects.filter(pk=target.pk)
            persons = Person.objects.filter(household=target)
            grid, name = target.area, target.address
        elif "area" in params:
            target = self._scoped(Area, user, code=params["area"])
            if target.level != Level.GRID:
                return HttpResponseBadRequest(_("Household cards are printed per grid or per building."))
            households = Household.objects.filter(area=target)
            persons = Person.objects.filter(area=target)
            grid, name = target, target.full_label()
        else:
            return HttpResponseBadRequest(_("Pick a building, household or grid to print cards for."))
        if not may_change_persons_at(user, target.scope_area_path):
            raise PermissionDenied
        persons = (
            persons.restrict(user, "change")
            .filter(merged_into__isnull=True)
            .only("id", "name", "birth_date", "household_id", "area_id", "code_version")
            .order_by("household_id", "name_key", "id")
        )
        households = households.select_related("building").order_by("building__name", "unit", "room")
        cards = build_cards(list(households), list(persons.iterator(chunk_size=2000)), grid.full_label())
        title = _("Household code cards: %(name)s") % {"name": name}
        log_change(
            target,
            Action.EXPORT,
            None,
            {"household_cards": len(cards), "persons": sum(len(c.members) for c in cards)},
        )
        return pdf_response(household_cards(title, cards), f"{title}.pdf")

    @staticmethod
    def _scoped(model, user, **lookup):
        try:
            return model.objects.restrict(user, "view").get(**lookup)
        except (model.DoesNotExist, ValueError):
            raise Http404 from None

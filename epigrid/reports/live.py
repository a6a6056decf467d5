"""Live figures (decision 0029): a name a form's field may carry as `live` → a function of (area,
day) returning a number. Each calls a named figure function of the app that holds the data, so
reports imports no other app's models."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from epigrid.assistance import figures as assistance_figures
from epigrid.control import figures as control_figures
from epigrid.control.models import Category
from epigrid.disinfection import figures as disinfection_figures
from epigrid.homeservices import figures as homeservices_figures
from epigrid.supervision import figures as supervision_figures
from epigrid.testing import figures as testing_figures

REGISTRY = {}


def register(name, label):
    def wrap(fn):
        REGISTRY[name] = (label, fn)
        return fn

    return wrap


def _key_persons(category):
    def figure(area, day):
        return control_figures.key_persons_by_category(area, day)[category]

    return figure


for _category in Category:
    REGISTRY[f"key_persons.{_category.value}"] = (_category.label, _key_persons(_category.value))

register("arrivals", _("Arrivals on the day (ledger)"))(control_figures.arrivals)
register("persons_tested", _("Persons tested on the day"))(testing_figures.persons_tested)
register("sweep_visits", _("Sweep visits on the day"))(testing_figures.sweep_visits)
register("assist_answered", _("Assistance-request persons answered on the day"))(
    assistance_figures.persons_answered
)


register("problems_raised", _("Supervision problems raised on the day"))(supervision_figures.items_raised)


def _service_requests(name):
    def figure(area, day):
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        return homeservices_figures.requests_in_window(area, start, start + datetime.timedelta(days=1))[name]

    return figure


register("service_requests_opened", _("Resident service requests opened on the day"))(_service_requests("opened"))
register("service_requests_closed", _("Resident service requests closed on the day"))(_service_requests("closed"))


@register("new_fever_or_suspected", _("New fever or suspected cases in the ledger"))
def new_fever_or_suspected(area, day):
    return control_figures.new_key_persons(
        area, day, [Category.FEVER, Category.SUSPECTED, Category.CONFIRMED]
    )


@register("new_contacts", _("New close and secondary contacts in the ledger"))
def new_contacts(area, day):
    return control_figures.new_key_persons(area, day, [Category.CLOSE_CONTACT, Category.SECONDARY_CONTACT])


def names():
    return sorted(REGISTRY)


def figures(form, area, day):
    """{key: number} for the form's fields that carry a live figure. Key-person counts by category
    come from one query for the lot."""
    found, by_category = {}, None
    for field in form.fields:
        name = field.get("live")
        if not name or name not in REGISTRY:
            continue
        if name.startswith("key_persons."):
            if by_category is None:
                by_category = control_figures.key_persons_by_category(area, day)
            found[field["key"]] = by_category.get(name.split(".", 1)[1], 0)
        else:
            found[field["key"]] = REGISTRY[name][1](area, day)
    return found


def _disinfection(name):
    def figure(area, day):
        return disinfection_figures.tasks_on(area, day)[name]

    return figure


register("disinfection_due", _("Disinfection sites due on the day (rounds)"))(_disinfection("due"))
register("disinfection_done", _("Disinfection sites done on the day (rounds)"))(_disinfection("done"))

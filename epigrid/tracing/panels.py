"""Today's work (/control/today/) heads with tracing's overdue items (core.panels): cases past a
deadline and close or secondary contacts not under control in time, in the user's scope."""

from epigrid.tracing import services
from epigrid.tracing.models import Case, Contact

ROWS = 10


def today_overdue(request, area, held_here, now):
    user = request.user
    if not user.has_scoped_perm("tracing.view_case"):
        return None
    cases = Case.objects.restrict(user, "view")
    contacts = Contact.objects.restrict(user, "view")
    if area is not None:
        cases = cases.filter(area__path__startswith=area.path)
        contacts = contacts.filter(case__area__path__startswith=area.path)
    late_cases = list(
        services.overdue_cases(cases, now).select_related("person").order_by("positive_at")[: ROWS + 1]
    )
    late_contacts = list(
        services.overdue_contacts(contacts, now)
        .select_related("person", "case")
        .order_by("identified_at")[: ROWS + 1]
    )
    if not late_cases and not late_contacts:
        return None
    return {
        "tracing_cases": late_cases[:ROWS],
        "tracing_contacts": late_contacts[:ROWS],
        "tracing_count": len(late_cases[:ROWS]) + len(late_contacts[:ROWS]),
        "tracing_more": len(late_cases) > ROWS or len(late_contacts) > ROWS,
    }


def person_panel(request, person):
    """The person page: their case (and the cases they are a contact of) for whoever sees tracing;
    "open a case" for whoever may."""
    user = request.user
    if not user.has_scoped_perm("tracing.view_case"):
        return None
    case = Case.objects.restrict(user, "view").filter(person=person).first()
    contact_of = list(
        Contact.objects.restrict(user, "view")
        .filter(person=person)
        .exclude(status=Contact.Status.DISMISSED)
        .select_related("case__person")[:5]
    )
    may_open = case is None and user.has_scoped_perm("tracing.add_case")
    if case is None and not contact_of and not may_open:
        return None
    return {"case": case, "contact_of": contact_of, "may_open": may_open, "person": person}

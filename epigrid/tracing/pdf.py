"""The published trajectory 活动轨迹 of a case as a PDF with the Chinese fonts embedded (core/pdf.py).

Masked for publication: the case is named by its number, sex, age and community — never its name,
ID number, phone or home address; stops not marked for publishing (a private home, a workplace that
would identify the person) are left out, and "stayed home" days are said as such."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos

from epigrid.control.pdf import issuing_area
from epigrid.core.pdf import SANS, SERIF, ChinesePDF


def _age(person, on):
    if not person.birth_date:
        return None
    born = person.birth_date
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def describe(stop):
    """One stop as published: time, place, transport, activity."""
    if stop.stayed_home:
        return _("Stayed home, did not go out.")
    when = ""
    if stop.time_from:
        when = stop.time_from.strftime("%H:%M")
        if stop.time_to:
            when += "–" + stop.time_to.strftime("%H:%M")
    parts = [p for p in (when, stop.place, stop.address) if p]
    if stop.transport_number:
        ride = stop.get_transport_display() + " " + stop.transport_number
        if stop.carriage:
            ride += " " + _("carriage %(c)s") % {"c": stop.carriage}
        if stop.seat:
            ride += " " + _("seat %(s)s") % {"s": stop.seat}
        parts.append(ride)
    elif stop.transport:
        parts.append(stop.get_transport_display())
    if stop.activity:
        parts.append(stop.activity)
    return "，".join(parts)


def trajectory(case):
    person = case.person
    sampled = case.sampled_on
    age = _age(person, sampled)
    title = _("Trajectory of case %(n)s") % {"n": case.pk}
    pdf = ChinesePDF()
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(title)
    pdf.set_creator("epigrid")
    pdf.set_lang(translation.get_language() or "zh-hans")
    pdf.add_page()
    pdf.set_font(SANS, size=18)
    pdf.cell(0, 14, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(SERIF, size=12)
    facts = [case.get_classification_display(), person.get_sex_display()]
    if age is not None:
        facts.append(_("%(age)d years") % {"age": age})
    facts.append(_("lives in %(community)s") % {"community": issuing_area(case.area).name})
    pdf.multi_cell(0, 8, "，".join(facts) + "。", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    for stop in case.trajectory.filter(public=True).order_by("date", "time_from", "pk"):
        pdf.set_font(SANS, size=11)
        pdf.cell(30, 8, f"{stop.date:%m-%d}", new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.set_font(SERIF, size=11)
        pdf.multi_cell(0, 8, describe(stop), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(SERIF, size=10)
    pdf.multi_cell(
        0,
        7,
        _(
            "Anyone who was at these places at these times should report to their community at once, "
            "stay home and take a nucleic-acid test."
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.cell(
        0,
        8,
        _("Published %(date)s") % {"date": f"{timezone.localdate():%Y-%m-%d}"},
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())

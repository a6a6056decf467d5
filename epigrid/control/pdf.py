"""The release notice (解除管控通知书) as a PDF, with the Chinese fonts embedded (core/pdf.py)."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos

from epigrid.areas.models import Level
from epigrid.audit.services import history
from epigrid.control.models import ControlMeasure, KeyPerson
from epigrid.core.pdf import SANS, SERIF, NoticePDF, font_paths  # noqa: F401 (font_paths: tests)


def issuing_area(area):
    """The community (社区/村) the responsible area belongs to; the area itself above that level."""
    if area.level <= Level.COMMUNITY:
        return area
    return next((a for a in area.ancestors() if a.level == Level.COMMUNITY), area)


def release_date(entry):
    row = history(entry).filter(target=KeyPerson.Status.RELEASED).order_by("-time", "-id").first()
    return timezone.localdate(row.time) if row else timezone.localdate()


def _end(measure):
    return measure.ended_on or measure.planned_end


def _day(value):
    return f"{value:%Y-%m-%d}" if value else "—"


def release_notice(entry):
    """The notice for a released entry, as PDF bytes."""
    measures = list(entry.measures.exclude(status=ControlMeasure.Status.CANCELLED).order_by("sequence"))
    released = release_date(entry)
    community = issuing_area(entry.area)
    person = entry.person
    title = _("Notice of release from control measures")

    pdf = NoticePDF()
    pdf.set_title(title)
    pdf.set_creator("epigrid")
    pdf.set_lang(translation.get_language() or "zh-hans")
    pdf.add_page()

    pdf.set_font(SERIF, size=12)
    pdf.cell(0, 8, community.name, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(SANS, size=20)
    pdf.cell(0, 16, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(SERIF, size=10)
    pdf.cell(
        0,
        8,
        _("No. %(number)s") % {"number": f"{released:%Y}-{entry.pk:06d}"},
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(4)

    pdf.line_item(_("Name"), person.name)
    pdf.line_item(person.get_doc_type_display(), person.masked_doc_number)
    pdf.line_item(_("Category"), entry.get_category_display())
    for measure in measures:
        pdf.line_item(
            _("Step %(n)d") % {"n": measure.sequence},
            f"{measure.get_kind_display()}  {_day(measure.start)} – {_day(_end(measure))}",
        )
    if measures:
        ends = [_end(m) for m in measures if _end(m)]
        period = f"{_day(measures[0].start)} – {_day(max(ends) if ends else None)}"
        pdf.line_item(_("Period of control"), period)
    pdf.line_item(_("Released on"), _day(released))
    pdf.ln(6)

    pdf.set_font(SERIF, size=12)
    pdf.multi_cell(
        0,
        8,
        _(
            "%(name)s has completed the control measures above under %(protocol)s and is released "
            "from control as of %(date)s. Please keep watching your health and tell your community "
            "at once about any fever, cough or other symptoms."
        )
        % {"name": person.name, "protocol": entry.protocol.name, "date": _day(released)},
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
        align="L",
    )
    pdf.ln(16)

    pdf.set_font(SERIF, size=12)
    pdf.cell(
        0,
        9,
        _("Issued by: %(community)s") % {"community": community.name},
        align="R",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(8)
    pdf.cell(0, 9, _("Signature: ____________    (seal)"), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.cell(
        0, 9, _("Date: %(date)s") % {"date": _day(released)}, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    return bytes(pdf.output())

"""The release notice of a centralized isolation 解除集中隔离医学观察通知书, as a PDF with the Chinese
fonts embedded (core/pdf.py), laid out like control's notice (control/pdf.py). The site issues it
when the person leaves at the end of their centralized step (or released early): it says what was
served, where, and what follows at home."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos

from epigrid.control.pdf import NoticePDF
from epigrid.core.pdf import SANS, SERIF


def _day(value):
    return f"{value:%Y-%m-%d}" if value else "—"


def _line(pdf, text, size=12, font=SERIF, align="R", height=9):
    pdf.set_font(font, size=size)
    pdf.cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def release_notice(stay):
    """The notice of a checked-out stay that carried out a centralized step, as PDF bytes."""
    measure, person, site = stay.measure, stay.person, stay.site
    left = timezone.localdate(stay.checked_out_at)
    title = _("Notice of release from centralized isolation")

    pdf = NoticePDF()
    pdf.set_title(title)
    pdf.set_creator("epigrid")
    pdf.set_lang(translation.get_language() or "zh-hans")
    pdf.add_page()
    _line(pdf, site.name, align="C", height=8)
    _line(pdf, title, size=20, font=SANS, align="C", height=16)
    _line(pdf, _("No. %(number)s") % {"number": f"{left:%Y}-{stay.pk:06d}"}, size=10, height=8)
    pdf.ln(4)

    pdf.line_item(_("Name"), person.name)
    pdf.line_item(person.get_doc_type_display(), person.masked_doc_number)
    pdf.line_item(_("Category"), measure.key_person.get_category_display())
    pdf.line_item(_("Site and room"), f"{site.name} {stay.room.number}")
    checked_in = timezone.localdate(stay.checked_in_at) if stay.checked_in_at else None
    pdf.line_item(_("Stay"), f"{_day(checked_in)} – {_day(left)}")
    pdf.line_item(
        measure.get_kind_display(), f"{_day(measure.start)} – {_day(measure.ended_on or measure.planned_end)}"
    )
    if measure.status == "released_early":
        pdf.line_item(_("Released early"), stay.note or "—")
    home = stay.home_step
    if home is not None:
        pdf.line_item(_("Next"), f"{home.get_kind_display()}  {_day(home.start)} – {_day(home.planned_end)}")
        if home.test_dates:
            pdf.line_item(_("Test days at home"), "、".join(home.test_dates))
    pdf.ln(6)

    pdf.set_font(SERIF, size=12)
    text = _(
        "%(name)s has completed centralized isolation and medical observation at %(site)s and is "
        "released from it as of %(date)s."
    ) % {"name": person.name, "site": site.name, "date": _day(left)}
    if home is not None:
        text += _(
            " %(measure)s follows in the care of %(area)s: please go straight home, stay in touch "
            "with your community and tell it at once about any fever, cough or other symptoms."
        ) % {"measure": home.get_kind_display(), "area": home.key_person.area.name}
    pdf.multi_cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.ln(16)
    _line(pdf, _("Issued by: %(community)s") % {"community": site.name})
    pdf.ln(8)
    _line(pdf, _("Signature: ____________    (seal)"))
    _line(pdf, _("Date: %(date)s") % {"date": _day(left)})
    return bytes(pdf.output())

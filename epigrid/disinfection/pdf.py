"""The residents' notices of a terminal disinfection 终末消毒 as PDFs, laid out as the other notices
(core/pdf.py's NoticePDF, fonts embedded): the notice before (告知书: when the team comes, what the
residents do — doors and windows, keeping away for the contact time and the airing —, whom to ask)
and the notice after (公示: done when, by which team, with what, air for how long before going back).

Both are posted at the building or the door, so they name the address only: never the case, its
number or its person (the 2022 notice: talk to the residents, post a notice, keep the case out of
it). The team leader's phone is masked unless the reader holds the reveal right over the area."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from epigrid.control.pdf import issuing_area
from epigrid.core import identity
from epigrid.core.pdf import SANS, NoticePDF


def _time(value):
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M}" if value else "—"


def contact_line(team, full_phone):
    """Whom the residents ask: the team, its leader by name and their phone (masked unless
    `full_phone`); None without a team."""
    if team is None:
        return None
    leader = team.leader
    parts = [team.name]
    if leader is not None:
        name = leader.get_full_name().strip()
        if name:
            parts.append(_("team leader %(name)s") % {"name": name})
        if leader.phone:
            parts.append(
                identity.display_phone(leader.phone) if full_phone else identity.mask_phone(leader.phone)
            )
    return " · ".join(parts)


def _document(terminal, title):
    pdf = NoticePDF()
    pdf.set_title(title)
    pdf.set_creator("epigrid")
    pdf.set_lang(translation.get_language() or "zh-hans")
    pdf.add_page()
    pdf.line(issuing_area(terminal.area).name, align="C", height=8)
    pdf.line(title, size=20, font=SANS, align="C", height=16)
    pdf.ln(4)
    pdf.line(_("Dear residents,"), size=13, font=SANS)
    return pdf


def _close(pdf, terminal, full_phone):
    contact = contact_line(terminal.team, full_phone)
    if contact:
        pdf.ln(2)
        pdf.line_item(_("Contact for questions"), contact)
    pdf.ln(14)
    pdf.line(_("Issued by: %(community)s") % {"community": issuing_area(terminal.area).name}, align="R")
    pdf.line(_("Date: %(date)s") % {"date": f"{timezone.localdate():%Y-%m-%d}"}, align="R")
    return bytes(pdf.output())


def notice_before(terminal, full_phone=False):
    """告知书 of a terminal disinfection with its planned time, as PDF bytes."""
    pdf = _document(terminal, _("Notice of terminal disinfection"))
    team = terminal.team.name if terminal.team_id else _("trained staff")
    pdf.paragraph(
        _(
            "To stop the spread of the epidemic, %(team)s will carry out terminal disinfection at "
            "%(address)s on %(time)s."
        )
        % {"team": team, "address": terminal.address, "time": _time(terminal.planned_at)},
        size=13,
        height=9,
    )
    pdf.ln(2)
    airing = terminal.ventilation_minutes
    if terminal.contact_minutes:
        keep_away = _(
            "Keep away from it during the work and for %(total)d minutes after: the disinfectant acts "
            "for %(contact)d minutes, then the rooms are aired for %(airing)d minutes."
        ) % {
            "total": terminal.contact_minutes + airing,
            "contact": terminal.contact_minutes,
            "airing": airing,
        }
    else:
        keep_away = _(
            "Keep away from it during the work and until the staff tell you it is over: the "
            "disinfectant must act for its full time, then the rooms are aired for %(airing)d minutes."
        ) % {"airing": airing}
    steps = [
        _(
            "Before the work starts, close the windows and doors of your home that face the stairwell "
            "and corridor; leave open the doors the staff ask you to leave open."
        ),
        keep_away,
        _(
            "Each item is treated by a method suited to it and is not damaged; do not touch or move "
            "treated items until the airing is over."
        ),
    ]
    pdf.numbered(steps)
    return _close(pdf, terminal, full_phone)


def notice_after(terminal, full_phone=False):
    """公示 of a recorded terminal disinfection, as PDF bytes."""
    pdf = _document(terminal, _("Terminal disinfection completed"))
    if terminal.team_id:
        text = _("Terminal disinfection of %(address)s was completed on %(time)s by %(team)s.") % {
            "address": terminal.address,
            "time": _time(terminal.done_at),
            "team": terminal.team.name,
        }
    else:
        text = _("Terminal disinfection of %(address)s was completed on %(time)s by trained staff.") % {
            "address": terminal.address,
            "time": _time(terminal.done_at),
        }
    pdf.paragraph(text, size=13, height=9)
    pdf.ln(2)
    chemical = terminal.disinfectant
    if terminal.concentration:
        chemical += f" {terminal.concentration} mg/L"
    pdf.line_item(pgettext("disinfection notice", "Disinfectant"), chemical or "—")
    if terminal.contact_minutes:
        pdf.line_item(_("Contact time"), _("%(n)d minutes") % {"n": terminal.contact_minutes})
    if terminal.area_treated_m2:
        pdf.line_item(_("Area treated"), f"{terminal.area_treated_m2.normalize():f} m²")
    pdf.ln(2)
    pdf.paragraph(
        _(
            "Open the windows and air the rooms for %(airing)d minutes before going back in or using "
            "them; then clean the surfaces you touch with clean water."
        )
        % {"airing": terminal.ventilation_minutes},
        size=13,
        height=9,
    )
    return _close(pdf, terminal, full_phone)

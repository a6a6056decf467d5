"""The return-to-work permit 复工复产备案证明 as a PDF, laid out as the other notices (core/pdf.py's
NoticePDF, fonts embedded): who may work again (name, credit code, where, type and class, phase),
the permit's number and dates, the conditions it was issued on (prevention lead, contact, staff on
the roster, PPE days of cover at the permit), the issuing unit, and a QR code of the permit's page,
so an inspector at the gate opens the record behind the paper (as themselves: the page is scoped).

The contact's phone is masked unless the reader holds the reveal right over the enterprise's area;
the view logs which one was printed."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from epigrid.areas.models import Area, Level
from epigrid.audit.services import history
from epigrid.core import identity
from epigrid.core.pdf import SANS, NoticePDF
from epigrid.enterprises.models import PPE_RULE_DAYS, Application
from epigrid.enterprises.services import REVIEW

QR_SIZE = 32.0  # mm: a phone reads it from half a metre off a wall


def _day(value):
    return f"{value:%Y-%m-%d}" if value else "—"


def issuing_unit(application):
    """The unit that issued the permit: the area over the enterprise where the issuing officer
    holds the review right; the enterprise's street when no officer is on record (the system)."""
    area = application.enterprise.area
    row = (
        history(application)
        .filter(target=Application.Status.PERMITTED)
        .select_related("user")
        .order_by("-time", "-id")
        .first()
    )
    paths = row.user.scope_paths(REVIEW) if row is not None and row.user is not None else None
    covering = [p for p in paths or () if area.path.startswith(p)]
    if covering:
        unit = Area.objects.filter(path=max(covering, key=len)).first()
        if unit is not None:
            return unit
    if area.level <= Level.STREET:
        return area
    return next((a for a in area.ancestors() if a.level == Level.STREET), area)


def contact_line(enterprise, full_phone):
    phone = enterprise.contact_phone
    shown = (identity.display_phone(phone) if full_phone else identity.mask_phone(phone)) if phone else ""
    return " ".join(p for p in (enterprise.contact_name, shown) if p) or "—"


def permit(application, page_url, full_phone=False):
    """The permit of a permitted `application` as PDF bytes; `page_url` (absolute) is the QR's."""
    enterprise = application.enterprise
    unit = issuing_unit(application)
    issued = timezone.localdate(application.permitted_at) if application.permitted_at else None
    title = _("Return-to-work permit")

    pdf = NoticePDF()
    pdf.set_title(f"{title} {application.permit_number}")
    pdf.set_creator("epigrid")
    pdf.set_lang(translation.get_language() or "zh-hans")
    pdf.add_page()
    pdf.line(unit.name, align="C", height=8)
    pdf.line(title, size=20, font=SANS, align="C", height=16)
    pdf.line(_("No. %(number)s") % {"number": application.permit_number}, size=10, align="R", height=8)
    pdf.ln(2)

    kind = [enterprise.get_kind_display(), enterprise.get_size_display()]
    if enterprise.industry:
        kind.append(enterprise.industry)
    where = enterprise.area.full_label() + (f" {enterprise.address}" if enterprise.address else "")
    pdf.line_item(_("Enterprise or site"), enterprise.name)
    pdf.line_item(_("Credit code"), enterprise.uscc)
    pdf.line_item(_("Type"), " · ".join(kind))
    pdf.line_item(_("Return phase"), str(enterprise.phase) if enterprise.phase_id else "—")
    pdf.line_item(_("Address"), where)
    pdf.line_item(_("Permitted from"), _day(application.permitted_from))
    pdf.line_item(_("Issued on"), _day(issued))
    pdf.line_item(_("Prevention lead"), enterprise.prevention_lead or "—")
    pdf.line_item(_("Contact"), contact_line(enterprise, full_phone))
    pdf.line_item(_("Staff on the roster"), str(application.staff_count))
    if application.ppe_days_at_permit is not None:
        pdf.line_item(
            _("PPE at the permit"),
            _("%(days)s days of cover (the lowest item; the rule asks for %(rule)d)")
            % {"days": application.ppe_days_at_permit, "rule": PPE_RULE_DAYS},
        )
    if application.conditions:
        pdf.line_item(_("Conditions"), application.conditions)
    pdf.ln(4)
    pdf.paragraph(
        _(
            "%(name)s has passed the review and the on-site check of its prevention measures and may "
            "resume work from %(date)s. While at work it keeps one card per employee, takes each "
            "employee's temperature before every shift, sends its daily report, keeps at least "
            "%(rule)d days of protective supplies, and reports any fever or suspected case to its "
            "community at once."
        )
        % {"name": enterprise.name, "date": _day(application.permitted_from), "rule": PPE_RULE_DAYS}
    )
    pdf.ln(6)

    # The QR code at the left, the issuer and the date at the right of the same band.
    top = pdf.get_y()
    pdf.qr_code(page_url, pdf.l_margin, top, QR_SIZE)
    pdf.set_xy(pdf.l_margin, top + QR_SIZE)
    pdf.set_font(SANS, size=8)
    pdf.cell(QR_SIZE + 30, 5, _("Scan to open this permit (login required)"))
    pdf.set_xy(pdf.l_margin, top + 4)
    pdf.line(_("Issued by: %(community)s") % {"community": unit.name}, align="R")
    pdf.ln(6)
    pdf.line(_("Signature: ____________    (seal)"), align="R")
    pdf.line(_("Date: %(date)s") % {"date": _day(issued)}, align="R")
    return bytes(pdf.output())

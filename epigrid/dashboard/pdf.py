"""The daily brief X月X日疫情防控简报 (decision 0032): prose with today's figures for the area and
one paragraph per child area, figures in red, the Chinese fonts embedded (core/pdf.py). The figures
are the dashboard's tiles, counted as their lists count them, so the brief agrees with the screen."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos

from epigrid.core.pdf import SANS, SERIF, ChinesePDF
from epigrid.dashboard import services

RED = (198, 40, 40)
# The figures a paragraph names, in order; a figure the reader may not see is left out.
BRIEF_KEYS = (
    "keypersons_open",
    "keypersons_new_today",
    "measures_ending_today",
    "tubes_today",
    "positives_today",
    "pooled_positives_today",
    "boxes_late_today",
    "tracing_contacts_overdue",
)


def phrases():
    return {
        "keypersons_open": _("key persons under control"),
        "keypersons_new_today": _("newly identified today"),
        "measures_ending_today": _("measures ending today"),
        "tubes_today": _("tubes sampled today"),
        "positives_today": _("positive results today"),
        "pooled_positives_today": _("pooled positive results today"),
        "boxes_late_today": _("sample boxes late today"),
        "tracing_contacts_overdue": _("contacts past a tracing deadline"),
    }


def _say(pdf, lead, values):
    """One paragraph: the lead in the sans font, then "figure phrase" pairs with the figures in red."""
    words = phrases()
    pdf.set_font(SANS, size=12)
    pdf.write(8, lead)
    pdf.set_font(SERIF, size=12)
    shown = [(key, values[key]) for key in BRIEF_KEYS if key in values]
    if not shown:
        pdf.write(8, _("no figures you may see."))
    for n, (key, value) in enumerate(shown):
        pdf.set_text_color(*RED)
        pdf.write(8, str(value))
        pdf.set_text_color(0, 0, 0)
        pdf.write(8, " " + words[key] + ("；" if n < len(shown) - 1 else "。"))
    pdf.ln(10)


def _values(request, area, now):
    return {row["key"]: row["value"] for row in services.tiles(request, area, now=now, keys=BRIEF_KEYS)}


def brief(request, area, tops):
    now = timezone.now()
    today = timezone.localdate(now)
    home = services.home_area(area, tops)
    date = _("%(month)d/%(day)d") % {"month": today.month, "day": today.day}
    title = _("Epidemic prevention and control brief, %(date)s") % {"date": date}
    pdf = ChinesePDF()
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title(title)
    pdf.set_creator("epigrid")
    pdf.set_lang(translation.get_language() or "zh-hans")
    pdf.add_page()
    pdf.set_font(SANS, size=18)
    pdf.cell(0, 14, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(SERIF, size=11)
    where = home.name if home is not None else _("All your areas")
    stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
    pdf.cell(
        0,
        8,
        _("%(area)s · as of %(time)s (live figures)") % {"area": where, "time": stamp},
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(4)
    _say(pdf, _("Overall: "), _values(request, area, now))
    kids = services.children(area, tops)
    if kids:
        pdf.set_font(SANS, size=14)
        pdf.cell(0, 10, _("By area"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for child in kids:
            _say(pdf, child.name + "：", _values(request, child, now))
    pdf.ln(4)
    pdf.set_font(SERIF, size=9)
    pdf.multi_cell(
        0,
        6,
        _(
            "Each figure is the count of the list of the same name in epigrid for the issuer's areas, "
            "counted when this brief was printed."
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    return bytes(pdf.output())

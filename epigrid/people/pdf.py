"""Household code cards 个人码户卡: A4 sheets of cards with cut lines, one card per household.

A card carries the household's address and, for each member, the personal QR code (people.codes)
with the masked name and the birth year, so a family shows one card and the desk scans each
member in turn. Never a document number or phone: the card is handed out and photographed.

Speed: a grid of 3,000 persons is one PDF in one request. Each QR symbol is drawn as a single
vector path (one rectangle per run of dark modules in a row, filled at once) written straight
into the page content: about a tenth of the time fpdf2 needs to place 3,000 images, and sharp at
any print resolution. Only Noto Sans SC is embedded (as a subset)."""

from dataclasses import dataclass, field

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from epigrid.core.identity import mask_name
from epigrid.core.pdf import SANS, ChinesePDF, qr_path  # noqa: F401 (qr_path: the tests)
from epigrid.people import codes

# A4 portrait, 2 × 3 cards: each about 97 × 94 mm, a little larger than a postcard.
MARGIN = 8.0
COLUMNS, ROWS = 2, 3
# Members per card: 3 across, 2 down. A larger household continues on a second card (续).
ACROSS, DOWN = 3, 2
PER_CARD = ACROSS * DOWN
QR_SIZE = 24.0  # mm, quiet zone included: a version-4 symbol has 0.6 mm modules
CARD_MASK = 0  # people.codes.qr: a fixed mask, five times faster to encode


@dataclass
class Member:
    name: str  # masked
    birth_year: int | None
    code: str


@dataclass
class Card:
    address: str
    area: str
    members: list = field(default_factory=list)
    part: int = 1
    parts: int = 1


def build_cards(households, persons, area_label):
    """Cards for `households` (in order) and their `persons` (only members the caller may show);
    a person without a household gets a card of their own. Cards are printed for one grid at
    most (a building, a household, a grid): `area_label` names it on every card."""
    by_household, alone = {}, []
    for person in persons:
        if person.household_id:
            by_household.setdefault(person.household_id, []).append(person)
        else:
            alone.append(person)
    groups = [(h.address, by_household[h.pk]) for h in households if h.pk in by_household]
    groups += [(_("No household recorded"), [p]) for p in alone]
    cards = []
    for address, members in groups:
        chunks = [members[i : i + PER_CARD] for i in range(0, len(members), PER_CARD)]
        for n, chunk in enumerate(chunks, 1):
            cards.append(
                Card(
                    address=address,
                    area=area_label,
                    members=[Member(mask_name(p.name), p.birth_year, codes.make_code(p)) for p in chunk],
                    part=n,
                    parts=len(chunks),
                )
            )
    return cards


class CardsPDF(ChinesePDF):
    def __init__(self):
        super().__init__(fonts=(SANS,))
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.card_w = (self.w - 2 * MARGIN) / COLUMNS
        self.card_h = (self.h - 2 * MARGIN) / ROWS
        self.codes_drawn = []  # the code texts in drawing order (tests read it)

    def cut_lines(self):
        self.set_draw_color(150)
        self.set_line_width(0.2)
        self.set_dash_pattern(dash=2, gap=1.5)
        right, bottom = self.w - MARGIN, self.h - MARGIN
        for col in range(COLUMNS + 1):
            x = MARGIN + col * self.card_w
            self.line(x, MARGIN, x, bottom)
        for row in range(ROWS + 1):
            y = MARGIN + row * self.card_h
            self.line(MARGIN, y, right, y)
        self.set_dash_pattern()

    def fit_text(self, x, y, width, text, size, min_size=6):
        """One line at `size` points, smaller until it fits `width` mm, cut as a last resort."""
        self.set_font(SANS, size=size)
        while size > min_size and self.get_string_width(text) > width:
            size -= 0.5
            self.set_font(SANS, size=size)
        while len(text) > 1 and self.get_string_width(text) > width:
            text = text[:-2] + "…"
        self.text(x, y, text)

    def qr_at(self, text, x, y, size):
        """The code's symbol with its quiet zone inside the `size` mm square at (x, y)."""
        # border 2: with the white space around the cell, ≥ 4 modules of quiet zone in all.
        self.draw_qr(codes.qr(text, mask=CARD_MASK).matrix, x, y, size, border=2)
        self.codes_drawn.append(text)

    def card(self, card, x, y, footer):
        pad = 3.0
        inner = self.card_w - 2 * pad
        self.set_text_color(0)
        address = card.address
        if card.parts > 1:
            address += " " + _("(card %(part)d of %(parts)d)") % {"part": card.part, "parts": card.parts}
        self.fit_text(x + pad, y + pad + 5, inner, address, 13)
        self.set_text_color(90)
        self.fit_text(x + pad, y + pad + 10, inner, f"{card.area} · {_('Household code card')}", 7.5)
        cell_w = inner / ACROSS
        cell_h = (self.card_h - 2 * pad - 13 - 5) / DOWN
        top = y + pad + 13
        for i, member in enumerate(card.members):
            col, row = i % ACROSS, i // ACROSS
            cx, cy = x + pad + col * cell_w, top + row * cell_h
            self.qr_at(member.code, cx + (cell_w - QR_SIZE) / 2, cy, QR_SIZE)
            self.set_text_color(0)
            self.set_font(SANS, size=10)
            name_w = self.get_string_width(member.name)
            self.text(cx + (cell_w - name_w) / 2, cy + QR_SIZE + 3.5, member.name)
            born = _("Born %(year)s") % {"year": member.birth_year} if member.birth_year else "—"
            self.set_font(SANS, size=7.5)
            self.text(cx + (cell_w - self.get_string_width(born)) / 2, cy + QR_SIZE + 7, born)
        self.set_text_color(110)
        self.fit_text(x + pad, y + self.card_h - pad, inner, footer, 6.5)


def household_cards(title, cards):
    """The cards as PDF bytes: six to an A4 page, with dashed cut lines."""
    return bytes(render(title, cards).output())


def render(title, cards):
    pdf = CardsPDF()
    pdf.set_title(title)
    pdf.set_creator("epigrid")
    pdf.set_lang(translation.get_language() or "zh-hans")
    footer = _("Printed %(date)s. Replacing a person's code makes their old card stop working.") % {
        "date": f"{timezone.localdate():%Y-%m-%d}"
    }
    per_page = COLUMNS * ROWS
    for start in range(0, max(len(cards), 1), per_page):
        pdf.add_page()
        pdf.cut_lines()
        for i, card in enumerate(cards[start : start + per_page]):
            col, row = i % COLUMNS, i // COLUMNS
            pdf.card(card, MARGIN + col * pdf.card_w, MARGIN + row * pdf.card_h, footer)
    return pdf

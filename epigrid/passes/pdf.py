"""Pass cards 临时出入证: A4 sheets of six cards with cut lines (people.pdf's sheet), one card per
pass: the pass's QR code (passes.codes, no personal data in it), its kind and rule, the household's
address, the masked names of the persons who may use it, and its validity. Never a document number
or phone: the card hangs by the door and is photographed."""

from dataclasses import dataclass, field

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from epigrid.core.identity import mask_name
from epigrid.passes import codes
from epigrid.passes.tables import rule_text
from epigrid.people.pdf import COLUMNS, MARGIN, ROWS, CardsPDF

QR_SIZE = 42.0  # mm: a gate scanner reads it at arm's length through a plastic sleeve
MAX_NAMES = 8


@dataclass
class PassCard:
    code: str
    number: int
    kind: str
    rule: str
    address: str
    area: str
    valid: str
    names: list = field(default_factory=list)


def build_cards(passes, members):
    """Cards for `passes` (select_related household, area), `members` {pass id: [Person]}."""
    local = timezone.localtime
    return [
        PassCard(
            code=codes.make_code(p),
            number=p.pk,
            kind=p.get_kind_display(),
            rule=str(rule_text(p)),
            address=p.household.address,
            area=p.area.name,
            valid=f"{local(p.valid_from):%Y-%m-%d} — {local(p.valid_until):%Y-%m-%d}",
            names=[mask_name(person.name) for person in members.get(p.pk, [])],
        )
        for p in passes
    ]


class PassCardsPDF(CardsPDF):
    def pass_card(self, card, x, y, footer):
        pad = 3.0
        inner = self.card_w - 2 * pad
        self.set_text_color(0)
        title = _("Temporary pass")
        self.fit_text(x + pad, y + pad + 5, inner, f"{title} · {card.kind}", 13)
        self.set_text_color(60)
        self.fit_text(x + pad, y + pad + 10.5, inner, f"{card.area} {card.address}", 9)
        top = y + pad + 13
        self.qr_at(card.code, x + pad, top, QR_SIZE)
        text_x, text_w = x + pad + QR_SIZE + 2, inner - QR_SIZE - 2
        self.set_text_color(0)
        self.fit_text(text_x, top + 5, text_w, f"No. {card.number}", 10)
        self.fit_text(text_x, top + 11, text_w, card.rule, 10)
        self.set_text_color(60)
        self.fit_text(text_x, top + 17, text_w, card.valid, 8)
        names = card.names[:MAX_NAMES]
        for i, name in enumerate(names):
            self.fit_text(text_x + (i % 2) * text_w / 2, top + 24 + (i // 2) * 5, text_w / 2, name, 9)
        self.set_text_color(110)
        self.fit_text(x + pad, y + self.card_h - pad, inner, footer, 6.5)


def pass_cards(title, cards):
    """The cards as PDF bytes: six to an A4 page, with dashed cut lines."""
    return bytes(render(title, cards).output())


def render(title, cards):
    pdf = PassCardsPDF()
    pdf.set_title(title)
    pdf.set_creator("epigrid")
    pdf.set_lang(translation.get_language() or "zh-hans")
    footer = _("Printed %(date)s. Show at the gate; a revoked pass stops working.") % {
        "date": f"{timezone.localdate():%Y-%m-%d}"
    }
    per_page = COLUMNS * ROWS
    for start in range(0, max(len(cards), 1), per_page):
        pdf.add_page()
        pdf.cut_lines()
        for i, card in enumerate(cards[start : start + per_page]):
            col, row = i % COLUMNS, i // COLUMNS
            pdf.pass_card(card, MARGIN + col * pdf.card_w, MARGIN + row * pdf.card_h, footer)
    return pdf

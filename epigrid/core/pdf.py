"""PDFs with Chinese text (the release notice, household code cards, permits and notices).

fpdf2 writes them with Noto Serif SC / Noto Sans SC embedded as subsets (only the glyphs used),
so a file reads the same on a machine or phone without any Chinese font. The fonts come from
the `pylopdf-fonts-zh-cn` package (SIL OFL 1.1, installed from PyPI like any dependency); no
font file is kept in this repository.

Shared layout: `NoticePDF` (an official notice's margins, label–value lines, lines and
paragraphs) and `ChinesePDF.draw_qr` (a QR symbol as one vector path)."""

import re

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from epigrid.core.views import no_store

SERIF, SANS = "cjk-serif", "cjk-sans"
_DARK_RUN = re.compile(rb"\x01+")  # segno's matrix rows: bytearrays of 0 and 1


def pdf_response(body, filename):
    """A generated PDF shown in the browser (inline). Every one carries personal or official data:
    neither the browser nor a proxy keeps a copy."""
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return no_store(response)


def font_paths():
    """(serif, sans) font files: Noto Serif SC and Noto Sans SC (OpenType, CFF outlines)."""
    import pylopdf_fonts_zh_cn as fonts

    return str(fonts.serif_path()), str(fonts.sans_path())


def qr_path(matrix):
    """The dark modules as PDF rectangles in module units (row 0 at the top): one `re` per run
    of dark modules in a row, so a symbol is a few hundred operators, filled in one go."""
    return " ".join(
        f"{run.start()} {r} {run.end() - run.start()} 1 re"
        for r, row in enumerate(matrix)
        for run in _DARK_RUN.finditer(row)
    )


class ChinesePDF(FPDF):
    """An A4 document with both Chinese fonts registered as SERIF and SANS.

    `fonts` names the ones the document uses: each costs about 0.3 s to parse, and one never
    used would still be parsed."""

    def __init__(self, fonts=(SERIF, SANS), **kwargs):
        super().__init__(format="A4", **kwargs)
        serif, sans = font_paths()
        for name, path in ((SERIF, serif), (SANS, sans)):
            if name in fonts:
                self.add_font(name, fname=path)

    def draw_qr(self, matrix, x, y, size, border=2):
        """A segno symbol's `matrix` with `border` modules of quiet zone inside the `size` mm
        square at (x, y), drawn as one vector path written straight into the page: sharp at any
        print resolution, and a tenth of the time fpdf2 needs to place an image."""
        module = size / (len(matrix) + 2 * border)
        k = self.k
        ox, oy = (x + border * module) * k, (self.h - y - border * module) * k
        # q … Q keeps the fill colour and the transformation to this symbol.
        self._out(f"q 0 g {module * k:.4f} 0 0 {-module * k:.4f} {ox:.2f} {oy:.2f} cm {qr_path(matrix)} f Q")

    def qr_code(self, text, x, y, size, border=2):
        """`text` (a page's address) as a QR symbol of level M (a creased or smudged paper still
        scans), never Micro QR, which phone cameras often do not read."""
        import segno

        self.draw_qr(segno.make(text, error="m", micro=False).matrix, x, y, size, border=border)


class NoticePDF(ChinesePDF):
    """An official notice or certificate: 25 mm margins, "label  value" lines, single lines and
    paragraphs (the release notices, the return-to-work permit, the disinfection notices)."""

    def __init__(self, fonts=(SERIF, SANS)):
        super().__init__(fonts=fonts)
        self.set_margins(25, 25, 25)
        self.set_auto_page_break(True, margin=25)

    def line_item(self, label, value):
        self.set_font(SANS, size=11)
        self.cell(40, 9, label, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_font(SERIF, size=12)
        self.multi_cell(0, 9, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    def line(self, text, size=12, font=SERIF, align="L", height=9):
        """One line across the page (a title, a number, the issuer and date at the right)."""
        self.set_font(font, size=size)
        self.cell(0, height, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def numbered(self, items, size=12, font=SERIF, height=8):
        """A numbered list with a hanging indent (Chinese text has no space to break after "1.")."""
        self.set_font(font, size=size)
        for n, text in enumerate(items, 1):
            self.cell(8, height, f"{n}.", new_x=XPos.RIGHT, new_y=YPos.TOP)
            self.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    def paragraph(self, text, size=12, font=SERIF, height=8):
        """Running text, wrapped at the margins."""
        self.set_font(font, size=size)
        self.multi_cell(0, height, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

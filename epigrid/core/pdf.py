"""PDFs with Chinese text (the release notice, household code cards).

fpdf2 writes them with Noto Serif SC / Noto Sans SC embedded as subsets (only the glyphs used),
so a file reads the same on a machine or phone without any Chinese font. The fonts come from
the `pylopdf-fonts-zh-cn` package (SIL OFL 1.1, installed from PyPI like any dependency); no
font file is kept in this repository."""

from fpdf import FPDF

SERIF, SANS = "cjk-serif", "cjk-sans"


def font_paths():
    """(serif, sans) font files: Noto Serif SC and Noto Sans SC (OpenType, CFF outlines)."""
    import pylopdf_fonts_zh_cn as fonts

    return str(fonts.serif_path()), str(fonts.sans_path())


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

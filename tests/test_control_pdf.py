"""The release notice (解除管控通知书): a PDF whose Chinese text survives on a machine without
any Chinese font, because the font is embedded (as a subset) in the file."""

import datetime
import io
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import ContentStream

from epigrid.control import services
from epigrid.control.pdf import font_paths
from tests.scoping import make_person

TODAY = timezone.localdate()


@pytest.fixture
def released(cast):
    person = make_person(household=cast.household_a, name="欧阳建国")
    entry, _ = services.register_key_person(
        person, "close_contact", cast.grid_a, last_exposure=TODAY - datetime.timedelta(days=11)
    )
    services.release(entry, "期满解除")
    return entry


def notice(client, entry):
    response = client.get(f"/control/{entry.pk}/notice.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def text_of(reader):
    """The text as a viewer's search and copy see it: every two-byte code of the shown strings
    through its font's ToUnicode map, whitespace dropped. (pypdf's extract_text does not read
    the embedded encoding CMap that fpdf2 writes for CID fonts and splits the codes into bytes.)"""
    out = []
    for page in reader.pages:
        fonts = {name: _unicode_map(font.get_object()) for name, font in page["/Resources"]["/Font"].items()}
        codes = {}
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"Tf":
                codes = fonts[operands[0]]
            elif operator in (b"Tj", b"TJ"):
                strings = operands[0] if operator == b"TJ" else [operands[0]]
                for string in strings:
                    if isinstance(string, str | bytes):
                        raw = getattr(string, "original_bytes", string)
                        raw = raw if isinstance(raw, bytes) else raw.encode("latin-1")
                        out.extend(codes.get(raw[i : i + 2], "?") for i in range(0, len(raw), 2))
    return "".join("".join(out).split())


def _unicode_map(font):
    """{two-byte code: text} from the font's ToUnicode CMap (bfchar and bfrange entries)."""
    cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
    mapping = {}
    for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
        for src, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[bytes.fromhex(src)] = bytes.fromhex(dst).decode("utf-16-be")
    for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, dst in re.findall(r"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = ord(bytes.fromhex(dst).decode("utf-16-be"))
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code.to_bytes(2, "big")] = chr(first + offset)
    return mapping


def test_it_finds_the_cjk_fonts_it_embeds():
    for path in font_paths():
        with open(path, "rb") as font:
            assert font.read(4) in (b"OTTO", b"\x00\x01\x00\x00")  # OpenType (CFF) or TrueType


def test_it_prints_the_notice_in_chinese_with_the_font_embedded(cast, released):
    reader = notice(cast.client_for(cast.grid_worker), released)  # default language: zh-hans
    text = text_of(reader)
    steps = list(released.measures.order_by("sequence"))
    for expected in (
        "欧阳建国",
        released.person.masked_doc_number,
        "九州社区",  # the issuing community of grid A
        "密切接触者",  # the category, as translated
        "集中隔离医学观察",
        f"{steps[0].start:%Y-%m-%d}",
        f"{steps[-1].planned_end:%Y-%m-%d}",
        f"{TODAY:%Y-%m-%d}",  # released today
    ):
        assert expected in text, expected
    assert released.person.doc_number not in text
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        assert font["/Subtype"] == "/Type0"
        name = str(font["/BaseFont"])
        assert "+Noto" in name and name.endswith("SC"), name  # a subset of Noto Sans/Serif SC
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert any(key in descriptor for key in ("/FontFile2", "/FontFile3")), "font not embedded"
    assert len(reader.pages) == 1


def test_it_offers_the_notice_only_once_released(cast):
    person = make_person(household=cast.household_a, name="未解除")
    entry, _ = services.register_key_person(person, "fever", cast.grid_a)
    response = cast.client_for(cast.grid_worker).get(f"/control/{entry.pk}/notice.pdf")
    assert response.status_code == 302 and response.url == entry.get_absolute_url()


def test_it_keeps_the_notice_within_the_scope(cast, released):
    assert cast.client_for(cast.grid_worker_b).get(f"/control/{released.pk}/notice.pdf").status_code == 404
    assert cast.client_for(cast.auditor).get(f"/control/{released.pk}/notice.pdf").status_code == 200

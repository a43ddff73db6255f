"""The embedded fonts: every printed character has a drawn glyph, from any state of the cache.

Glyphs are converted from the CFF ``.otf`` to TrueType when a PDF first prints them, so these
tests render with empty, warm and differently filled font caches (``URBANREPORT_FONT_CACHE``)
in fresh processes, and read the fonts back out of the PDFs.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fontTools.pens.areaPen import AreaPen
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont as OpenTypeFont
from pypdf import PdfReader

from tests.factories import printed_report
from urbanreport.core.config import Settings, load_settings
from urbanreport.indicators import Period
from urbanreport.reports import fonts
from urbanreport.reports.build import render

#: Characters outside GB 2312 (so never in the portal's base set), as a place or person's name
#: in the data could bring them: 鮀 (Shantou's old name), 堃, 喆, 昇, 祎, 珺.
RARE = "鮀堃喆昇祎珺"
TEXT = f"汕头市龙湖区城市管理和综合执法局 2023年 罚款3009408元（+5.98%）“柔性”执法 {RARE}"

#: For each pair of arguments (a path, a text), draws the text in both report fonts into a PDF
#: at that path, all in one process, and prints the text's widths in points.
DRAW = """
import sys
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas
from urbanreport.reports.fonts import register_fonts

names = register_fonts()
for path, text in zip(sys.argv[1::2], sys.argv[2::2]):
    pdf = canvas.Canvas(path, invariant=1)
    for y, font in ((720, names.serif), (700, names.sans)):
        print(stringWidth(text, font, 12))
        pdf.setFont(font, 12)
        pdf.drawString(72, y, text)
    pdf.save()
"""


# --- helpers ---------------------------------------------------------------------------------


def run(args: list[str], font_cache: Path, home: Path | None = None) -> str:
    """Run Python in a fresh process with its own font cache (and data directory)."""
    env = {**os.environ, "URBANREPORT_FONT_CACHE": str(font_cache)}
    env.pop("URBANREPORT_CONFIG", None)
    if home is not None:
        env["URBANREPORT_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def embedded_subsets(pdf_bytes: bytes) -> list[tuple[dict[int, str], OpenTypeFont]]:
    """Each embedded TrueType subset: its code → character map (ToUnicode) and its font."""
    reader = PdfReader(io.BytesIO(pdf_bytes))
    found: dict[int, tuple[dict[int, str], OpenTypeFont]] = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if ref.idnum in found or font["/Subtype"] != "/TrueType":
                continue
            program = font["/FontDescriptor"].get_object()["/FontFile2"].get_object()
            tounicode = font["/ToUnicode"].get_object().get_data().decode("ascii")
            chars = tounicode.split("beginbfchar")[1].split("endbfchar")[0]
            codes = {int(a, 16): chr(int(b, 16)) for a, b in re.findall(r"<(\w+)> <(\w+)>", chars)}
            found[ref.idnum] = codes, OpenTypeFont(io.BytesIO(program.get_data()))
    return list(found.values())


def undrawn(pdf_bytes: bytes) -> set[str]:
    """Printed characters that are not whitespace and show no outline (a box or a blank)."""
    drawn: set[str] = set()
    for codes, font in embedded_subsets(pdf_bytes):
        cmap = font["cmap"].getcmap(1, 0).cmap
        for code, char in codes.items():
            name = cmap.get(code, ".notdef")
            if code and name != ".notdef" and font["glyf"][name].numberOfContours > 0:
                drawn.add(char)
    reader = PdfReader(io.BytesIO(pdf_bytes))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    assert text.strip(), "no text in the PDF"
    return {c for c in text if not c.isspace() and c not in drawn}


def draw(tmp_path: Path, cache: Path, *texts: str) -> tuple[list[bytes], str]:
    """The PDFs of ``texts``, drawn one after the other in one fresh process, and its output."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    args = [str(a) for i, text in enumerate(texts) for a in (folder / f"{i}.pdf", text)]
    widths = run(["-c", DRAW, *args], cache)
    return [(folder / f"{i}.pdf").read_bytes() for i in range(len(texts))], widths


# --- a small document --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_pdf_does_not_depend_on_what_the_font_cache_held(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    [cold], cold_widths = draw(tmp_path, cache, TEXT)
    [warm], warm_widths = draw(tmp_path, cache, TEXT)
    # The cache now holds more than this PDF prints, converted in another batch.
    monkeypatch.setenv("URBANREPORT_FONT_CACHE", str(cache))
    fonts.cover({"sans": map(ord, "区域执法鮀浦港湾"), "serif": map(ord, "港湾街道社区")})
    [fuller], fuller_widths = draw(tmp_path, cache, TEXT)
    assert cold == warm == fuller
    assert cold_widths == warm_widths == fuller_widths  # measured before the outlines existed
    assert undrawn(cold) == set()
    printed = {c for codes, _ in embedded_subsets(cold) for c in codes.values()}
    assert set(RARE) <= printed


@pytest.mark.slow
def test_each_embedded_subset_states_its_own_maxima(tmp_path):
    [pdf], _ = draw(tmp_path, tmp_path / "cache", TEXT)
    subsets = embedded_subsets(pdf)
    assert len(subsets) == 2
    for _, font in subsets:
        maxp = font["maxp"]
        stated = (maxp.numGlyphs, maxp.maxPoints, maxp.maxContours)
        font["glyf"]  # decompile, then recount
        maxp.recalc(font)
        assert stated == (len(font.getGlyphOrder()), maxp.maxPoints, maxp.maxContours)


@pytest.mark.slow
def test_outlines_converted_between_two_documents_change_neither(tmp_path):
    """The second PDF prints characters the first did not: the process converts them and
    replaces its faces; the first text then still gives the same bytes."""
    cache = tmp_path / "cache"
    [first, other, again], _ = draw(
        tmp_path, cache, TEXT, "另起一行：潮阳区、潮南区、澄海区、南澳县", TEXT
    )
    assert first == again and first != other
    assert undrawn(other) == set()


def test_converted_outlines_match_the_source(tmp_path, monkeypatch):
    """Same shape (area, bounding box) as the CFF glyph; contours turned clockwise."""
    monkeypatch.setenv("URBANREPORT_FONT_CACHE", str(tmp_path))
    sample = "法治政府建设龙湖区鮀ABC123%（）"
    files = fonts.cover({role: map(ord, sample) for role in fonts.ROLES})
    for role, path in files.items():
        converted = OpenTypeFont(str(path))
        source = OpenTypeFont(str(fonts.source_file(role)))
        assert converted.sfntVersion == "\x00\x01\x00\x00" and "GSUB" not in converted
        assert len(converted.getGlyphOrder()) == len(source.getGlyphOrder())
        new, old = converted.getGlyphSet(), source.getGlyphSet()
        new_cmap, old_cmap = converted.getBestCmap(), source.getBestCmap()
        for char in sample:
            glyph_id = source.getGlyphID(old_cmap[ord(char)])
            assert converted.getGlyphID(new_cmap[ord(char)]) == glyph_id, char
            areas, bounds = [], []
            for glyph_set, cmap in ((new, new_cmap), (old, old_cmap)):
                area, box = AreaPen(glyph_set), BoundsPen(glyph_set)
                glyph_set[cmap[ord(char)]].draw(area)
                glyph_set[cmap[ord(char)]].draw(box)
                areas.append(area.value)
                bounds.append(box.bounds)
            assert areas[0] == pytest.approx(-areas[1], rel=0.01), (role, char)
            assert all(abs(a - b) <= 2 for a, b in zip(*bounds, strict=True)), (role, char)


def test_portal_font_maps_all_of_gb2312():
    for role in fonts.ROLES:
        path = fonts.font_file(role)
        font = OpenTypeFont(str(path))
        source_cmap = OpenTypeFont(str(fonts.source_file(role)), lazy=True).getBestCmap()
        wanted = {c for c in fonts.web_characters() if c in source_cmap}
        cmap = font.getBestCmap()
        assert wanted <= cmap.keys(), sorted(wanted - cmap.keys())[:10]
        loca = font["loca"]
        hanzi = [font.getGlyphID(cmap[c]) for c in wanted if 0x4E00 <= c <= 0x9FFF]
        assert len(hanzi) >= 6763
        assert all(loca[g + 1] > loca[g] for g in hanzi), role  # every one has an outline


# --- the sample reports ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    from urbanreport.ingest.batches import ingest_all
    from urbanreport.sample import write_sample

    home = tmp_path_factory.mktemp("fonts-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.setenv("URBANREPORT_HOME", str(home))
        settings = load_settings(home=home)
        write_sample(settings, years=[2022, 2023])
        ingest_all(settings)
        yield settings


@pytest.mark.slow
@pytest.mark.parametrize("period", ["2023", "2023-07"])
def test_every_character_of_the_sample_reports_has_a_drawn_glyph(sample_home, period):
    entry = render(sample_home, Period.parse(period))
    assert undrawn(entry.path.read_bytes()) == set()


@pytest.mark.slow
def test_the_annual_report_is_the_same_from_an_empty_and_a_warm_cache(sample_home, tmp_path):
    here = render(sample_home, Period.parse("2023")).path.read_bytes()  # the session's cache
    home = tmp_path / "home"
    shutil.copytree(sample_home.home, home)
    cache = tmp_path / "cache"
    report = ["-m", "urbanreport.cli", "report", "--period", "2023"]
    cold = printed_report(run(report, cache, home)).read_bytes()
    warm = printed_report(run(report, cache, home)).read_bytes()
    assert here == cold == warm

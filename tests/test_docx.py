"""The Word renderer, read back with python-docx: GB/T 9704 page and type, real tables, charts,
highlighted and listed placeholders, East Asian fonts with fallbacks, and identical bytes."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import UTC, datetime

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml.ns import qn
from docx.shared import Pt, Twips

from tests.documents import png, render_elsewhere, synthetic
from urbanreport.core import formatting
from urbanreport.reports import docx as word
from urbanreport.reports.blocks import Chart, Paragraph

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


@pytest.fixture(scope="module")
def document():
    return synthetic()


@pytest.fixture(scope="module")
def rendered(document) -> bytes:
    return word.render(document)


@pytest.fixture(scope="module")
def opened(rendered: bytes):
    return docx.Document(io.BytesIO(rendered))


def east_asian(style) -> str | None:
    rfonts = style.element.rPr.find(qn("w:rFonts"))
    return rfonts.get(qn("w:eastAsia"))


def test_a4_page_with_the_official_margins(opened):
    section = opened.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert (section.page_width, section.page_height) == (Twips(11906), Twips(16838))
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]


def test_body_is_fangsong_sanhao_with_fixed_spacing_and_two_character_indent(opened):
    body = opened.styles["Normal"]
    assert east_asian(body).startswith("仿宋")
    assert body.font.size == Pt(16)
    fmt = body.paragraph_format
    assert fmt.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert 28 <= fmt.line_spacing.pt <= 30
    assert fmt.first_line_indent == Pt(32)
    ind = body.element.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"


def test_title_and_headings_use_the_prescribed_faces(opened):
    title = opened.styles["Title"]
    assert (east_asian(title), title.font.size) == ("方正小标宋简体", Pt(22))
    assert east_asian(opened.styles["Heading 1"]) == "黑体"
    assert east_asian(opened.styles["Heading 2"]).startswith("楷体")
    h3 = opened.styles["Heading 3"]
    assert east_asian(h3).startswith("仿宋") and h3.font.bold
    for level in (1, 2, 3):
        assert opened.styles[f"Heading {level}"].font.size == Pt(16)


def test_every_style_names_its_east_asian_font_without_theme_fonts(rendered: bytes):
    styles = zipfile.ZipFile(io.BytesIO(rendered)).read("word/styles.xml").decode()
    assert not re.search(r"w:\w*[Tt]heme=", styles)  # a theme font would override the name
    for rfonts in re.findall(r"<w:rFonts [^>]*>", styles):
        assert 'w:eastAsia="' in rfonts, rfonts


def test_font_table_gives_fallbacks_word_and_wps_substitute(rendered: bytes):
    table = zipfile.ZipFile(io.BytesIO(rendered)).read("word/fontTable.xml").decode()
    for name, alt in (
        ("仿宋_GB2312", "仿宋"),
        ("楷体_GB2312", "楷体"),
        ("黑体", "SimHei"),
        ("宋体", "SimSun"),
        ("方正小标宋简体", "宋体"),
    ):
        entry = re.search(rf'<w:font w:name="{name}">(.*?)</w:font>', table).group(1)
        assert alt in re.search(r'w:altName w:val="([^"]+)"', entry).group(1)
        assert '<w:charset w:val="86"/>' in entry


def test_headings_are_numbered_and_restart_in_the_attachment(opened):
    heads = [p.text for p in opened.paragraphs if p.style.name.startswith("Heading")]
    assert heads == ["一、行政执法", "（一）按街道", "1.说明", "二、审批服务", "一、附表"]
    texts = [p.text for p in opened.paragraphs]
    assert texts[texts.index("附件") + 1] == "2023年主要数据"


def test_tables_are_word_tables_with_units_repeating_headers_and_formatted_numbers(opened):
    assert len(opened.tables) == 2
    table = opened.tables[0]
    header = [c.text.replace("\n", "") for c in table.rows[0].cells]
    assert header == [
        "街道",
        "处罚案件（宗）",
        "罚款金额（元）",
        "拆违面积（平方米）",
        "按时公示率",
        "平均办理时长（工作日）",
    ]
    assert table.rows[0].cells[5].text == "平均办理时长\n（工作日）"  # the unit on its own line
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert rows[0] == ["金霞街道", "120", "12345.6", "936292.39", "79.38%", "3.5"]
    assert rows[1] == ["珠池街道", "80", "0.01", "10.1", "100%", "4"]
    assert rows[2] == ["新津街道"] + [formatting.MISSING] * 5
    assert rows[3] == ["外砂街道", "0", "0", "0", "78.02%", "0.1"]
    number = table.rows[1].cells[1].paragraphs[0]
    assert number.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert table.rows[1].cells[0].paragraphs[0].alignment is None  # text: the style's left


def test_tables_and_figures_have_numbered_captions(opened):
    captions = [p.text for p in opened.paragraphs if p.style.name == "Caption"]
    assert captions == [
        "表1　各街道处罚情况",
        "图1　各月处罚案件数",
        "表2　各街道处罚情况",
        f"图2　空图：{formatting.MISSING}，未绘制",
    ]


def test_charts_are_png_at_their_printed_size(opened):
    shapes = opened.inline_shapes
    assert len(shapes) == 1  # the empty chart is a one-line note
    assert round(shapes[0].width.mm) == 156 and round(shapes[0].height.mm) == 60
    blob = opened.part.related_parts[shapes[0]._inline.graphic.graphicData.pic.blipFill.blip.embed]
    assert blob.content_type == "image/png"


def test_a_chart_under_200_dpi_is_refused():
    doc = replace(synthetic(), blocks=(Chart("low", "低清图", png(156, 60, dpi=96), 156, 60),))
    with pytest.raises(ValueError, match="dpi"):
        word.render(doc)


def test_placeholders_are_highlighted_and_listed_at_the_end(opened):
    marked = [
        run.text
        for p in opened.paragraphs
        for run in p.runs
        if run.font.highlight_color == WD_COLOR_INDEX.YELLOW
    ]
    assert marked == ["【待填写：本年度重大行政决策情况】", "【待填写：审批服务改革举措】"]
    texts = [p.text for p in opened.paragraphs]
    listing = texts[texts.index(word.GUIDE_TITLE) :]
    assert "一、行政执法" in listing and "二、审批服务" in listing
    assert [t.strip("　") for t in listing if t.strip("　").startswith("【待填写")] == marked
    assert texts[0] == word.GUIDE_NOTE


def test_no_placeholder_no_guide():
    opened = docx.Document(io.BytesIO(word.render(synthetic(placeholders=False))))
    texts = [p.text for p in opened.paragraphs]
    assert word.GUIDE_NOTE not in texts and word.GUIDE_TITLE not in texts


def test_page_numbers_are_a_page_field_between_dashes_in_songti_sihao(opened, rendered: bytes):
    assert opened.settings.odd_and_even_pages_header_footer
    section = opened.sections[0]
    for footer, align in (
        (section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
        (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT),
    ):
        p = footer.paragraphs[0]
        assert p.text == "— 1 —" and p.alignment == align
        assert p._p.xpath(".//w:instrText")[0].text.strip() == "PAGE"
        assert east_asian(p.style) == "宋体" and p.style.font.size == Pt(14)


def test_sentences_and_styles_come_through(opened, document):
    texts = [p.text for p in opened.paragraphs]
    for block in document.blocks:
        if isinstance(block, Paragraph):
            assert block.text in texts
    signature = next(p for p in opened.paragraphs if p.text == document.bureau)
    assert signature.style.name == "署名"


def test_unknown_paragraph_style_is_refused():
    doc = replace(synthetic(), blocks=(Paragraph("x", "fancy"),))
    with pytest.raises(ValueError, match="fancy"):
        word.render(doc)


def test_two_renders_give_the_same_bytes_stamped_with_the_data_time(rendered: bytes, document):
    assert word.render(document) == rendered
    package = zipfile.ZipFile(io.BytesIO(rendered))
    assert package.namelist()[0] == "[Content_Types].xml"
    assert {i.date_time for i in package.infolist()} == {(2023, 12, 31, 18, 5, 0)}
    assert not [n for n in package.namelist() if "thumbnail" in n or "customXml" in n]
    core = docx.Document(io.BytesIO(rendered)).core_properties
    assert core.created == core.modified == datetime(2023, 12, 31, 10, 5, tzinfo=UTC)  # 18:05
    assert core.author == document.bureau
    assert b"python-docx" not in package.read("docProps/core.xml")


def test_another_process_and_time_zone_give_the_same_bytes(rendered: bytes):
    assert render_elsewhere("docx") == rendered


def test_another_data_time_changes_only_the_stamps(rendered: bytes, document):
    later = word.render(replace(document, data_as_of="2024-01-05T09:00:00"))
    assert later != rendered
    a, b = (zipfile.ZipFile(io.BytesIO(x)) for x in (rendered, later))
    assert a.read("word/document.xml") == b.read("word/document.xml")

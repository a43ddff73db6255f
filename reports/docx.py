"""Word output: a `blocks.Document` as a .docx laid out as a 公文 (GB/T 9704-2012).

Why Word at all: the legal section edits the annual report in Word or WPS and the figures used to
be retyped there by hand. This renderer writes the very blocks the PDF shows, so the draft it
opens already says what the warehouse says, in the layout the section would give it anyway:

* A4, margins 37 / 35 / 28 / 26 mm (top / bottom / left / right); 版心 156 × 225 mm.
* Title 二号 (22 pt) 方正小标宋简体, centred. Body 三号 (16 pt) 仿宋_GB2312, fixed line
  spacing 28.95 pt (22 lines in the 225 mm 版心), first-line indent of two characters.
* Headings 一、 in 黑体, （一） in 楷体_GB2312, 1. in 仿宋_GB2312 bold, numbered by
  `blocks.HeadingNumbers` (the PDF numbers the same way).
* Page numbers "— 1 —" in 4号 宋体 at the foot: odd pages right, even pages left, each one
  character in from the edge of the 版心, as the standard places them.
* Tables are Word tables (header row repeated on every page, numbers right-aligned and written by
  `urbanreport.core.formatting`, units in the header); charts are the registry's PNG (≥ 200 dpi)
  with 图N captions; placeholders are highlighted yellow and listed in a note above the title.

Fonts. Every run names its font in ``w:eastAsia`` as well as ``w:ascii``/``w:hAnsi``: Word and WPS
pick the font of Chinese text from the East Asian slot only, so a Latin-only name would leave the
body in the theme's 等线. The names are the ones GB/T 9704 prescribes (方正小标宋简体,
仿宋_GB2312, 楷体_GB2312, 黑体, 宋体) because that is what reviewers check in the font box and
what government PCs with the 公文 font set have. For machines without them, the font table gives
each name an ``w:altName`` list, its GB2312 charset and its PANOSE class, which is what Word's
substitution reads: 仿宋_GB2312 → 仿宋 / FangSong, 楷体_GB2312 → 楷体 / KaiTi, 黑体 → SimHei,
宋体 → SimSun (all four ship with every Chinese Windows), 方正小标宋简体 → 华文中宋 / 宋体 (no
free 小标宋 exists; a Song face keeps the title serif). WPS maps the _GB2312 names to its own
仿宋 / 楷体 the same way, and LibreOffice falls back through fontconfig to any installed CJK
face for the document's language (zh-CN), so no character shows as a box.

Reproducible: python-docx stamps every zip member with the current time, so the package is
re-zipped with fixed member order and timestamps; created/modified come from the data (the
document's data-as-of time, else its cut-off), never from the clock. The template's thumbnail
(a picture of an empty page), its Word 2010 style copy and its bibliography part are dropped.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.image.image import Image
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from rich.cells import cell_len

from urbanreport.core import formatting
from urbanreport.reports.blocks import (
    Annex,
    Block,
    Chart,
    Document,
    Heading,
    HeadingNumbers,
    PageBreak,
    Paragraph,
    Placeholder,
    Table,
)

# --- the page and the type (GB/T 9704-2012) ------------------------------------------------

PAGE_MM = (210, 297)
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TEXT_WIDTH_MM = PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]  # 156
FOOTER_MM = 22  # the page number's dash sits about 7 mm under the 版心

ERHAO, SANHAO, SIHAO, XIAOSI, WUHAO = 22, 16, 14, 12, 10.5  # 二号 三号 四号 小四 五号, pt
TABLE_PT = WUHAO
CELL_PADDING_MM = 2 * 1.9  # Word's default left and right cell margins
HEADER_CELLS = 16  # a header wider than 8 汉字 takes two lines
BODY_LINE_PT = 28.95  # 225 mm / 22 lines
MIN_DPI = 200


@dataclass(frozen=True)
class Face:
    """A font as the font table declares it: the name runs use, and what stands in for it."""

    name: str
    alt: str  # comma-separated, as ``w:altName`` allows
    panose: str
    family: str
    pitch: str


TITLE_FACE = Face(
    "方正小标宋简体",
    "华文中宋,STZhongsong,宋体,SimSun",
    "02000000000000000000",
    "script",
    "variable",
)
BODY_FACE = Face("仿宋_GB2312", "仿宋,FangSong", "02010609030101010101", "modern", "fixed")
KAI_FACE = Face("楷体_GB2312", "楷体,KaiTi", "02010609030101010101", "modern", "fixed")
HEI_FACE = Face("黑体", "SimHei", "02010609060101010101", "modern", "fixed")
SONG_FACE = Face("宋体", "SimSun", "02010600030101010101", "auto", "variable")
FACES = (TITLE_FACE, BODY_FACE, KAI_FACE, HEI_FACE, SONG_FACE)

#: Paragraph styles: (style id, display name, face, size, bold, first-line indent in chars).
STYLES: dict[str, tuple[str, str, Face, float, bool, int]] = {
    "body": ("Normal", "Normal", BODY_FACE, SANHAO, False, 2),
    "title": ("Title", "Title", TITLE_FACE, ERHAO, False, 0),
    "subtitle": ("Subtitle", "Subtitle", KAI_FACE, SANHAO, False, 0),
    "h1": ("Heading1", "Heading 1", HEI_FACE, SANHAO, False, 2),
    "h2": ("Heading2", "Heading 2", KAI_FACE, SANHAO, False, 2),
    "h3": ("Heading3", "Heading 3", BODY_FACE, SANHAO, True, 2),
    "note": ("Note", "注释", BODY_FACE, SIHAO, False, 2),
    "warning": ("Warning", "数据提示", BODY_FACE, SIHAO, True, 2),
    "signature": ("Signature", "署名", BODY_FACE, SANHAO, False, 0),
    "caption": ("Caption", "Caption", HEI_FACE, SIHAO, False, 0),
    "table": ("TableText", "表格文字", BODY_FACE, TABLE_PT, False, 0),
    "table_head": ("TableHead", "表头", HEI_FACE, TABLE_PT, False, 0),
    "figure": ("Figure", "图片", BODY_FACE, SANHAO, False, 0),
    "annex": ("AnnexLabel", "附件标签", HEI_FACE, SANHAO, False, 0),
    "guide": ("DraftGuide", "编写说明", KAI_FACE, XIAOSI, False, 0),
    "footer": ("Footer", "Footer", SONG_FACE, SIHAO, False, 0),
}
#: Exact line spacing of each style in points (None: single, for pictures).
LINES: dict[str, float | None] = {
    "body": BODY_LINE_PT,
    "title": 36,
    "subtitle": BODY_LINE_PT,
    "h1": BODY_LINE_PT,
    "h2": BODY_LINE_PT,
    "h3": BODY_LINE_PT,
    "note": 24,
    "warning": 24,
    "signature": BODY_LINE_PT,
    "caption": 24,
    "table": 16,
    "table_head": 16,
    "figure": None,
    "annex": BODY_LINE_PT,
    "guide": 20,
    "footer": 20,
}
PARAGRAPH_STYLES = {"body", "note", "warning", "signature"}
PLACEHOLDER_STYLE = ("Placeholder", "待填写")
GUIDE_NOTE = (
    "编写说明（定稿前删除）：本稿中含数字的段落由系统根据各业务系统报送的数据生成；"
    "黄色标记的【待填写】段落请起草人补写，清单见文末。"
)
GUIDE_TITLE = "待填写事项清单（定稿前删除本页）："


def render(document: Document) -> bytes:
    """The .docx bytes of a document: the same blocks always give the same bytes."""
    doc = docx.Document()
    _drop_template_extras(doc)
    _setup_styles(doc)
    _setup_page(doc)
    _set_properties(doc, document)
    writer = _Writer(doc, document)
    writer.front()
    for block in document.blocks:
        writer.add(block)
    writer.back()
    _set_font_table(doc)
    buf = io.BytesIO()
    doc.save(buf)
    return _repack(buf.getvalue(), document.data_moment())


# --- package ---------------------------------------------------------------------------------


def _drop_template_extras(doc: Any) -> None:
    """Remove the template's thumbnail, Word 2010 style copy and bibliography part."""
    drop = ("metadata/thumbnail", "stylesWithEffects", "customXml")
    for rels in (doc.part.package.rels, doc.part.rels):
        for rid, rel in list(rels.items()):
            if rel.reltype.endswith(drop):
                rels.pop(rid)


def _set_properties(doc: Any, document: Document) -> None:
    """Core properties from the document and its data date (Word shows them in 属性)."""
    utc = document.data_moment_utc()
    cp = doc.core_properties
    cp.title = document.title
    cp.subject = document.subtitle
    cp.author = document.bureau
    cp.last_modified_by = document.bureau
    cp.category = document.kind
    cp.keywords = document.period_label
    cp.comments = f"数据截至{formatting.day(document.data_cutoff)}"
    cp.language = "zh-CN"
    cp.revision = 1
    cp.created = utc
    cp.modified = utc
    app = next(p for p in doc.part.package.iter_parts() if p.partname == "/docProps/app.xml")
    app._blob = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        'extended-properties"><Application>urbanreport</Application>'
        f"<DocSecurity>0</DocSecurity><Company>{escape(document.bureau)}</Company></Properties>"
    ).encode()


def _set_font_table(doc: Any) -> None:
    """Declare each face with its stand-ins, charset (GB2312 = 86) and PANOSE class."""
    fonts = "".join(
        f'<w:font w:name="{f.name}"><w:altName w:val="{f.alt}"/>'
        f'<w:panose1 w:val="{f.panose}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{f.family}"/><w:pitch w:val="{f.pitch}"/></w:font>'
        for f in FACES
    )
    part = next(p for p in doc.part.package.iter_parts() if p.partname == "/word/fontTable.xml")
    part._blob = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<w:fonts xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"{fonts}</w:fonts>"
    ).encode()


def _repack(data: bytes, moment: datetime) -> bytes:
    """The same package with fixed member order, timestamps and attributes."""
    stamp = max(moment, datetime(1980, 1, 1)).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        names = sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
        for name in names:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            dst.writestr(info, src.read(name), compresslevel=6)
    return out.getvalue()


# --- styles and page -------------------------------------------------------------------------


def _fonts(rpr: Any, face: Face, size: float, bold: bool | None = None) -> None:
    """Name the face in every slot (East Asian included) and drop theme font references."""
    rfonts = rpr.get_or_add_rFonts()
    for attr in list(rfonts.attrib):
        del rfonts.attrib[attr]
    for slot in ("ascii", "hAnsi", "eastAsia", "cs"):
        rfonts.set(qn(f"w:{slot}"), face.name)
    rfonts.set(qn("w:hint"), "eastAsia")
    half_points = str(round(size * 2))
    for tag in ("w:sz", "w:szCs"):
        el = rpr.find(qn(tag))
        if el is None:
            el = OxmlElement(tag)
            rpr.append(el)
        el.set(qn("w:val"), half_points)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    if bold is not None:
        for tag in ("w:b", "w:bCs"):
            el = OxmlElement(tag)
            el.set(qn("w:val"), "1" if bold else "0")
            rpr.append(el)
    _sort_rpr(rpr)


#: CT_RPr child order (the schema is a sequence; Word refuses a file that breaks it).
_RPR_ORDER = [
    "rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike",
    "outline", "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden",
    "color", "spacing", "w", "kern", "position", "sz", "szCs", "highlight", "u", "effect",
    "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout",
    "specVanish", "oMath",
]  # fmt: skip


def _sort_rpr(rpr: Any) -> None:
    rank = {qn(f"w:{tag}"): i for i, tag in enumerate(_RPR_ORDER)}
    children = sorted(rpr, key=lambda el: rank.get(el.tag, len(rank)))
    for el in children:
        rpr.append(el)


def _paragraph_format(pf: Any, key: str, size: float, indent_chars: int) -> None:
    line = LINES[key]
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    if line is None:
        pf.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        pf.line_spacing = Pt(line)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.widow_control = True
    # Both forms: Word and WPS read the character count, LibreOffice the length.
    pf.first_line_indent = Pt(size * indent_chars)
    ppr = pf._element.get_or_add_pPr()
    ppr.get_or_add_ind().set(qn("w:firstLineChars"), str(indent_chars * 100))
    for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):  # no extra gap between 汉字 and digits
        el = OxmlElement(tag)
        el.set(qn("w:val"), "0")
        ppr.append(el)
    _sort_ppr(ppr)


def _style(doc: Any, key: str) -> Any:
    style_id, name, face, size, bold, indent = STYLES[key]
    existing = [s for s in doc.styles if s.type == WD_STYLE_TYPE.PARAGRAPH and s.name == name]
    style = existing[0] if existing else doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.style_id = style_id
    el = style.element
    for tag in ("w:pPr", "w:rPr"):
        for child in el.findall(qn(tag)):
            el.remove(child)
    if key != "body":
        style.base_style = doc.styles["Normal"]
    _paragraph_format(style.paragraph_format, key, size, indent)
    _fonts(el.get_or_add_rPr(), face, size, bold)
    return style


#: Template styles kept besides the renderer's own (the rest only clutter WPS's style list).
_KEEP_STYLES = {"TableNormal", "TableGrid", "DefaultParagraphFont", "NoList"}


def _prune_styles(doc: Any) -> None:
    keep = _KEEP_STYLES | {style_id for style_id, *_ in STYLES.values()}
    root = doc.styles.element
    for style in root.findall(qn("w:style")):
        if style.get(qn("w:styleId")) not in keep:
            root.remove(style)
            continue
        for link in style.findall(qn("w:link")):
            style.remove(link)


def _setup_styles(doc: Any) -> None:
    """Every style the renderer uses, with East Asian fonts and the 公文 sizes."""
    _prune_styles(doc)
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _fonts(rpr, BODY_FACE, SANHAO)
    ppr_default = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr_default.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    for key in STYLES:
        style = _style(doc, key)
        fmt = style.paragraph_format
        if key in ("title", "subtitle", "caption", "figure", "table_head"):
            fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif key == "signature":
            fmt.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            fmt.right_indent = Pt(SANHAO * 4)  # 成文日期右空四字
        elif key in ("body", "note", "warning", "h1", "h2", "h3", "guide"):
            fmt.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        if key in ("h1", "h2", "h3", "caption", "figure", "annex", "title", "subtitle"):
            fmt.keep_with_next = True
        if key == "caption":
            fmt.space_before = Pt(6)  # air between a table and the next caption
    for level in (1, 2, 3):
        outline = OxmlElement("w:outlineLvl")
        outline.set(qn("w:val"), str(level - 1))
        ppr = doc.styles[f"Heading {level}"].element.get_or_add_pPr()
        ppr.append(outline)
        _sort_ppr(ppr)
    char = doc.styles.add_style(PLACEHOLDER_STYLE[1], WD_STYLE_TYPE.CHARACTER)
    char.style_id = PLACEHOLDER_STYLE[0]
    char.font.highlight_color = WD_COLOR_INDEX.YELLOW
    theme_lang = doc.settings.element.find(qn("w:themeFontLang"))
    if theme_lang is not None:
        theme_lang.set(qn("w:eastAsia"), "zh-CN")


def _setup_page(doc: Any) -> None:
    """A4 portrait with the 公文 margins; odd and even footers carry "— N —"."""
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.header_distance = Mm(15)
    section.footer_distance = Mm(FOOTER_MM)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer.paragraphs[0], WD_ALIGN_PARAGRAPH.LEFT)


def styled(paragraph: Any, key: str) -> Any:
    """Give a paragraph one of the renderer's styles by id (python-docx's lookup by name
    scans every style of the template for each paragraph)."""
    if key != "body":
        paragraph._p.get_or_add_pPr().style = STYLES[key][0]
    return paragraph


def _page_number(paragraph: Any, align: Any) -> None:
    """The page number as — 7 —, a PAGE field, one character in from the 版心's outer edge
    (odd pages right, even pages left: 单页码居右空一字，双页码居左空一字)."""
    styled(paragraph, "footer")
    paragraph.alignment = align
    fmt = paragraph.paragraph_format
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = Pt(SIHAO)
    else:
        fmt.left_indent = Pt(SIHAO)
    paragraph.add_run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1")):
        run = paragraph.add_run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        else:
            run.text = text
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    paragraph.add_run()._r.append(end)
    paragraph.add_run(" —")


# --- blocks ----------------------------------------------------------------------------------


def placeholder_sections(blocks: Iterable[Block]) -> list[tuple[str, str]]:
    """Each placeholder's text with the numbered level-1 heading it stands under."""
    numbers, current, out = HeadingNumbers(), "", []
    for block in blocks:
        if isinstance(block, Annex):
            numbers.restart()
            current = block.label
        elif isinstance(block, Heading):
            label = numbers.label(block)
            if block.level == 1:
                current = f"{label}{block.text}"
        elif isinstance(block, Placeholder):
            out.append((block.text, current))
    return out


class _Writer:
    """Appends blocks to a python-docx document, numbering headings, tables and figures."""

    def __init__(self, doc: Any, document: Document) -> None:
        self.doc = doc
        self.document = document
        self.numbers = HeadingNumbers()
        self.tables = 0
        self.figures = 0

    def para(self, text: str, key: str) -> Any:
        return styled(self.doc.add_paragraph(text), key)

    def front(self) -> None:
        """A note for the writer when there are placeholders, then the title and subtitle."""
        if self.document.placeholders():
            _box(self.para(GUIDE_NOTE, "guide"))
        self.para(self.document.title, "title")
        if self.document.subtitle:
            self.para(self.document.subtitle, "subtitle")
        self.para("", "body")

    def back(self) -> None:
        """On a last page, every placeholder under the section it stands in."""
        listed = placeholder_sections(self.document.blocks)
        if not listed:
            return
        self.page_break()
        _box(self.para(GUIDE_TITLE, "guide"))
        section = None
        for text, where in listed:
            if where != section:
                section = where
                _box(self.para(where or "开篇", "guide")).runs[0].bold = True
            _box(self.para(f"　　{text}", "guide"))

    def add(self, block: Block) -> None:
        if isinstance(block, Heading):
            self.heading(block)
        elif isinstance(block, Paragraph):
            self.paragraph(block)
        elif isinstance(block, Placeholder):
            self.placeholder(block)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, Chart):
            self.chart(block)
        elif isinstance(block, PageBreak):
            self.page_break()
        elif isinstance(block, Annex):
            self.annex(block)
        else:
            raise TypeError(f"未知的文档块：{block!r} (unknown block)")

    def heading(self, block: Heading) -> None:
        self.para(f"{self.numbers.label(block)}{block.text}", f"h{block.level}")

    def paragraph(self, block: Paragraph) -> None:
        if block.style not in PARAGRAPH_STYLES:
            raise ValueError(f"未知的段落样式：{block.style!r} (unknown paragraph style)")
        self.para(block.text, block.style)

    def placeholder(self, block: Placeholder) -> None:
        run = self.para("", "body").add_run(block.text)
        run._r.get_or_add_rPr().style = PLACEHOLDER_STYLE[0]
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW

    def page_break(self) -> None:
        self.para("", "figure").add_run().add_break(WD_BREAK.PAGE)

    def annex(self, block: Annex) -> None:
        self.page_break()
        self.numbers.restart()
        self.para(block.label, "annex")
        self.para(block.title, "title")
        self.para("", "body")

    def table(self, block: Table) -> None:
        self.tables += 1
        self.para(f"表{self.tables}　{block.title}", "caption")
        _table(self.doc, block)
        if block.note:
            self.para(block.note, "note")

    def chart(self, block: Chart) -> None:
        self.figures += 1
        caption = f"图{self.figures}　{block.title}"
        if block.empty:
            self.para(f"{caption}：{formatting.MISSING}，未绘制", "caption")
            return
        width, height = _chart_size(block)
        p = self.para("", "figure")
        p.add_run().add_picture(io.BytesIO(block.png), width=Mm(width), height=Mm(height))
        p._p.xpath(".//wp:docPr")[0].set("descr", block.title)
        self.para(caption, "caption")


def _box(paragraph: Any) -> Any:
    """A thin frame and a light fill: adjacent boxed paragraphs join into one box."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        for attr, value in (("val", "single"), ("sz", "6"), ("space", "4"), ("color", "808080")):
            edge.set(qn(f"w:{attr}"), value)
        borders.append(edge)
    shade = OxmlElement("w:shd")
    for attr, value in (("val", "clear"), ("color", "auto"), ("fill", "F2F2F2")):
        shade.set(qn(f"w:{attr}"), value)
    ppr.append(borders)
    ppr.append(shade)
    _sort_ppr(ppr)
    return paragraph


_PPR_ORDER = [
    "pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
    "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
    "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd",
    "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap",
    "jc", "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle",
    "rPr", "sectPr", "pPrChange",
]  # fmt: skip


def _sort_ppr(ppr: Any) -> None:
    rank = {qn(f"w:{tag}"): i for i, tag in enumerate(_PPR_ORDER)}
    for el in sorted(ppr, key=lambda el: rank.get(el.tag, len(rank))):
        ppr.append(el)


def _chart_size(block: Chart) -> tuple[float, float]:
    """Printed size in mm, at most the 版心's width; refuses pixels under 200 dpi."""
    px_width = Image.from_blob(block.png).px_width
    dpi = px_width / (block.width_mm / 25.4)
    if dpi < MIN_DPI - 0.5:
        raise ValueError(
            f"图表“{block.title}”分辨率只有{dpi:.0f} dpi，至少需要{MIN_DPI} dpi "
            f"(chart {block.entry_id}: {dpi:.0f} dpi < {MIN_DPI})"
        )
    width = min(block.width_mm, TEXT_WIDTH_MM)
    return width, block.height_mm * width / block.width_mm


# --- tables ----------------------------------------------------------------------------------


def cell_text(kind: str, value: Any) -> str:
    """A cell as the one formatter writes it: the bare number, or 数据缺失 for a null."""
    if value is None:
        return formatting.MISSING
    if kind == "text":
        return str(value)
    return formatting.number(kind, value)


def table_rows(block: Table) -> list[list[str]]:
    """The body rows as text, in the block's column order."""
    missing = [c.name for c in block.columns if c.name not in block.frame.columns]
    if missing:
        raise KeyError(f"表“{block.title}”缺少列：{missing} (table {block.entry_id})")
    frame = block.frame.select([c.name for c in block.columns])
    return [
        [cell_text(c.kind, v) for c, v in zip(block.columns, row, strict=True)]
        for row in frame.iter_rows()
    ]


def header_lines(label: str) -> list[str]:
    """A long header breaks before its unit: 专项行动目标面积 / （平方米）."""
    cut = label.rfind("（")
    if cell_len(label) <= HEADER_CELLS or cut <= 0:
        return [label]
    return [label[:cut], label[cut:]]


#: The narrowest a wrapping text column of a table may become (six CJK characters and padding).
MIN_TEXT_COLUMN_MM = 28.0
FIGURE_SLACK = 1.08


def _widths(
    headers: list[str], rows: list[list[str]], fixed: Sequence[bool] | None = None
) -> list[float]:
    """Column widths in mm: each column's widest text on one line (a long header on two),
    a CJK character counting two half-widths; the 版心 shared out in proportion.

    When the texts need more than the 版心, the `fixed` columns (figures) keep their width, so
    a number never breaks across lines, and the text columns (names) wrap instead.
    """
    half_width_mm = TABLE_PT / 2 * 25.4 / 72
    need = []
    for i, head in enumerate(headers):
        lines = header_lines(head)
        head_cells = max(cell_len(line) for line in lines)
        if head_cells > HEADER_CELLS:
            head_cells = max(HEADER_CELLS, -(-head_cells // 2))
        cells = max([cell_len(r[i]) for r in rows] + [head_cells, 4])
        need.append(cells * half_width_mm + CELL_PADDING_MM)
    fixed = list(fixed or [False] * len(need))
    # Digits are wider than half an em in some faces Word or WPS substitute: a figure column
    # gets a little more than its count, so that it still fits on one line there.
    need = [
        (w - CELL_PADDING_MM) * FIGURE_SLACK + CELL_PADDING_MM if f else w
        for w, f in zip(need, fixed, strict=True)
    ]
    kept = sum(w for w, f in zip(need, fixed, strict=True) if f)
    free = sum(w for w, f in zip(need, fixed, strict=True) if not f)
    room = TEXT_WIDTH_MM - kept
    if sum(need) > TEXT_WIDTH_MM and free and room >= MIN_TEXT_COLUMN_MM * fixed.count(False):
        return [w if f else w * room / free for w, f in zip(need, fixed, strict=True)]
    return [TEXT_WIDTH_MM * w / sum(need) for w in need]


def _table(doc: Any, block: Table) -> None:
    headers = [c.label for c in block.columns]
    rows = table_rows(block)
    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    fixed = [c.kind != "text" or c.align == "r" for c in block.columns]
    widths = _widths(headers, rows, fixed)
    for i, width in enumerate(widths):
        table.columns[i].width = Mm(width)
    numeric = [c.kind != "text" or c.align == "r" for c in block.columns]
    for r, texts in enumerate([headers, *rows]):
        row = table.rows[r]
        trpr = row._tr.get_or_add_trPr()
        trpr.append(OxmlElement("w:cantSplit"))
        if r == 0:
            trpr.append(OxmlElement("w:tblHeader"))  # repeats on every page
        for c, (cell, text) in enumerate(zip(row.cells, texts, strict=True)):
            _cell(cell, text, widths[c], r == 0, numeric[c])


def _cell(cell: Any, text: str, width: float, head: bool, numeric: bool) -> None:
    if head:  # w:shd first: python-docx inserts tcW before it and vAlign after it
        shade = OxmlElement("w:shd")
        for attr, value in (("val", "clear"), ("color", "auto"), ("fill", "E7E6E6")):
            shade.set(qn(f"w:{attr}"), value)
        cell._tc.get_or_add_tcPr().append(shade)
    cell.width = Mm(width)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    p = cell.paragraphs[0]
    styled(p, "table_head" if head else "table")
    lines = header_lines(text) if head else [text]
    for i, line in enumerate(lines):
        run = p.add_run(line)
        if i < len(lines) - 1:
            run.add_break()
    if not head and numeric:
        right = text != formatting.MISSING
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right else WD_ALIGN_PARAGRAPH.CENTER

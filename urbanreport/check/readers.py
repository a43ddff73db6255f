"""The text of a draft: Word (.docx), plain text or PDF, recognised by content, never executed.

Why by content: a draft arrives renamed, mailed, or saved by WPS with the wrong extension; its
first bytes say what it is. A `.docx` is a zip (PK), a PDF starts with %PDF-, an old binary
Word or WPS file (.doc/.wps, also a password-protected .docx) is an OLE container and refused
with advice, and anything else must decode as text in an encoding we can name.

Safety: a zip is opened only after its directory shows it unpacks to less than
`[check] max_unzipped_mb` in at most `max_zip_entries` parts (zipfile never inflates a member
beyond its declared size, so the directory is a real bound); its XML is parsed by python-docx
without entity expansion; macros (vbaProject.bin) are parts nobody reads. Nothing is run.

Word drafts are read as Word shows them with tracked changes accepted: body paragraphs and
tables in document order (nested tables and content controls too), text boxes after the
paragraph holding them, inserted text kept, deleted text dropped. A table cell carries its
column header (all header rows), the labels left of it in its row (merged cells included) and
the table's 表N caption (`Cell`), because a figure in a cell is named by them.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.part import PartFactory
from docx.package import Package
from docx.parts.document import DocumentPart

from urbanreport.core.config import Settings

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
#: Word's macro-enabled main part is an ordinary document part to us: its macros are not read.
DOCM_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"
PartFactory.part_type_for.setdefault(DOCM_MAIN, DocumentPart)

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8（带BOM）"),
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32LE（带BOM）"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32BE（带BOM）"),
    (b"\xff\xfe", "utf-16-le", "UTF-16LE（带BOM）"),
    (b"\xfe\xff", "utf-16-be", "UTF-16BE（带BOM）"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CHARACTERS = {W + "tab": "\t", W + "br": "\n", W + "cr": "\n", W + "noBreakHyphen": "-"}
_SKIPPED_ANCESTORS = frozenset({W + "del", W + "moveFrom", W + "txbxContent", _MC_FALLBACK})
#: A table's caption: a paragraph right above it that starts 表1 / 附表2 / 表 3-1.
_CAPTION = re.compile(r"^\s*附?表\s*[0-9\uff10-\uff19]")


class DraftRefused(ValueError):
    """A draft that cannot be read, with the file and the reason in words for people."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"无法核对文稿 {name}：{reason}")
        self.name = name
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 50 * 2**20
    max_unzipped_bytes: int = 50 * 2**20
    max_zip_entries: int = 2000

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        conf = settings["check"]
        return cls(
            max_file_bytes=int(conf["max_file_mb"] * 2**20),
            max_unzipped_bytes=int(conf["max_unzipped_mb"] * 2**20),
            max_zip_entries=int(conf["max_zip_entries"]),
        )


@dataclass(frozen=True)
class Cell:
    """Where a table cell stands: what names its figure, and of what the figure is.

    Why all the labels of the row and not only the first column: a table numbers its rows
    (序号) or groups them (板块) before the street or item the row is about, and a row label
    merged over several rows labels each of them.
    """

    header: str = ""  # its column's header (the texts of all header rows over it)
    labels: tuple[tuple[str, str], ...] = ()  # (column header, text) of the cells left of it
    caption: str = ""  # the table's 表N caption above it

    @property
    def context(self) -> str:
        """The column header and the row's first label: how a cell is shown."""
        label = self.labels[0][1] if self.labels else ""
        return " ".join(x for x in (self.header, label) if x)


@dataclass(frozen=True)
class Block:
    """One paragraph, table-cell paragraph, text line or PDF paragraph, as written."""

    text: str
    context: str = ""  # a table cell: its column header and row label
    where: int = 0  # docx: the paragraph's number in `docx_paragraphs` order; pdf: page
    cell: Cell | None = None  # a Word table cell: its header, row labels and caption


@dataclass(frozen=True)
class Draft:
    name: str
    format: str  # "docx" | "txt" | "pdf"
    blocks: list[Block]
    encoding: str = ""  # how a text file was decoded, said out loud
    notes: list[str] = field(default_factory=list)

    @property
    def described(self) -> str:
        kind = {"docx": "Word 文档", "txt": "文本文件", "pdf": "PDF（文字层）"}[self.format]
        return f"{kind}（{self.encoding}）" if self.encoding else kind


def read_path(path: Path, limits: Limits) -> Draft:
    """Read a draft file, refusing what is too large before reading it into memory."""
    name = path.name
    if not path.is_file():
        raise DraftRefused(name, "文件不存在或不是普通文件 (no such file)")
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise DraftRefused(name, f"文件 {_mb(size)} MB，超过上限 {_mb(limits.max_file_bytes)} MB")
    return read_bytes(path.read_bytes(), name, limits)


def read_bytes(data: bytes, name: str, limits: Limits) -> Draft:
    """Read a draft from its bytes (the portal's upload, a file's content)."""
    if len(data) > limits.max_file_bytes:
        raise DraftRefused(name, f"文件超过上限 {_mb(limits.max_file_bytes)} MB (file too large)")
    if not data.strip():
        raise DraftRefused(name, "文件是空的 (empty file)")
    if data.startswith(b"PK\x03\x04"):
        return Draft(name, "docx", _docx_blocks(data, name, limits))
    if b"%PDF-" in data[:1024]:
        return Draft(name, "pdf", _pdf_blocks(data, name))
    if data.startswith(_OLE):
        raise DraftRefused(
            name,
            "这是旧版 Word/WPS 格式（.doc/.wps）或加密的文档，请另存为 .docx 后再核对 "
            "(legacy or encrypted binary document)",
        )
    if data.startswith(b"{\\rtf"):
        raise DraftRefused(name, "这是 RTF 文件，请另存为 .docx 或 .txt (RTF is not read)")
    text, encoding = decode_text(data, name)
    lines = [Block(line, where=i) for i, line in enumerate(text.splitlines()) if line.strip()]
    return Draft(name, "txt", lines, encoding=encoding)


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f}".rstrip("0").rstrip(".")


# --- text ---------------------------------------------------------------------------------


def decode_text(data: bytes, name: str) -> tuple[str, str]:
    """(text, encoding label): a BOM decides; else strict UTF-8, else strict GB18030.

    Why no guessing beyond that: UTF-16 without a BOM, Big5 or a binary file would decode
    into plausible-looking nonsense, and a checker reading nonsense finds no figures and
    reports a clean draft. Such files are refused, and the encoding used is always shown.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                return _plain(data.decode(codec), name), label
            except UnicodeDecodeError as exc:
                raise DraftRefused(name, f"以 {label} 解码失败（第 {exc.start} 字节）") from None
    if b"\x00" in data:
        raise DraftRefused(
            name,
            "文件含有空字节：可能是没有 BOM 的 UTF-16 文本或二进制文件，请另存为 UTF-8 "
            "(NUL bytes: UTF-16 without BOM or binary)",
        )
    for codec, label in (("utf-8", "UTF-8"), ("gb18030", "GB18030")):
        try:
            return _plain(data.decode(codec), name), label
        except UnicodeDecodeError:
            continue
    raise DraftRefused(
        name, "既不是 UTF-8 也不是 GB18030 编码的文本 (neither UTF-8 nor GB18030 text)"
    )


def _plain(text: str, name: str) -> str:
    if _CONTROL.search(text):
        raise DraftRefused(name, "文件含有控制字符，不是纯文本 (control characters: not text)")
    return text


# --- docx ---------------------------------------------------------------------------------


def _check_zip(data: bytes, name: str, limits: Limits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile:
        raise DraftRefused(name, "zip 结构损坏，不是完整的 .docx (damaged zip)") from None
    if len(infos) > limits.max_zip_entries:
        raise DraftRefused(
            name, f"压缩包内有 {len(infos)} 个部件，超过上限 {limits.max_zip_entries}"
        )
    unpacked = sum(i.file_size for i in infos)
    if unpacked > limits.max_unzipped_bytes:
        raise DraftRefused(
            name,
            f"解压后有 {_mb(unpacked)} MB，超过上限 {_mb(limits.max_unzipped_bytes)} MB，"
            "已拒绝（疑似压缩炸弹） (unpacks beyond the limit)",
        )
    if any(i.flag_bits & 0x1 for i in infos):
        raise DraftRefused(name, "压缩包内有加密的部件 (encrypted zip members)")
    if "word/document.xml" not in {i.filename for i in infos}:
        raise DraftRefused(
            name, "这是 zip 文件，但不是 Word 文档（没有 word/document.xml） (not a .docx)"
        )


def open_docx(data: bytes, name: str, limits: Limits) -> Any:
    """The python-docx Document of a checked zip (a .docm's macros are never touched)."""
    _check_zip(data, name, limits)
    try:
        part = Package.open(io.BytesIO(data)).main_document_part
    except Exception as exc:  # python-docx and lxml raise many kinds for a damaged package
        raise DraftRefused(
            name, f"Word 文档结构无法解析 (damaged document: {type(exc).__name__})"
        ) from None
    if part.content_type not in (CT.WML_DOCUMENT_MAIN, DOCM_MAIN):
        raise DraftRefused(name, f"不是 Word 正文文档（{part.content_type}）")
    return part.document


def _docx_blocks(data: bytes, name: str, limits: Limits) -> list[Block]:
    document = open_docx(data, name, limits)
    return [
        Block(paragraph_text(p), cell.context if cell else "", where=i, cell=cell)
        for i, (p, cell) in enumerate(docx_paragraphs(document))
        if paragraph_text(p).strip()
    ]


def docx_paragraphs(document: Any) -> Iterator[tuple[Any, Cell | None]]:
    """(w:p element, its table cell or None) of every paragraph, in the order a reader meets
    them. The annotator walks the same sequence, so a block's `where` finds its paragraph again.
    """
    yield from _walk(document.element.body, None)


def _walk(container: Any, cell: Cell | None) -> Iterator[tuple[Any, Cell | None]]:
    caption = ""  # the last paragraph before a table, when it is a 表N caption
    for child in container.iterchildren():
        if child.tag == W + "p":
            yield child, cell
            for box in _text_boxes(child):
                yield from _walk(box, cell)
            if text := paragraph_text(child).strip():
                caption = text if _CAPTION.match(text) else ""
        elif child.tag == W + "tbl":
            yield from _table(child, caption)
            caption = ""
        elif child.tag in (W + "sdt", W + "customXml"):
            content = child.find(W + "sdtContent")
            yield from _walk(content if content is not None else child, cell)


def _text_boxes(p: Any) -> Iterator[Any]:
    """Outermost text boxes anchored in a paragraph (not the VML fallback copy of each)."""
    for box in p.iter(W + "txbxContent"):
        ancestors = {a.tag for a in _ancestors(box, p)}
        if W + "txbxContent" not in ancestors and _MC_FALLBACK not in ancestors:
            yield box


def _ancestors(element: Any, stop: Any) -> Iterator[Any]:
    node = element.getparent()
    while node is not None and node is not stop:
        yield node
        node = node.getparent()


@dataclass(frozen=True)
class _Slot:
    col: int  # first grid column
    span: int  # grid columns it covers (gridSpan)
    tc: Any
    text: str
    continued: bool  # the lower part of a vertically merged cell (its text is the top's)


def _slots(tr: Any, above: dict[int, str]) -> list[_Slot]:
    """The cells of a row by grid column (gridSpan), a vMerge continuation given the text of
    the cell it continues, so a label merged over several rows labels each of them."""
    out, col = [], 0
    for tc in tr.iterchildren(W + "tc"):
        span_el = tc.find(f"{W}tcPr/{W}gridSpan")
        span = int(span_el.get(W + "val")) if span_el is not None else 1
        merge = tc.find(f"{W}tcPr/{W}vMerge")
        continued = merge is not None and merge.get(W + "val") in (None, "continue")
        text = above.get(col, "") if continued else _cell_text(tc)
        out.append(_Slot(col, span, tc, text, continued))
        col += span
    for slot in out:
        above[slot.col] = slot.text
    return out


def _cell_text(tc: Any) -> str:
    return "".join(paragraph_text(p) for p in tc.iter(W + "p")).strip()


def _header_rows(rows: list[list[_Slot]], trs: list[Any]) -> int:
    """How many rows head the table: the first, and those after it that Word repeats as header
    rows (tblHeader) or whose first cell continues a header cell merged downwards."""
    count = 1 if rows else 0
    while count < len(rows):
        marked = trs[count].find(f"{W}trPr/{W}tblHeader") is not None
        first = rows[count][0] if rows[count] else None
        if not (marked or (first is not None and first.col == 0 and first.continued)):
            break
        count += 1
    return count


def _headers(rows: list[list[_Slot]]) -> dict[int, str]:
    """Each grid column's header: the texts of the header rows over it, top to bottom."""
    parts: dict[int, list[str]] = {}
    for row in rows:
        for slot in row:
            for col in range(slot.col, slot.col + slot.span):
                seen = parts.setdefault(col, [])
                if slot.text and (not seen or seen[-1] != slot.text):
                    seen.append(slot.text)
    return {col: " ".join(texts) for col, texts in parts.items()}


def _table(tbl: Any, caption: str) -> Iterator[tuple[Any, Cell | None]]:
    trs = list(tbl.iterchildren(W + "tr"))
    above: dict[int, str] = {}
    rows = [_slots(tr, above) for tr in trs]
    heads = _header_rows(rows, trs)
    header = _headers(rows[:heads])
    for r, row in enumerate(rows):
        for i, slot in enumerate(row):
            if slot.continued:
                continue  # its paragraphs are empty; the text belongs to the cell above
            if r < heads:
                yield from _walk(slot.tc, None)
                continue
            labels = tuple((header.get(s.col, ""), s.text) for s in row[:i] if s.text)
            yield from _walk(slot.tc, Cell(header.get(slot.col, ""), labels, caption))


def paragraph_runs(p: Any) -> list[Any]:
    """The w:r of a paragraph that Word shows as its text (tracked deletions and the runs of
    text boxes and nested paragraphs left out)."""
    runs = []
    for r in p.iter(W + "r"):
        if not any(a.tag in _SKIPPED_ANCESTORS or a.tag == W + "p" for a in _ancestors(r, p)):
            runs.append(r)
    return runs


def child_text(child: Any) -> str:
    """The text one child of a w:r contributes (tabs and breaks as characters)."""
    if child.tag == W + "t":
        return child.text or ""
    return _CHARACTERS.get(child.tag, "")


def run_text(r: Any) -> str:
    return "".join(child_text(child) for child in r.iterchildren())


def paragraph_text(p: Any) -> str:
    return "".join(run_text(r) for r in paragraph_runs(p))


# --- pdf ----------------------------------------------------------------------------------


def _pdf_blocks(data: bytes, name: str) -> list[Block]:
    try:
        pdf = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        reason = "PDF 已加密，请提供未加密的文件" if "password" in str(exc).lower() else ""
        raise DraftRefused(name, reason or f"PDF 无法打开 (damaged PDF: {exc})") from None
    blocks: list[Block] = []
    try:
        for number in range(len(pdf)):
            page = pdf[number]
            textpage = page.get_textpage()
            text = textpage.get_text_bounded()
            textpage.close()
            page.close()
            blocks.extend(Block(par, where=number + 1) for par in _reflow(text))
    finally:
        pdf.close()
    if not any(any(ch.isalnum() for ch in b.text) for b in blocks):
        raise DraftRefused(
            name, "PDF 没有文字层（可能是扫描件），无法读出数字 (no text layer: scanned?)"
        )
    return blocks


_PARAGRAPH_END = re.compile(r"[。!?！？:：;；]$")


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _reflow(text: str) -> list[str]:
    """A page's lines back into paragraphs: a PDF breaks lines where the page is full.

    A line ends its paragraph when it ends a sentence or is clearly narrower than the page's
    full lines (a heading, the last line of a paragraph), measured in display width (a Han
    character is two digits wide); otherwise the next line continues it without a space —
    Chinese has none, and a number broken over two lines is rejoined.
    """
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    full = max((_width(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current = ""
    for line in lines:
        current += line
        if _PARAGRAPH_END.search(line) or _width(line) < 0.8 * full:
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs

"""What a dropped file is, judged by its bytes: its kind, its text encoding, its content hash.

Why by content: clerks rename files, systems export HTML under `.xls`, and a `.xlsx` may be an
old `.xls` saved under the new name. The extension must be one the bureau accepts (a `.bak`
copy or a `.doc` is never loaded), but which reader runs is decided by the bytes, and a
mismatch is said in the batch notes. Encodings are decided strictly, never guessed: UTF-8 (with
or without BOM), GB18030/GBK, or UTF-16 with its BOM (Excel's "Unicode 文本"); anything else is
refused rather than read as mojibake.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from urbanreport.core.config import SOURCES_FILE
from urbanreport.ingest.refusal import FileRefused


@dataclass(frozen=True)
class Format:
    """One accepted kind of file: its extensions, what reads it, and how the guide names it."""

    extensions: tuple[str, ...]
    reader: str  # table | workbook | jsonl | archive
    name: str
    notes: str
    short: str  # as a refusal lists it


def _formats() -> tuple[Format, ...]:
    """The [[inbox.formats]] of sources.toml: the docs' file table is generated from it too."""
    inbox = tomllib.loads(SOURCES_FILE.read_text("utf-8"))["inbox"]
    return tuple(Format(**(f | {"extensions": tuple(f["extensions"])})) for f in inbox["formats"])


FORMATS: tuple[Format, ...] = _formats()
READER_OF = {ext: f.reader for f in FORMATS for ext in f.extensions}
ACCEPTED = "可导入的格式 (accepted formats): " + "、".join(
    f"{' '.join(f.extensions)}（{f.short}）" for f in FORMATS
)

#: What a file that cannot be loaded is, by content kind: (中文, English).
KIND_NAMES: dict[str, tuple[str, str]] = {
    "doc": ("Word 文档", "a Word document"),
    "docx": ("Word 文档", "a Word document"),
    "ppt": ("PowerPoint 演示文稿", "a PowerPoint file"),
    "pptx": ("PowerPoint 演示文稿", "a PowerPoint file"),
    "ole": ("Office 文档（不是 Excel 工作簿）", "an Office file that is not a workbook"),
    "encrypted": ("设有打开密码的 Office 文件", "a password-protected Office file"),
    "pdf": ("PDF 文件，其中的表格无法读取", "a PDF file"),
    "image": ("图片（扫描件或照片）", "an image"),
    "rtf": ("RTF 文档", "an RTF document"),
    "html": ("网页（HTML）格式", "a web page (HTML)"),
    "xmlss": ("XML 表格（Excel 2003 XML）", "an Excel 2003 XML spreadsheet"),
    "ods": ("OpenDocument 表格", "an OpenDocument spreadsheet"),
    "rar": ("RAR 压缩包", "a RAR archive"),
    "7z": ("7z 压缩包", "a 7z archive"),
    "gzip": ("gzip 压缩文件", "a gzip file"),
    "zip": ("ZIP 压缩包", "a ZIP archive"),
    "damaged": ("已损坏的文件", "a damaged file"),
    "binary": ("无法识别的二进制文件", "an unrecognised binary file"),
}

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "pdf"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
    (b"{\\rtf", "rtf"),
)
#: Streams of an OLE2 compound file (UTF-16LE directory names) that tell what it holds.
_OLE_STREAMS: tuple[tuple[bytes, str], ...] = (
    ("EncryptedPackage".encode("utf-16-le"), "encrypted"),
    ("Workbook".encode("utf-16-le"), "xls"),
    ("Book".encode("utf-16-le"), "xls"),
    ("WordDocument".encode("utf-16-le"), "doc"),
    ("PowerPoint Document".encode("utf-16-le"), "ppt"),
)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Sniffed:
    """A file's content hash, its kind (text, xlsx, xls, zip, pdf, …) and a text encoding."""

    content_hash: str
    kind: str
    encoding: str | None = None  # utf-8, utf-8-sig, gb18030, utf-16 or unknown (text only)


@dataclass(frozen=True)
class Plan:
    """Which reader runs for a file, and what the batch notes say about its format."""

    reader: str  # table | workbook | jsonl | archive
    kind: str
    encoding: str | None
    notes: list[str] = field(default_factory=list)


def sniff(path: Path) -> Sniffed:
    """Hash the file and tell its kind in one pass (plus one more for a non-UTF-8 text)."""
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    utf8_ok, has_nul, head = True, False, b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            head = head or chunk[:4096]
            digest.update(chunk)
            has_nul = has_nul or b"\x00" in chunk
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
    content_hash = digest.hexdigest()
    if not head:
        return Sniffed(content_hash, "empty")
    kind = _magic_kind(head)
    if kind == "ole":
        return Sniffed(content_hash, _ole_kind(path))
    if kind == "zip":
        return Sniffed(content_hash, _zip_kind(path))
    if kind is not None:
        return Sniffed(content_hash, kind)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Sniffed(content_hash, _markup_kind(head, "utf-16"), "utf-16")
    if has_nul:
        return Sniffed(content_hash, "text", "unknown")
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    else:
        encoding = "gb18030" if _reads_as_gb18030(path) else "unknown"
    return Sniffed(content_hash, _markup_kind(head, encoding), encoding)


def _magic_kind(head: bytes) -> str | None:
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def _markup_kind(head: bytes, encoding: str) -> str:
    """HTML or Excel 2003 XML saved under a spreadsheet name is text, but not a table we read."""
    try:
        text = head.decode("utf-16" if encoding == "utf-16" else "latin-1", "ignore")
    except LookupError:
        return "text"
    start = text.lstrip("\ufeff \t\r\n").lower()[:2048]
    if start.startswith(("<!doctype html", "<html", "<table", "<meta")):
        return "html"
    if start.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in start:
        return "xmlss"
    if start.startswith("<?xml") and "<html" in start:
        return "html"
    return "text"


def _ole_kind(path: Path, limit: int = 64 << 20) -> str:
    """xls, doc, ppt or encrypted: the stream names in the compound file's directory."""
    found: set[str] = set()
    tail = b""
    with path.open("rb") as fh:
        read = 0
        while read < limit and (chunk := fh.read(_CHUNK)):
            read += len(chunk)
            block = tail + chunk
            found.update(kind for name, kind in _OLE_STREAMS if name in block)
            tail = block[-64:]
    for kind in ("encrypted", "xls", "doc", "ppt"):
        if kind in found:
            return kind
    return "ole"


def _zip_kind(path: Path) -> str:
    """xlsx (also .xlsm), docx, pptx, ods or a plain zip archive, by the package's parts."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return "damaged"
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        return "xlsx"
    if "word/document.xml" in names:
        return "docx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    if mimetype.startswith(b"application/vnd.oasis.opendocument"):
        return "ods"
    return "zip"


# Characters a Chinese administrative export does not hold but Big5 (Traditional Chinese) bytes
# read as GB18030 produce by the dozen: kana, bopomofo and private-use code points.
_NOT_GB_TEXT = re.compile("[\u3040-\u30ff\u3100-\u312f\ue000-\uf8ff]")


def _reads_as_gb18030(path: Path) -> bool:
    """Strictly decodable as GB18030 and not mojibake of another encoding (e.g. Big5).

    Big5 bytes are valid GB18030 byte pairs, so strict decoding alone would accept a Big5 file
    as gibberish. A few private-use characters (locally made 造字 in personal names) are
    tolerated; three or more that are also over one in fifty of the non-ASCII characters mean
    another encoding. (A Big5 file too small to tell still fails: its street, category or type
    values match no dictionary, so none of its rows load.)
    """
    decoder = codecs.getincrementaldecoder("gb18030")()
    non_ascii = suspicious = 0
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                text = decoder.decode(chunk)
                non_ascii += len(text) - len(text.encode("ascii", "ignore"))
                suspicious += len(_NOT_GB_TEXT.findall(text))
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return suspicious < 3 or suspicious * 50 <= non_ascii


# --- judging: extension and content together -------------------------------------------------

UNKNOWN_ENCODING = (
    "无法识别文件编码：既不是UTF-8、GB18030，也不是带BOM的UTF-16（Big5等请另存为UTF-8） "
    "(unknown text encoding: neither UTF-8, GB18030 nor UTF-16 with BOM; save the file as UTF-8)"
)
_READER_NAMES = {
    "table": "CSV/文本表格 (CSV)",
    "workbook": "Excel 工作簿 (workbook)",
    "jsonl": "JSON Lines",
    "archive": "ZIP 压缩包 (archive)",
}
_CONTENT_READER = {"xlsx": "workbook", "xls": "workbook", "zip": "archive"}


def head_text(path: Path, encoding: str | None, size: int = 4096) -> str:
    """The first characters of a text file (to tell JSON Lines from a table)."""
    codec = {"utf-8": "utf-8-sig", "utf-8-sig": "utf-8-sig"}.get(encoding or "", encoding)
    if codec in (None, "unknown"):
        return ""
    with path.open("rb") as fh:
        return fh.read(size).decode(codec, "ignore")


def plan(name: str, sniffed: Sniffed, head_text: str | None = None) -> Plan:
    """The reader for a file named `name` (inside an archive: `a.zip!x.csv`).

    Raises FileRefused, naming what the file is and the accepted formats, for an extension the
    inbox does not take, content no reader handles, or a text in an unknown encoding.
    `head_text` (the start of a text file) tells JSON Lines from a table.
    """
    in_archive = "!" in name
    ext = PurePosixPath(name.rpartition("!")[2]).suffix.lower()
    claimed = READER_OF.get(ext)
    if sniffed.kind == "empty":
        raise FileRefused("文件为空 (the file is empty)")
    if claimed is None:
        raise FileRefused(_unsupported(ext, sniffed.kind))
    reader = _CONTENT_READER.get(sniffed.kind)
    if sniffed.kind == "text":
        if sniffed.encoding == "unknown":
            raise FileRefused(UNKNOWN_ENCODING)
        reader = _text_reader(head_text)
    if reader is None:
        raise FileRefused(_wrong_content(ext, sniffed.kind))
    if reader == "archive" and in_archive:
        raise FileRefused("压缩包内不能再嵌套压缩包 (an archive inside an archive is refused)")
    notes = []
    if reader != claimed:
        notes.append(
            f"扩展名为 {ext}，但内容是{_READER_NAMES[reader]}，已按内容读取 "
            f"(the content is not what {ext} says; read by its content)"
        )
    elif sniffed.kind == "xls" and ext != ".xls":
        notes.append(
            f"扩展名为 {ext}，但内容是旧版 .xls（Excel 97–2003）格式，已按 .xls 读取 "
            f"(an .xls workbook saved under {ext}; read as .xls)"
        )
    return Plan(reader, sniffed.kind, sniffed.encoding, notes)


def _text_reader(head_text: str | None) -> str | None:
    """JSON Lines when the text starts with an object; a JSON document is not JSON Lines."""
    start = (head_text or "").lstrip("\ufeff \t\r\n")
    if start.startswith("["):
        return None
    return "jsonl" if start.startswith("{") else "table"


def _unsupported(ext: str, kind: str) -> str:
    shown = ext or "（无扩展名 no extension）"
    if ext == ".json":
        return (
            "不支持 .json 文件：请导出为 JSON Lines（.jsonl，每行一个JSON对象） "
            f"(.json is not accepted: export JSON Lines, one object per line); {ACCEPTED}"
        )
    zh, en = ("文本文件", "a text file") if kind == "text" else _names(kind)
    return f"不支持的文件类型 {shown}：这是{zh} (unsupported file type: {en}); {ACCEPTED}"


def _names(kind: str) -> tuple[str, str]:
    return KIND_NAMES.get(kind, KIND_NAMES["binary"])


def _wrong_content(ext: str, kind: str) -> str:
    if kind == "text":
        return (
            f"扩展名为 {ext}，但内容是 JSON 文档，不是 JSON Lines（每行一个对象） "
            f"(a JSON document, not JSON Lines); {ACCEPTED}"
        )
    advice = ""
    if kind in ("html", "xmlss", "ods"):
        advice = "请用 Excel 打开后另存为 .xlsx (open it in Excel and save it as .xlsx); "
    elif kind == "encrypted":
        advice = "请去掉打开密码后重新保存 (remove the password and save again); "
    zh, en = _names(kind)
    return (
        f"扩展名为 {ext}，但这是{zh} (the content is {en}, not what {ext} says); {advice}{ACCEPTED}"
    )

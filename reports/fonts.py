"""The report fonts: one sans (headings, tables, charts) and one serif (body), both embedded.

Why this module exists at all:

* The PDF must embed every font. reportlab's built-in CID fonts (``STSong-Light``) are *not*
  embedded and show as empty boxes on machines without that font, and reportlab's ``TTFont``
  embeds only TrueType-outline fonts: OpenType/CFF files such as Noto CJK ``.otf`` are refused.
* The fonts must come from a Python package that ``pip install`` brings, so a fresh machine
  with only python3 and pip can render reports. Noto Sans SC / Noto Serif SC (SIL Open Font
  License 1.1) are published on the package index as ``.otf`` in ``pylopdf-fonts-zh-cn``.
* The web portal serves the TrueType file through ``@font-face`` (:func:`font_file`), so the
  portal and the PDF look alike.

Why glyphs are converted when they are first printed, not all at once:

Converting all 31,000 glyphs of both faces from cubic CFF to quadratic TrueType outlines
(fontTools' cu2qu, already on both cores) took 86 s (149 s on a busy machine) before a
newcomer saw the first PDF; even GB 2312 alone (8,100 glyphs a face) takes 33 s. No maintained
package ships these faces with TrueType outlines: the package index has Google's
``NotoSansSC[wght].ttf`` only inside a young bundle of four sans faces (no serif), and as a
variable font that would still need instancing. So the ``.otf`` stays the source, and a glyph is
converted the first time a document prints it: the first monthly brief prints about 200
distinct characters, all reports of the sample about 330 a face, so the first report waits
2-5 s, once per machine.

* Glyph ids stay those of the ``.otf``; a glyph not yet converted is empty and no character maps
  to it. Converted glyphs accumulate in one cached file per face.
* reportlab measures every character the ``.otf`` maps (advance widths come from its ``hmtx``),
  so line breaking is right before an outline exists. Just before reportlab writes a PDF's font
  objects, :class:`_CompletingFont` converts the outlines that PDF prints and not yet cached.
* The tables reportlab copies into each embedded subset (``head``, ``hhea``, ``OS/2``, ``name``,
  ``post``) are the ``.otf``'s own, unchanged, and ``maxp`` is computed per subset from the
  glyphs it holds. So a PDF's bytes depend on the characters it prints, never on what the cache
  held before (same input, same bytes, from an empty or a warm cache).
* matplotlib rasterises the ``.otf`` itself (Agg reads CFF outlines): charts need no conversion.
* The portal's file (:func:`font_file`) first gets all of GB 2312 and of the real place names
  converted, on all cores (in the background when the portal starts); a browser draws any
  character still unmapped in a fallback font, never as a blank. ``GSUB`` is dropped because it
  could substitute a glyph that is still empty; ``GPOS`` (kerning) is kept, since glyph ids are
  unchanged.

An operator can point ``URBANREPORT_FONT_SANS`` / ``URBANREPORT_FONT_SERIF`` at another font file
(e.g. a licensed 仿宋 face). A TrueType file is used as it is; an OpenType/CFF file goes through the
same conversion and cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import io
import os
import struct
import threading
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont as OpenTypeFont
from fontTools.ttLib.sfnt import SFNTReader, SFNTWriter
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable, table__c_m_a_p
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFace

from urbanreport.reports.registry import atomic_write

ROLES = ("sans", "serif")

#: Licence of the bundled faces, for the portal's credits and the operator's documentation.
FONT_LICENCE = "SIL Open Font License 1.1"

#: Where each role's font comes from by default: (module, function returning the path).
_PACKAGE_SOURCES: dict[str, tuple[str, str]] = {
    "sans": ("pylopdf_fonts_zh_cn", "sans_path"),
    "serif": ("pylopdf_fonts_zh_cn", "serif_path"),
}

#: Last resort on a Debian machine without the package: WenQuanYi Micro Hei (Apache-2.0 / GPL
#: with font exception), TrueType already, serves both roles.
_SYSTEM_FALLBACKS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)

#: Bump when the conversion changes, so cached files made by an older version are not reused.
_CONVERTER_VERSION = "2"

#: Names under which the fonts are registered with reportlab.
REPORTLAB_NAMES = {"sans": "UrbanReportSans", "serif": "UrbanReportSerif"}

#: Besides GB 2312, what the portal's web font covers: ASCII, Latin-1, general punctuation,
#: letter-like symbols (℃ №), number forms (Ⅻ), arrows, mathematical operators, enclosed numbers
#: (①), box drawing and geometric shapes (■ ●), CJK punctuation, full- and half-width forms.
_WEB_BLOCKS = (
    (0x0020, 0x007E),
    (0x00A0, 0x00FF),
    (0x2000, 0x206F),
    (0x2100, 0x218F),
    (0x2190, 0x22FF),
    (0x2460, 0x24FF),
    (0x2500, 0x25FF),
    (0x3000, 0x303F),
    (0xFF00, 0xFFEF),
)

#: Tables of the source left out of the converted file: the CFF outlines and their vertical
#: origins, the signature (no longer valid), and substitutions (they could reach empty glyphs).
_DROPPED_TABLES = {"CFF ", "CFF2", "VORG", "DSIG", "GSUB"}
#: Tables the converted file computes itself; every other table is the source's, byte for byte.
_BUILT_TABLES = {"glyf", "loca", "hmtx", "cmap", "maxp", "head", "hhea"}

#: Below this many glyphs a conversion runs in the calling process: starting workers costs more.
_PARALLEL_FROM = 1500
_CHUNK = 400  # glyphs per worker task: small enough that all cores finish together

_TRUETYPE_MAGICS = (b"\x00\x01\x00\x00", b"true")


class FontUnavailable(RuntimeError):
    """No usable CJK font: the report would print boxes, so refuse instead."""


# --- where things are ---------------------------------------------------------------------


def cache_dir() -> Path:
    """The directory holding converted fonts.

    The user cache directory is shared by every ``$URBANREPORT_HOME`` on the machine (the fonts
    do not depend on the data), so tests with throw-away homes do not convert again. If it is
    not writable (a locked-down service account), ``$URBANREPORT_HOME/.cache/fonts`` is used.
    """
    explicit = os.environ.get("URBANREPORT_FONT_CACHE")
    if explicit:
        return Path(explicit)
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        candidate = Path(base) / "urbanreport" / "fonts"
        candidate.mkdir(parents=True, exist_ok=True)
        if os.access(candidate, os.W_OK):
            return candidate
    except (OSError, RuntimeError):  # no home directory, or a read-only one
        pass
    home = Path(os.environ.get("URBANREPORT_HOME") or "var").resolve()
    return home / ".cache" / "fonts"


def source_file(role: str) -> Path:
    """The original font file for ``role`` (before any conversion)."""
    _check_role(role)
    override = os.environ.get(f"URBANREPORT_FONT_{role.upper()}")
    if override:
        path = Path(override)
        if not path.is_file():
            raise FontUnavailable(f"URBANREPORT_FONT_{role.upper()} 指向的字体文件不存在：{path}")
        return path
    module_name, func_name = _PACKAGE_SOURCES[role]
    try:
        module = importlib.import_module(module_name)
        path = Path(getattr(module, func_name)())
        if path.is_file():
            return path
    except ImportError:
        pass
    for fallback in _SYSTEM_FALLBACKS:
        if fallback.is_file():
            return fallback
    raise FontUnavailable(
        "找不到中文字体。请安装项目依赖（pip install -e .，其中包含 pylopdf-fonts-zh-cn），"
        "或设置 URBANREPORT_FONT_SANS / URBANREPORT_FONT_SERIF 指向 TrueType 字体文件。"
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown font role {role!r}; expected one of {ROLES}")


@cache
def web_characters() -> frozenset[int]:
    """What :func:`font_file` covers at least: GB 2312, :data:`_WEB_BLOCKS`, and every
    character of the real city, district, street and town names the project knows (some, such
    as 鮀 and 礐, are outside GB 2312), since the portal shows them."""
    # Imported here, not at the top: the conversion workers import this module and need none of
    # it (the normaliser loads conversion tables).
    from urbanreport.core.districts import districts

    chars = {c for lo, hi in _WEB_BLOCKS for c in range(lo, hi + 1)}
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(ord(bytes((row, cell)).decode("gb2312")))
    for d in districts().values():
        chars.update(ord(c) for name in (d.city, d.name, *d.divisions) for c in name)
    return frozenset(chars)


@cache
def _digest(path: Path) -> str:
    """Content hash of the source font: a reinstalled or replaced font is converted again."""
    h = hashlib.sha256(_CONVERTER_VERSION.encode())
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _target(source: Path) -> Path:
    return cache_dir() / f"{source.stem}-{_digest(source)}.ttf"


def _kind(source: Path) -> str:
    """``"truetype"`` (embeddable as it is), ``"collection"`` (a .ttc) or ``"cff"``."""
    with source.open("rb") as fh:
        magic = fh.read(4)
    if magic in _TRUETYPE_MAGICS:
        return "truetype"
    if magic == b"ttcf":
        with OpenTypeFont(str(source), fontNumber=0, lazy=True) as face:
            return "cff" if "CFF " in face else "collection"
    return "cff"


# --- converting glyphs ----------------------------------------------------------------------


@cache
def _glyph_set(source: str) -> tuple[Any, list[str]]:
    """The drawable CFF glyphs of ``source`` and its glyph order (kept per process)."""
    font = OpenTypeFont(source, fontNumber=0, lazy=True)
    return font.getGlyphSet(), font.getGlyphOrder()


def convert_glyphs(source: str, gids: Iterable[int]) -> list[tuple[int, bytes]]:
    """TrueType ``glyf`` data of the glyphs ``gids`` of the CFF font ``source``.

    The cubic outlines go through cu2qu at a tolerance of 1 font unit (1/1000 em). PostScript
    contours run counter-clockwise, TrueType ones clockwise, hence ``reverse_direction``. Each
    glyph's data depends only on its own outline, so the same glyph gives the same bytes
    whichever batch converted it.
    """
    glyph_set, order = _glyph_set(source)
    out = []
    for gid in gids:
        pen = TTGlyphPen(None)
        glyph_set[order[gid]].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyph = pen.glyph()
        if glyph.numberOfContours == 0:
            out.append((gid, b""))
            continue
        glyph.recalcBounds(None)
        out.append((gid, glyph.compile(None, recalcBBoxes=False)))
    return out


def _convert_many(jobs: Mapping[Path, Iterable[int]]) -> dict[Path, dict[int, bytes]]:
    """Convert glyphs of one or more sources, on all cores when there are many."""
    tasks = [(str(src), chunk) for src, gids in jobs.items() for chunk in _chunks(sorted(gids))]
    results: dict[Path, dict[int, bytes]] = {Path(src): {} for src in jobs}
    workers = min(_cpu_count(), len(tasks))
    if sum(len(chunk) for _, chunk in tasks) < _PARALLEL_FROM or workers < 2:
        for src, chunk in tasks:
            results[Path(src)].update(convert_glyphs(src, chunk))
        return results
    # Pure Python work: processes, not threads. "spawn" because the caller may hold threads.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [(src, pool.submit(convert_glyphs, src, chunk)) for src, chunk in tasks]
        for src, future in futures:
            results[Path(src)].update(future.result())
    return results


def _chunks(gids: list[int]) -> Iterator[tuple[int, ...]]:
    for start in range(0, len(gids), _CHUNK):
        yield tuple(gids[start : start + _CHUNK])


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def glyph_counts(data: bytes) -> tuple[int, int]:
    """(points, contours) of a simple TrueType glyph's data; (0, 0) for an empty glyph."""
    if len(data) < 10:
        return 0, 0
    contours = struct.unpack_from(">h", data, 0)[0]
    if contours <= 0:
        return 0, 0
    last_point = struct.unpack_from(">H", data, 10 + 2 * (contours - 1))[0]
    return last_point + 1, contours


def maxp_table(glyphs: Iterable[bytes], num_glyphs: int) -> bytes:
    """A version 1.0 ``maxp`` for simple, uninstructed glyphs: the maxima of ``glyphs``."""
    points = contours = 0
    for data in glyphs:
        p, c = glyph_counts(data)
        points, contours = max(points, p), max(contours, c)
    # composite points and contours, maxZones (1: no twilight zone), then twilight points,
    # storage, function and instruction definitions, stack, instruction size, components.
    rest = (0, 0, 1, *[0] * 8)
    return struct.pack(">L14H", 0x00010000, num_glyphs, points, contours, *rest)


# --- the converted file ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """What the converted file takes from its CFF source, read once per process."""

    tables: dict[str, bytes]  # raw, by tag
    num_glyphs: int
    advances: tuple[int, ...]  # by glyph id
    bearings: tuple[int, ...]  # left side bearings, by glyph id
    cmap: dict[int, int]  # code point → glyph id


@cache
def _source(path: Path) -> _Source:
    with path.open("rb") as fh:
        reader = SFNTReader(fh, fontNumber=0)
        tables = {tag: reader[tag] for tag in reader.tables if tag not in _DROPPED_TABLES}
    num_glyphs = struct.unpack_from(">H", tables["maxp"], 4)[0]
    long_metrics = struct.unpack_from(">H", tables["hhea"], 34)[0]
    hmtx = tables["hmtx"]
    pairs = [struct.unpack_from(">Hh", hmtx, 4 * i) for i in range(long_metrics)]
    tail = struct.unpack_from(f">{num_glyphs - long_metrics}h", hmtx, 4 * long_metrics)
    advances = [a for a, _ in pairs] + [pairs[-1][0]] * len(tail)
    bearings = [b for _, b in pairs] + list(tail)
    return _Source(
        tables, num_glyphs, tuple(advances), tuple(bearings), _read_cmap(tables["cmap"], num_glyphs)
    )


@cache
def _numbered(num_glyphs: int) -> Any:
    """A bare font whose glyph names are their ids, to read and write ``cmap`` by glyph id
    (the glyph names of a CFF font cost a parse of the whole CFF table)."""
    font = OpenTypeFont()
    font.setGlyphOrder([f"g{i}" for i in range(num_glyphs)])
    return font


def _read_cmap(data: bytes, num_glyphs: int) -> dict[int, int]:
    table = table__c_m_a_p()
    table.decompile(data, _numbered(num_glyphs))
    return {code: int(name[1:]) for code, name in sorted((table.getBestCmap() or {}).items())}


def _write_cmap(mapping: Mapping[int, int], num_glyphs: int) -> bytes:
    table = table__c_m_a_p()
    table.tableVersion = 0
    table.tables = []
    for platform, encoding, fmt, last in ((3, 1, 4, 0xFFFF), (3, 10, 12, 0x10FFFF)):
        if fmt == 12 and max(mapping, default=0) <= 0xFFFF:
            continue
        sub = CmapSubtable.newSubtable(fmt)
        sub.platformID, sub.platEncID, sub.language = platform, encoding, 0
        sub.cmap = {code: f"g{gid}" for code, gid in sorted(mapping.items()) if code <= last}
        table.tables.append(sub)
    return table.compile(_numbered(num_glyphs))


def _assemble(source: _Source, glyphs: Mapping[int, bytes], chars: Iterable[int]) -> bytes:
    """A TrueType font with the glyph ids of ``source``: ``glyphs`` drawn, ``chars`` mapped.

    Every table but ``glyf``, ``loca``, ``hmtx`` (side bearings of drawn glyphs), ``cmap`` and
    ``maxp`` is the source's own; ``head`` and ``hhea`` change only in their offset formats.
    """
    n = source.num_glyphs
    data = [glyphs.get(gid, b"") for gid in range(n)]
    data = [d + b"\0" * (-len(d) % 4) for d in data]  # glyph bytes never depend on the file
    offsets = [0]
    for d in data:
        offsets.append(offsets[-1] + len(d))
    bearings = [
        struct.unpack_from(">h", d, 2)[0] if d else source.bearings[gid]
        for gid, d in enumerate(data)
    ]
    head = bytearray(source.tables["head"])
    struct.pack_into(">h", head, 50, 1)  # indexToLocFormat: long offsets
    hhea = bytearray(source.tables["hhea"])
    struct.pack_into(">H", hhea, 34, n)  # numberOfHMetrics: a full pair for every glyph
    built = {
        "glyf": b"".join(data),
        "loca": struct.pack(f">{n + 1}L", *offsets),
        "hmtx": b"".join(map(struct.Struct(">Hh").pack, source.advances, bearings)),
        "cmap": _write_cmap({c: source.cmap[c] for c in chars if c in source.cmap}, n),
        "maxp": maxp_table(data, n),
        "head": bytes(head),
        "hhea": bytes(hhea),
    }
    tables = {**{t: d for t, d in source.tables.items() if t not in _BUILT_TABLES}, **built}
    out = io.BytesIO()
    writer = SFNTWriter(out, len(tables), sfntVersion="\x00\x01\x00\x00")
    for tag in sorted(tables):
        writer[tag] = tables[tag]
    writer.close()
    return out.getvalue()


def _read_converted(target: Path) -> tuple[dict[int, bytes], set[int]]:
    """The drawn glyphs (by id) and the mapped characters of a converted file."""
    if not target.is_file():
        return {}, set()
    with target.open("rb") as fh:
        reader = SFNTReader(fh)
        glyf, loca, cmap, maxp = (reader[t] for t in ("glyf", "loca", "cmap", "maxp"))
    n = struct.unpack_from(">H", maxp, 4)[0]
    offsets = struct.unpack_from(f">{n + 1}L", loca)
    drawn = {g: glyf[offsets[g] : offsets[g + 1]] for g in range(n) if offsets[g + 1] > offsets[g]}
    return drawn, set(_read_cmap(cmap, n))


@contextlib.contextmanager
def _conversion_lock() -> Iterator[None]:
    """Two processes starting at once (a report and the portal) convert only once."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _extract_face(source: Path, target: Path) -> None:
    """The first face of a TrueType collection, as a file reportlab and browsers can load."""
    with OpenTypeFont(str(source), fontNumber=0) as font:
        font.recalcTimestamp = False
        buffer = io.BytesIO()
        font.save(buffer)
    atomic_write(target, buffer.getvalue())


def ensure_fonts(roles: tuple[str, ...] = ROLES) -> dict[str, Path]:
    """The TrueType file of each role, created if not yet cached.

    A new file of a CFF face has ``.notdef`` and ASCII drawn; :func:`cover` adds characters.
    """
    result: dict[str, Path] = {}
    for role in roles:
        source = source_file(role)
        kind = _kind(source)
        if kind == "truetype":
            result[role] = source
            continue
        target = result[role] = _target(source)
        if target.is_file():
            continue
        with _conversion_lock():
            if target.is_file():
                continue
            if kind == "collection":
                _extract_face(source, target)
            else:
                _cover_many({source: (target, set(range(0x20, 0x7F)))})
    return result


def cover(chars: Mapping[str, Iterable[int]]) -> dict[str, Path]:
    """Convert the outlines of ``chars`` (code points, by role) into the cached files.

    The glyphs of all roles are converted together, on all cores when they are many. Characters
    a source font does not have are left out (they print as its missing-glyph box, as with any
    font). Safe against other processes extending the same files at once. Returns each role's
    file.
    """
    files = ensure_fonts(tuple(chars))
    todo = {}
    for role, wanted in chars.items():
        source = source_file(role)
        if _kind(source) == "cff":
            todo[source] = (files[role], set(wanted))
    if todo:
        with _conversion_lock():
            _cover_many(todo)
    return files


def _cover_many(todo: Mapping[Path, tuple[Path, set[int]]]) -> None:
    """Under the lock: add the characters each source has and its target lacks."""
    current = {source: _read_converted(target) for source, (target, _) in todo.items()}
    new_chars = {}
    for source, (_, wanted) in todo.items():
        cmap = _source(source).cmap
        new = {c for c in wanted if cmap.get(c)} - current[source][1]
        if new:
            new_chars[source] = new
    if not new_chars:
        return
    jobs = {s: {0, *(_source(s).cmap[c] for c in new)} for s, new in new_chars.items()}
    converted = _convert_many({s: gids - current[s][0].keys() for s, gids in jobs.items()})
    for source, new in new_chars.items():
        drawn, mapped = current[source]
        drawn.update((gid, data) for gid, data in converted[source].items() if data)
        target = todo[source][0]
        atomic_write(target, _assemble(_source(source), drawn, mapped | new))


def font_file(role: str) -> Path:
    """The embeddable TrueType file of ``role`` ("sans" or "serif").

    The same file the PDF embeds its subsets from; the portal serves it through ``@font-face``.
    It maps at least GB 2312 (converted on first call) and whatever reports have printed.
    """
    _check_role(role)
    return cover({role: web_characters()})[role]


# --- reportlab ------------------------------------------------------------------------------


class _CompletingFace(TTFontFace):
    """A converted face that measures every character of its source and embeds a true ``maxp``.

    reportlab copies ``maxp`` into each subset; the converted file's own one describes all the
    glyphs converted so far, which would make a PDF depend on the cache. Each subset gets the
    maxima of the glyphs it holds instead.
    """

    role: str
    converted: frozenset[int]
    _subset_maxp: bytes | None

    @classmethod
    def adopt(cls, face: TTFontFace, role: str) -> _CompletingFace:
        """The already parsed ``face``, extended (no second parse of the file)."""
        new = cls.__new__(cls)
        new.__dict__.update(face.__dict__)
        new.role = role
        new._measure_all()
        return new

    @classmethod
    def from_file(cls, file: Path, role: str) -> _CompletingFace:
        """The face of ``file``, a newer version of the converted file of ``role``."""
        face = cls(str(file))
        face.role = role
        face._measure_all()
        return face

    def _measure_all(self) -> None:
        self.converted = frozenset(self.charToGlyph)
        for code, gid in _source(source_file(self.role)).cmap.items():
            if code not in self.charToGlyph and 0 < gid < self.numGlyphs:
                self.charToGlyph[code] = gid
                self.charWidths[code] = self._pdfScale(self.hmetrics[gid][0])
        self._subset_maxp = None

    def get_table(self, tag: str) -> bytes:
        if tag == "maxp" and self._subset_maxp is not None:
            return self._subset_maxp
        return super().get_table(tag)

    def _glyph_data(self, gid: int) -> bytes:
        start = self.get_table_pos("glyf")[0]
        return self._ttf_data[start + self.glyphPos[gid] : start + self.glyphPos[gid + 1]]

    def makeSubset(self, subset: list[int]) -> bytes:  # noqa: N802 - reportlab's name
        gids = sorted({0, *(self.charToGlyph.get(c, 0) for c in subset)})
        # reportlab puts the subset's own glyph count into this table.
        self._subset_maxp = maxp_table((self._glyph_data(g) for g in gids), self.numGlyphs)
        try:
            return super().makeSubset(subset)
        finally:
            self._subset_maxp = None


class _CompletingFont(TTFont):
    """Converts the outlines a PDF prints just before reportlab writes the PDF's font objects."""

    face: _CompletingFace

    def __init__(self, role: str, path: Path) -> None:
        super().__init__(REPORTLAB_NAMES[role], str(path))
        self.face = _CompletingFace.adopt(self.face, role)
        self._lock = threading.Lock()

    def addObjects(self, doc: Any) -> None:  # noqa: N802 - reportlab's name
        # One document at a time: the face may be replaced, and reportlab's subsetting keeps a
        # read position in the face.
        with self._lock:
            state = self.state.get(doc)
            if state is not None:
                printed = {code for subset in state.subsets for code in subset}
                face = self.face
                missing = {c for c in printed if c in face.charToGlyph} - face.converted
                if missing:
                    path = cover({face.role: missing})[face.role]
                    # A new object, not a re-parse in place: text measured meanwhile by another
                    # thread sees either face, and both know every width.
                    self.face = _CompletingFace.from_file(path, face.role)
            super().addObjects(doc)


# --- registration -------------------------------------------------------------------------


@dataclass(frozen=True)
class FontSet:
    """Names to use once the fonts are registered."""

    sans: str  # reportlab font name
    serif: str
    sans_family: str  # matplotlib family name
    serif_family: str
    files: dict[str, Path]  # the embedded TrueType files (also the portal's)


@cache
def register_fonts() -> FontSet:
    """Register both fonts with reportlab and matplotlib (once per process)."""
    from matplotlib import font_manager  # here: the portal uses this module without charts

    files = ensure_fonts()
    families: dict[str, str] = {}
    for role, path in files.items():
        source = source_file(role)
        if _kind(source) == "cff":
            pdfmetrics.registerFont(_CompletingFont(role, path))
            chart_file = source  # Agg draws CFF outlines: every glyph, no conversion
        else:
            pdfmetrics.registerFont(TTFont(REPORTLAB_NAMES[role], str(path)))
            chart_file = path
        font_manager.fontManager.addfont(str(chart_file))
        families[role] = font_manager.FontProperties(fname=str(chart_file)).get_name()
    return FontSet(
        sans=REPORTLAB_NAMES["sans"],
        serif=REPORTLAB_NAMES["serif"],
        sans_family=families["sans"],
        serif_family=families["serif"],
        files=files,
    )

"""The report fonts: one sans (headings, tables, charts) and one serif (body), both TrueType.

Why this module exists at all:

* The PDF must embed every font. reportlab's built-in CID fonts (``STSong-Light``) are *not*
  embedded and show as empty boxes on machines without that font, and reportlab's ``TTFont``
  embeds only TrueType-outline fonts: OpenType/CFF files such as Noto CJK ``.otf`` are refused.
* The fonts must come from a Python package that ``pip install`` brings, so a fresh machine
  with only python3 and pip can render reports. Noto Sans SC / Noto Serif SC (SIL Open Font
  License 1.1) are published on the package index as ``.otf`` in ``pylopdf-fonts-zh-cn``; we
  convert their cubic CFF outlines to quadratic TrueType outlines with fontTools **once** and
  keep the result in a cache directory, because the conversion takes tens of seconds.
* The web portal serves the very same files through ``@font-face`` (:func:`font_file`), so the
  portal and the PDF look alike.

An operator can point ``URBANREPORT_FONT_SANS`` / ``URBANREPORT_FONT_SERIF`` at another TrueType
or OpenType file (e.g. a licensed 仿宋 face); it goes through the same conversion and cache.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import io
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from multiprocessing import get_context
from pathlib import Path

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
_CONVERTER_VERSION = "1"

#: Names under which the fonts are registered with reportlab.
REPORTLAB_NAMES = {"sans": "UrbanReportSans", "serif": "UrbanReportSerif"}


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
def _digest(path: Path) -> str:
    """Content hash of the source font: a reinstalled or replaced font is converted again."""
    h = hashlib.sha256(_CONVERTER_VERSION.encode())
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _target(role: str, source: Path) -> Path:
    return cache_dir() / f"{source.stem}-{_digest(source)}.ttf"


def _needs_conversion(source: Path) -> bool:
    """True unless the file is a plain TrueType font that reportlab can embed as it is."""
    with source.open("rb") as fh:
        magic = fh.read(4)
    return magic != b"\x00\x01\x00\x00"


# --- conversion ---------------------------------------------------------------------------


def convert_to_truetype(source: Path, target: Path) -> Path:
    """Write ``source`` as a TrueType-outline font to ``target`` (atomically).

    CFF (``.otf``) glyphs are drawn through cu2qu into quadratic ``glyf`` outlines; a font
    collection (``.ttc``) contributes its first face. The glyph names are dropped (``post``
    format 3): nobody needs them and they make the file larger. The result is deterministic
    (no timestamp is recalculated), so the embedded subsets are stable across machines.
    """
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(str(source), fontNumber=0, lazy=False)
    font.recalcTimestamp = False
    if "CFF " in font:
        order = font.getGlyphOrder()
        glyph_set = font.getGlyphSet()
        glyphs = {}
        for name in order:
            pen = TTGlyphPen(None)
            # PostScript contours run counter-clockwise, TrueType clockwise: reverse them.
            glyph_set[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
            glyphs[name] = pen.glyph()
        font["loca"] = newTable("loca")
        glyf = font["glyf"] = newTable("glyf")
        glyf.glyphOrder = order
        glyf.glyphs = glyphs
        del font["CFF "]
        for tag in ("VORG", "DSIG"):
            if tag in font:
                del font[tag]
        glyf.compile(font)
        hmtx = font["hmtx"]
        for name, glyph in glyphs.items():
            if hasattr(glyph, "xMin"):
                hmtx[name] = (hmtx[name][0], glyph.xMin)
        maxp = font["maxp"] = newTable("maxp")
        maxp.tableVersion = 0x00010000
        maxp.maxZones = 1
        for attr in (
            "maxTwilightPoints",
            "maxStorage",
            "maxFunctionDefs",
            "maxInstructionDefs",
            "maxStackElements",
            "maxSizeOfInstructions",
            "maxComponentElements",
        ):
            setattr(maxp, attr, 0)
        font["post"].formatType = 3.0
        font.sfntVersion = "\x00\x01\x00\x00"
    buffer = io.BytesIO()
    font.save(buffer)
    atomic_write(target, buffer.getvalue())  # readable by the portal too (mode 0644)
    return target


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


def ensure_fonts(roles: tuple[str, ...] = ROLES) -> dict[str, Path]:
    """The TrueType file of each role, converting (in parallel) the ones not yet cached."""
    sources = {role: source_file(role) for role in roles}
    result: dict[str, Path] = {}
    pending: dict[Path, Path] = {}
    for role, source in sources.items():
        if not _needs_conversion(source):
            result[role] = source
            continue
        target = _target(role, source)
        result[role] = target
        if not target.is_file():
            pending[source] = target
    if pending:
        with _conversion_lock():
            todo = {s: t for s, t in pending.items() if not t.is_file()}
            if len(todo) > 1:
                # Each face takes tens of seconds in pure Python: use both cores.
                ctx = get_context("spawn")
                with ProcessPoolExecutor(max_workers=len(todo), mp_context=ctx) as pool:
                    futures = [pool.submit(convert_to_truetype, s, t) for s, t in todo.items()]
                    for future in futures:
                        future.result()
            else:
                for s, t in todo.items():
                    convert_to_truetype(s, t)
    return result


def font_file(role: str) -> Path:
    """The embeddable TrueType file of ``role`` ("sans" or "serif").

    The same file the PDF embeds; the portal serves it through ``@font-face``.
    """
    _check_role(role)
    return ensure_fonts((role,))[role]


# --- registration -------------------------------------------------------------------------


@dataclass(frozen=True)
class FontSet:
    """Names to use once the fonts are registered."""

    sans: str  # reportlab font name
    serif: str
    sans_family: str  # matplotlib family name
    serif_family: str
    files: dict[str, Path]


@cache
def register_fonts() -> FontSet:
    """Register both fonts with reportlab and matplotlib (once per process)."""
    from matplotlib import font_manager
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    files = ensure_fonts()
    families: dict[str, str] = {}
    for role, path in files.items():
        pdfmetrics.registerFont(TTFont(REPORTLAB_NAMES[role], str(path)))
        font_manager.fontManager.addfont(str(path))
        families[role] = font_manager.FontProperties(fname=str(path)).get_name()
    return FontSet(
        sans=REPORTLAB_NAMES["sans"],
        serif=REPORTLAB_NAMES["serif"],
        sans_family=families["sans"],
        serif_family=families["serif"],
        files=files,
    )

"""LibreOffice for the Word tests: convert a .docx to PDF headless, and read the PDF's glyphs.

Why a font configuration of its own: a Debian machine has none of the 公文 faces the draft names
(方正小标宋简体, 仿宋_GB2312, 楷体_GB2312, 黑体, 宋体). Without help LibreOffice falls back to one
sans face for all of them, so the pages could not show whether the headings differ from the body.
The aliases below stand in free faces of the same kind (Song for 仿宋/宋体/小标宋, a Kai for
楷体, a sans for 黑体), as a bureau's Linux desktop would be set up; the glyph check then reads what
LibreOffice actually embedded, so a character no installed face has still fails it.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ContentStream

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
INSTALL_HINT = (
    "LibreOffice 未安装，跳过 Word 转 PDF 测试。安装：以 root 运行 make office，或 "
    "sudo apt-get install -y libreoffice-writer-nogui fonts-noto-cjk fonts-arphic-ukai "
    "poppler-utils (LibreOffice missing: run `make office` as root)"
)

#: 公文 face → (free face, weight or None). Latin names are the ones Windows also answers to.
FONT_ALIASES: dict[str, tuple[str, str | None]] = {
    "方正小标宋简体": ("Noto Serif CJK SC", "bold"),
    "仿宋_GB2312": ("Noto Serif CJK SC", None),
    "仿宋": ("Noto Serif CJK SC", None),
    "FangSong": ("Noto Serif CJK SC", None),
    "宋体": ("Noto Serif CJK SC", None),
    "SimSun": ("Noto Serif CJK SC", None),
    "楷体_GB2312": ("AR PL UKai CN", None),
    "楷体": ("AR PL UKai CN", None),
    "KaiTi": ("AR PL UKai CN", None),
    "黑体": ("Noto Sans CJK SC", None),
    "SimHei": ("Noto Sans CJK SC", None),
}


def font_config(folder: Path) -> Path:
    """A fonts.conf that keeps the system's fonts and maps the 公文 names onto free faces."""
    rules = []
    for name, (face, weight) in FONT_ALIASES.items():
        bold = f'<edit name="weight" mode="assign"><const>{weight}</const></edit>' if weight else ""
        rules.append(
            f'<match target="pattern"><test name="family"><string>{name}</string></test>'
            f'<edit name="family" mode="assign" binding="strong"><string>{face}</string></edit>'
            f"{bold}</match>"
        )
    path = folder / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"{''.join(rules)}</fontconfig>",
        encoding="utf-8",
    )
    return path


def to_pdf(documents: Sequence[Path], work: Path) -> list[Path]:
    """Convert .docx files to PDF in one LibreOffice run with a private profile under `work`."""
    assert SOFFICE, INSTALL_HINT
    out = work / "pdf"
    out.mkdir(parents=True, exist_ok=True)
    env = os.environ | {"FONTCONFIG_FILE": str(font_config(work)), "HOME": str(work)}
    command = [
        SOFFICE,
        f"-env:UserInstallation=file://{work / 'profile'}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(out),
        *map(str, documents),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=300, env=env)
    pdfs = [out / (d.stem + ".pdf") for d in documents]
    missing = [p.name for p in pdfs if not p.exists()]
    assert not missing, f"LibreOffice wrote no PDF for {missing}"
    return pdfs


# --- what the PDF holds ------------------------------------------------------------------------


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


def page_count(path: Path) -> int:
    return len(PdfReader(path).pages)


def _shown_codes(page: Any, fonts: Any) -> Iterator[tuple[Any, int]]:
    """(font dictionary, code) of every glyph the page shows, codes as the font encodes them."""
    content = ContentStream(page.get_contents(), page.pdf)
    current = None
    for operands, operator in content.operations:
        if operator == b"Tf":
            current = fonts[operands[0]].get_object()
            continue
        if operator in (b"Tj", b"'", b'"'):
            strings = [operands[-1]]
        elif operator == b"TJ":
            strings = [s for s in operands[0] if not isinstance(s, int | float)]
        else:
            continue
        step = 2 if current["/Subtype"] == "/Type0" else 1
        for text in strings:
            raw = text.original_bytes if hasattr(text, "original_bytes") else bytes(text)
            for i in range(0, len(raw) - step + 1, step):
                yield current, int.from_bytes(raw[i : i + step], "big")


def _glyph_names(font: Any) -> dict[int, str]:
    """Code → glyph name of a simple subset font LibreOffice embeds (Type 1 or TrueType)."""
    descriptor = font["/FontDescriptor"].get_object()
    if "/FontFile" in descriptor:  # Type 1: the encoding is in the clear-text part
        program = descriptor["/FontFile"].get_object()
        clear = program.get_data()[: program["/Length1"]].decode("latin-1")
        return {int(code): name for code, name in re.findall(r"dup (\d+) /(\S+) put", clear)}
    if "/FontFile2" in descriptor:  # TrueType: its (1,0) or (3,0) cmap
        tt = TTFont(io.BytesIO(descriptor["/FontFile2"].get_object().get_data()))
        names: dict[int, str] = {}
        for table in tt["cmap"].tables:
            offset = 0xF000 if table.platformID == 3 and table.platEncID == 0 else 0
            names.update({code - offset: name for code, name in table.cmap.items()})
        return names
    raise AssertionError(f"font program not read by this check: {font['/BaseFont']}")


def notdef_glyphs(path: Path) -> list[tuple[int, str, int]]:
    """(page, font, code) of each glyph drawn as .notdef: the boxes a reader would see.

    LibreOffice draws a character that no installed face has with the .notdef glyph of the
    face it tried; the subset's encoding then names that code ``.notdef``.
    """
    found = []
    for number, page in enumerate(PdfReader(path).pages, start=1):
        fonts = page["/Resources"].get("/Font", {})
        names: dict[int, dict[int, str]] = {}
        for font, code in _shown_codes(page, fonts):
            if font["/Subtype"] == "/Type0":
                missing = code == 0
            else:
                table = names.setdefault(id(font), _glyph_names(font))
                missing = table.get(code, ".notdef") == ".notdef"
            if missing:
                found.append((number, str(font["/BaseFont"]), code))
    return found


def font_names(path: Path) -> set[tuple[str, bool]]:
    """The base names of every font the PDF's pages use, and whether each is embedded."""
    names = set()
    for page in PdfReader(path).pages:
        for ref in page["/Resources"].get("/Font", {}).values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            desc = descriptor.get_object() if descriptor else {}
            embedded = any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            names.add((str(font["/BaseFont"]), embedded))
    return names

"""The annotated copy of a Word draft: every mismatching figure highlighted, a note after it.

The note says what the warehouse holds, in the project's format: 【核对：库内数值 936宗】 (with
the period when the sentence named another one). The draft's own runs keep their formatting;
a run is split only where a figure starts or ends. The original file is read, never written;
the copy is written beside a temporary name and moved into place, and carries no macros (a
.docm's VBA parts are dropped and its main part becomes an ordinary document).
"""

from __future__ import annotations

import copy
import io
import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from docx.enum.text import WD_COLOR_INDEX
from docx.opc.constants import CONTENT_TYPE as CT
from docx.shared import RGBColor
from docx.text.run import Run

from urbanreport.check.checker import Checked, CheckResult
from urbanreport.check.readers import (
    DOCM_MAIN,
    Limits,
    W,
    child_text,
    docx_paragraphs,
    open_docx,
    paragraph_runs,
    run_text,
)

_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_NOTE_COLOUR = RGBColor(0xC0, 0x00, 0x00)


def note_text(checked: Checked, result: CheckResult) -> str:
    v = checked.verdict
    period = checked.period
    where = "" if period is None or period == result.period else f"{period.chinese}"
    return f"【核对：库内{where}数值 {v.expected_text or '数据缺失'}】"


def annotated_bytes(data: bytes, result: CheckResult, limits: Limits) -> bytes:
    """The annotated copy of the Word draft `data` that `result` checked."""
    if result.draft.format != "docx":
        raise ValueError("批注副本只能为 Word（.docx）文稿生成 (annotated copies are for .docx)")
    document = open_docx(data, result.draft.name, limits)
    paragraphs = [p for p, _ in docx_paragraphs(document)]
    marks: dict[int, list[Checked]] = defaultdict(list)
    for checked in result.mismatches:
        marks[result.blocks[checked.figure.block].where].append(checked)
    for where, found in marks.items():
        for checked in sorted(found, key=lambda c: c.figure.source_span, reverse=True):
            start, end = checked.figure.source_span
            _mark(paragraphs[where], start, end, note_text(checked, result))
    _drop_macros(document)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def write_annotated(result: CheckResult, source: Path, target: Path, limits: Limits) -> Path:
    """Write the annotated copy of `source` to `target` (never onto the source itself)."""
    if target.exists() and target.resolve() == source.resolve():
        raise ValueError(f"批注副本不能覆盖原文件：{target} (would overwrite the draft)")
    data = annotated_bytes(source.read_bytes(), result, limits)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".annotated-", suffix=".docx")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _mark(p: Any, start: int, end: int, note: str) -> None:
    """Highlight the paragraph's characters [start, end) and put the note right after them."""
    _split_at(p, start)
    _split_at(p, end)
    pos, last = 0, None
    for r in paragraph_runs(p):
        length = len(run_text(r))
        if start <= pos and pos + length <= end and length:
            Run(r, None).font.highlight_color = WD_COLOR_INDEX.YELLOW
            last = r
        pos += length
    if last is None:
        return
    note_run = copy.deepcopy(last)
    for child in list(note_run):
        if child.tag != W + "rPr":
            note_run.remove(child)
    run = Run(note_run, None)
    run.text = note
    run.font.color.rgb = _NOTE_COLOUR
    run.font.bold = True
    last.addnext(note_run)


def _split_at(p: Any, offset: int) -> None:
    """Make `offset` fall between two runs, splitting the run it falls inside."""
    pos = 0
    for r in paragraph_runs(p):
        length = len(run_text(r))
        if pos < offset < pos + length:
            left = copy.deepcopy(r)
            _keep(left, 0, offset - pos, last=False)
            _keep(r, offset - pos, length, last=True)
            r.addprevious(left)
            return
        pos += length


def _keep(r: Any, start: int, end: int, last: bool) -> None:
    """Trim a run to its characters [start, end); a drawing or field mark stays in the part
    holding its place (the `last` part also keeps what stands after the final character)."""
    pos = 0
    for child in list(r):
        if child.tag == W + "rPr":
            continue
        text = child_text(child)
        if not text:
            if not (start <= pos < end or (last and pos == end)):
                r.remove(child)
            continue
        lo, hi = max(start, pos), min(end, pos + len(text))
        if hi <= lo:
            r.remove(child)
        elif child.tag == W + "t":
            child.text = text[lo - pos : hi - pos]
            child.set(_XML_SPACE, "preserve")
        pos += len(text)


def _drop_macros(document: Any) -> None:
    part = document.part
    for rid, rel in list(part.rels.items()):
        if "vba" in rel.reltype.lower():
            part.rels.pop(rid)
    if part.content_type == DOCM_MAIN:
        part._content_type = CT.WML_DOCUMENT_MAIN

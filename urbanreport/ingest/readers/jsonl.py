"""JSON Lines (HTTP pulls, corrections): one object per line, streamed in chunks.

Why streamed: a full pull of the platform is millions of lines. Each line is parsed and handed
to the sink at once, so memory holds one chunk of rows, never the file. Keys are matched like
header cells (canonical names, Chinese headers, aliases); a key of no field is reported once as
an extra column. A BOM, CR LF line ends and blank lines are accepted (a blank line still counts
in the line numbers); a line that is not a JSON object is refused on its own, with its text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from urbanreport.ingest.readers.header import HeaderIndex, extras_note, missing_required
from urbanreport.ingest.readers.sink import RawSink
from urbanreport.ingest.refusal import FileRefused

NOT_AN_OBJECT = "该行不是有效的JSON对象 (line is not a valid JSON object)"
# Numbers stay text, so 3009408.10 reaches the money rule exactly as it was sent.
_DECODER = json.JSONDecoder(parse_float=str, parse_int=str, parse_constant=str)


def read_jsonl(
    con: duckdb.DuckDBPyConnection, path: Path, encoding: str | None, index: HeaderIndex
) -> list[str]:
    """Load JSON Lines into raw_batch, one row per non-blank line; returns the batch notes."""
    if encoding not in ("utf-8", "utf-8-sig"):
        raise FileRefused("JSON Lines 必须是UTF-8编码 (JSON Lines must be UTF-8)")
    sink = RawSink(con, index.fields)
    position = {name: i for i, name in enumerate(index.fields)}
    slots: dict[str, int | None] = {}  # key → position of its field (None = extra key)
    present: set[str] = set()
    objects = 0
    with path.open(encoding="utf-8-sig", newline=None) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            obj = _parse(line)
            if obj is None:
                sink.add(number, [None] * len(index.fields))
                sink.problem(number, None, line.rstrip("\n")[:200], NOT_AN_OBJECT)
                continue
            objects += 1
            values: list[str | None] = [None] * len(index.fields)
            for key, value in obj.items():
                if key not in slots:
                    name = index.field_of(key)
                    slots[key] = position[name] if name and name not in present else None
                    if name:
                        present.add(name)
                slot = slots[key]
                if slot is not None:
                    values[slot] = json_text(value)
            sink.add(number, values)
    if not objects:
        raise FileRefused("文件中没有JSON对象 (no JSON objects in the file)")
    missing_required(index, present)
    sink.flush()
    note = extras_note([k for k, slot in slots.items() if slot is None])
    return [note] if note else []


def _parse(line: str) -> dict[str, Any] | None:
    """The object on a line, or None for a line that is not one."""
    try:
        obj = _DECODER.decode(line)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def json_text(value: Any) -> str | None:
    """A JSON value as the text a CSV cell would hold (numbers keep their literal digits)."""
    if value is None or type(value) is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)

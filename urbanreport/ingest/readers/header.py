"""Finding the header row of a table and mapping its cells to the contract's fields.

Why a search and not "the first row": hand-kept ledgers carry a title (“龙湖区城管局行政处罚
案件台账（2025年）”), a blank row or a note above the header. The header is the row, among the
first 20 non-empty rows, that holds every required column and matches the most fields; the
rows above it are reported once in the batch notes. Header text is compared normalised (trim,
full-width → half-width, （）→ (), case, a required-marker `*`), against each field's canonical
name, its Chinese export header and the aliases listed in sources.toml.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from urbanreport.core.config import SOURCES_FILE
from urbanreport.ingest.refusal import FileRefused

#: How many non-empty rows at the top of a table may hold the header (sources.toml [inbox]).
HEADER_SEARCH_ROWS: int = tomllib.loads(SOURCES_FILE.read_text("utf-8"))["inbox"][
    "header_search_rows"
]

Cells = Sequence[str | None]


def header_key(text: Any) -> str:
    """The form header cells are compared in: NFKC (full-width → half-width, （）→ ()), no
    whitespace (also line breaks inside a cell), lower case, without a `*` required marker."""
    folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text))).lower()
    return folded.strip("*")


@dataclass(frozen=True)
class HeaderIndex:
    """The contract's header forms of one source: normalised text → field name."""

    fields: tuple[str, ...]
    required: tuple[str, ...]
    headers: dict[str, str]  # field → Chinese export header (for messages)
    lookup: dict[str, str]

    @classmethod
    def of(cls, spec: dict[str, Any]) -> HeaderIndex:
        lookup: dict[str, str] = {}
        for f in spec["fields"]:
            for text in (f["name"], f["header"], *f.get("aliases", ())):
                lookup.setdefault(header_key(text), f["name"])
        return cls(
            fields=tuple(f["name"] for f in spec["fields"]),
            required=tuple(f["name"] for f in spec["fields"] if f.get("required")),
            headers={f["name"]: f["header"] for f in spec["fields"]},
            lookup=lookup,
        )

    def field_of(self, text: Any) -> str | None:
        return self.lookup.get(header_key(text)) if text is not None else None

    def missing_message(self, name: str, where: str = "") -> str:
        header = self.headers[name]
        return (
            f"{where}缺少必填列“{header}”（{name}） (required column {name} / {header} is missing)"
        )


@dataclass(frozen=True)
class HeaderMatch:
    """The header row found: its row number and the field of each cell (None = not ours)."""

    row: int
    position: int  # index of the header among the rows searched
    fields: tuple[str | None, ...]
    extras: tuple[str, ...]

    @property
    def matched(self) -> set[str]:
        return {f for f in self.fields if f}

    def skipped_note(self, where: str = "") -> str | None:
        """The one note about rows above the header (titles, notes, blank rows), if any."""
        if self.row <= 1:
            return None
        above = "第1行" if self.row == 2 else f"第1–{self.row - 1}行"
        return (
            f"{where}表头在第{self.row}行，其上的{above}（标题、说明或空行）未读取 "
            f"(header found on row {self.row}; the {self.row - 1} row(s) above it were skipped)"
        )


def match_row(cells: Cells, index: HeaderIndex, row: int = 1, position: int = 0) -> HeaderMatch:
    """Map one row's cells to fields; a field named twice counts once (the first cell)."""
    fields: list[str | None] = []
    extras: list[str] = []
    seen: set[str] = set()
    for cell in cells:
        name = index.field_of(cell)
        if name is None or name in seen:
            fields.append(None)
            if cell is not None and str(cell).strip():
                extras.append(str(cell).strip())
        else:
            fields.append(name)
            seen.add(name)
    return HeaderMatch(row, position, tuple(fields), tuple(extras))


def find_header(
    rows: Sequence[tuple[int, Cells]], index: HeaderIndex, where: str = ""
) -> HeaderMatch:
    """The best header among `rows` (row number, cells): the first 20 non-empty rows.

    Raises FileRefused when no row holds every required column: naming the first required
    column missing from the closest row, or saying that no header was found at all.
    """
    matches = [match_row(cells, index, row, i) for i, (row, cells) in enumerate(rows)]
    complete = [m for m in matches if all(f in m.matched for f in index.required)]
    if complete:
        return max(complete, key=lambda m: (len(m.matched), -m.position))
    best = max(matches, key=lambda m: (len(m.matched), -m.position), default=None)
    if best is None or not best.matched:
        required = "、".join(index.headers[f] for f in index.required)
        raise FileRefused(
            f"{where}文件没有表头行：前{HEADER_SEARCH_ROWS}个非空行中没有一行是本数据源的表头"
            f"（须包含必填列：{required}） (no header row found among the first "
            f"{HEADER_SEARCH_ROWS} non-empty rows)"
        )
    missing = next(f for f in index.required if f not in best.matched)
    at = f"第{best.row}行的表头" if best.row > 1 else ""
    raise FileRefused(index.missing_message(missing, f"{where}{at}"), column=missing)


def missing_required(index: HeaderIndex, present: set[str]) -> None:
    """Refuse a file whose fields (e.g. the keys of JSON Lines) lack a required one."""
    for name in index.required:
        if name not in present:
            raise FileRefused(index.missing_message(name), column=name)


def extras_note(extras: Sequence[str]) -> str | None:
    unique = list(dict.fromkeys(extras))
    return f"忽略额外列 (extra columns ignored): {', '.join(unique)}" if unique else None

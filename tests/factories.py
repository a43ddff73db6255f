"""Small builders for ingestion tests: valid rows per source, extract files, warehouse look-ups.

Each `*_row(**overrides)` returns a dict with a valid value for every field of the contract, so a
test names only the value it is about. `write_csv`, `write_xlsx` and `write_jsonl` put readable
files into an inbox; the `headers` argument picks canonical (English) or Chinese export headers.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import xlsxwriter

from urbanreport.core import warehouse
from urbanreport.core.config import Settings, load_settings

# The checkout these tests run from (prefect.yaml, scripts/, docs/ live here, not in the package).
REPO_ROOT = Path(__file__).resolve().parents[1]
#: The bureau's published 2023 report, shipped beside the repository in ``../shared/seed/``.
SEED_NAME = "000_3889c2c08c904791.txt"

Row = Mapping[str, Any]


# --- the seed report ---------------------------------------------------------------------------


def seed_path() -> Path | None:
    """The seed report beside the repository (`../shared/seed/`), also from a linked checkout
    (whose main checkout is the one beside ``shared/``); None when it is not there."""
    candidates = [REPO_ROOT.parent / "shared" / "seed" / SEED_NAME]
    git = ["git", "-C", str(REPO_ROOT), "rev-parse", "--path-format=absolute"]
    try:
        common = subprocess.run(
            [*git, "--git-common-dir"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        candidates.append(Path(common).parent.parent / "shared" / "seed" / SEED_NAME)
    except (OSError, subprocess.CalledProcessError):
        pass
    return next((p for p in candidates if p.is_file()), None)


def macro_enabled(docx: bytes) -> bytes:
    """A Word draft turned into a macro-enabled one (.docm): its main part declared as such and
    a VBA project attached (an AutoOpen stub; nothing may ever run it)."""
    plain = zipfile.ZipFile(io.BytesIO(docx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in plain.infolist():
            data = plain.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document."
                    b"main+xml",
                    b"application/vnd.ms-word.document.macroEnabled.main+xml",
                ).replace(
                    b"</Types>",
                    b'<Default Extension="bin" ContentType="application/vnd.ms-office.'
                    b'vbaProject"/></Types>',
                )
            if info.filename == "word/_rels/document.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/'
                    b'relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
                )
            zf.writestr(info, data)
        zf.writestr("word/vbaProject.bin", b'Attribute VB_Name = "AutoOpen"')
    return out.getvalue()


# --- settings and inbox -----------------------------------------------------------------------


def make_settings(home: Path, config: str | None = None) -> Settings:
    """Settings for a data directory `home`, with `config` written as its urbanreport.toml."""
    home.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (home / "urbanreport.toml").write_text(config, encoding="utf-8")
    return load_settings(home=home)


def inbox(settings: Settings, source: str) -> Path:
    folder = settings.source_inbox(source)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def set_mtime(path: Path, seconds: float) -> Path:
    """Give a file a modification time (seconds since the epoch); returns the path."""
    os.utime(path, (seconds, seconds))
    return path


# --- valid rows -------------------------------------------------------------------------------


def permit_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "permit_id": "XK2023070001",
        "item_name": "临时占用城市道路审批",
        "applicant": "汕头市某某建筑工程有限公司",
        "channel": "网上",
        "received_date": "2023-07-03",
        "decided_date": "2023-07-07",
        "status": "准予许可",
        "promised_days": "10",
        "fee_yuan": "1,280.50",
        "e_license": "是",
    }
    return row | overrides


def enforcement_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "case_id": "LHCF2023001",
        "filed_date": "2023-07-05",
        "decided_date": "2023-07-20",
        "closed_date": "2023-08-01",
        "street": "金霞街道",
        "category": "占道经营",
        "party_name": "张三",
        "party_id": "440507199001011234",
        "penalty_type": "罚款",
        "fine_yuan": "500",
        "is_major": "否",
        "legal_review": "是",
        "collective_decision": "否",
        "disclosed_date": "2023-07-25",
        "review_outcome": "",
        "review_date": "",
    }
    return row | overrides


def demolition_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "record_id": "CW2023070001",
        "street": "鸥汀",
        "address": "鸥汀街道某某路12号",
        "demolished_date": "2023-07-12",
        "area_m2": "1,234.5平方米",
        "building_type": "新增违建",
    }
    return row | overrides


def target_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "campaign": "2023年违法建设专项治理",
        "street": "全区",
        "start_date": "2023-07-01",
        "end_date": "2023-12-31",
        "target_m2": "1200000",
    }
    return row | overrides


def dcm_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "case_id": "DCM2023070001",
        "source": "监督员上报",
        "case_class": "事件",
        "category": "街面秩序",
        "subcategory": "占道经营",
        "street": "龙华街道",
        "reported_at": "2023-07-05 09:12:00",
        "registered_at": "2023-07-05 09:40:00",
        "dispatched_at": "2023-07-05 10:00:00",
        "deadline_at": "2023-07-05 18:00:00",
        "disposed_at": "2023-07-05 15:00:00",
        "closed_at": "2023-07-05 16:00:00",
        "rework_count": "0",
        "updated_at": "",
    }
    return row | overrides


def activity_row(**overrides: Any) -> dict[str, Any]:
    row = {
        "date": "2023-07-10",
        "activity_type": "执法培训",
        "title": "行政处罚法专题培训",
        "participants": "45",
    }
    return row | overrides


ROW_BUILDERS = {
    "permits": permit_row,
    "enforcement": enforcement_row,
    "demolition": demolition_row,
    "demolition_targets": target_row,
    "dcm_cases": dcm_row,
    "legal_activities": activity_row,
}


# --- headers ----------------------------------------------------------------------------------


def field_names(settings: Settings, source: str) -> list[str]:
    return [f["name"] for f in settings.sources[source]["fields"]]


def chinese_headers(settings: Settings, source: str) -> dict[str, str]:
    """Canonical field name → Chinese export header, as in the data contract."""
    return {f["name"]: f["header"] for f in settings.sources[source]["fields"]}


def table(
    rows: Sequence[Row],
    columns: Sequence[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[list[str], list[list[Any]]]:
    """Header and cell lists for `rows`: `columns` picks (and orders) the fields, `headers`
    renames them (e.g. chinese_headers(...)); a field missing from a row is an empty cell."""
    columns = list(columns if columns is not None else rows[0].keys())
    header = [headers.get(c, c) if headers else c for c in columns]
    return header, [[row.get(c, "") for c in columns] for row in rows]


# --- files ------------------------------------------------------------------------------------


def csv_bytes(
    header: Sequence[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8"
) -> bytes:
    """A CSV in `encoding` ("utf-8-sig" writes the BOM; "gb18030", "big5", "utf-16", …)."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow(header)
    out.writerows(rows)
    return buf.getvalue().encode(encoding)


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    encoding: str = "utf-8",
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes(header, rows, encoding))
    return path


def write_rows_csv(
    path: Path,
    rows: Sequence[Row],
    headers: Mapping[str, str] | None = None,
    encoding: str = "utf-8",
    columns: Sequence[str] | None = None,
) -> Path:
    """Rows as dicts (e.g. from enforcement_row) written as a CSV."""
    header, cells = table(rows, columns, headers)
    return write_csv(path, header, cells, encoding)


def write_xlsx(
    path: Path,
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    first_row: int = 1,
    date_format: str = "yyyy-mm-dd",
) -> Path:
    """First sheet with the header on spreadsheet row `first_row`; datetime cells get a date
    format, numbers stay numbers, None leaves the cell empty. A row that is None stays blank."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Sheet1")
    dates = workbook.add_format({"num_format": date_format})
    sheet.write_row(first_row - 1, 0, list(header))
    for offset, row in enumerate(rows, start=1):
        if row is None:
            continue
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if hasattr(value, "year"):
                sheet.write_datetime(first_row - 1 + offset, col, value, dates)
            else:
                sheet.write(first_row - 1 + offset, col, value)
    workbook.close()
    return path


def write_jsonl(path: Path, lines: Iterable[Row | str]) -> Path:
    """One JSON object per line; a str is written as it is (to make a malformed line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(
        (item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)) + "\n"
        for item in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


# --- looking into the warehouse ---------------------------------------------------------------


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def rejects(con: duckdb.DuckDBPyConnection, file_name: str | None = None) -> list[dict]:
    """Reject lines (of one file), in row and column order."""
    return fetch(
        con,
        "SELECT source, file_name, row_number, column_name, raw_value, reason FROM rejects "
        "WHERE ? IS NULL OR file_name = ? ORDER BY batch_id, row_number, column_name",
        [file_name, file_name],
    )


def batches(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return fetch(con, "SELECT * FROM batches ORDER BY batch_id")


def record(con: duckdb.DuckDBPyConnection, source: str, key: str, value: Any) -> dict | None:
    """The one current record of `source` whose `key` column equals `value` (None if absent)."""
    found = fetch(con, f'SELECT * FROM {source} WHERE "{key}" = ?', [value])
    assert len(found) <= 1, f"{source}.{key}={value!r} is stored {len(found)} times"
    return found[0] if found else None


def count(con: duckdb.DuckDBPyConnection, table_name: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table_name}").fetchone()[0]


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every persistent table's rows, sorted: compare two of them to prove nothing changed."""
    tables = [
        "batches",
        "rejects",
        "http_watermarks",
        "permits",
        "enforcement",
        "demolition",
        "demolition_targets",
        "dcm_cases",
        "legal_activities",
    ]
    return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


def check_batch(con: duckdb.DuckDBPyConnection, result: Any, source: str) -> None:
    """The accounting of one just-loaded batch: read = loaded + rejected, in the result, in the
    batch record, in the rejects table (distinct rows) and in the core table (rows of the batch)."""
    assert result.rows_read == result.rows_loaded + result.rows_rejected, result
    stored = fetch(con, "SELECT * FROM batches WHERE batch_id = ?", [result.batch_id])
    assert len(stored) == 1, result
    b = stored[0]
    assert (b["rows_read"], b["rows_loaded"], b["rows_rejected"]) == (
        result.rows_read,
        result.rows_loaded,
        result.rows_rejected,
    )
    rejected_rows = con.execute(  # a row is its sheet and row number (sheet NULL: no sheets)
        "SELECT count(DISTINCT (sheet, row_number)) FROM rejects WHERE batch_id = ?",
        [result.batch_id],
    ).fetchone()[0]
    assert rejected_rows == result.rows_rejected, result
    loaded = con.execute(
        f"SELECT count(*) FROM {source} WHERE batch_id = ?", [result.batch_id]
    ).fetchone()[0]
    assert loaded == result.rows_loaded, result


def reject_places(con: duckdb.DuckDBPyConnection, file_name: str) -> list[tuple]:
    """(row as `urbanreport rejects` shows it, column, raw value) of each reject line of a file:
    `5`, or `sheet!5` for a workbook row, `-` for a whole file."""
    lines = fetch(
        con,
        "SELECT sheet, row_number, column_name, raw_value FROM rejects WHERE file_name = ? "
        "ORDER BY batch_id, sheet NULLS FIRST, row_number, column_name",
        [file_name],
    )
    return [
        (
            "-"
            if r["row_number"] is None
            else f"{r['sheet']}!{r['row_number']}"
            if r["sheet"]
            else str(r["row_number"]),
            r["column_name"],
            r["raw_value"],
        )
        for r in lines
    ]


def lake_tables_written_since(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> set[str]:
    """The tables the lake's commits after ``snapshot_id`` wrote to (inserts, deletes)."""
    info = f"ducklake_table_info('{warehouse.LAKE}')"
    names = dict(
        con.execute(f"SELECT CAST(table_id AS VARCHAR), table_name FROM {info}").fetchall()
    )
    rows = con.execute(
        f"SELECT changes FROM ducklake_snapshots('{warehouse.LAKE}') WHERE snapshot_id > ?",
        [snapshot_id],
    ).fetchall()
    return {names.get(i, i) for (changes,) in rows for ids in changes.values() for i in ids}


def every_batch_balances(con: duckdb.DuckDBPyConnection) -> bool:
    """rows read = rows loaded + rows rejected, for every batch ever recorded."""
    return con.execute(
        "SELECT bool_and(rows_read = rows_loaded + rows_rejected) FROM batches"
    ).fetchone()[0]


def printed_report(stdout: str, suffix: str = ".pdf") -> Path:
    """The file of one format among those `urbanreport report` prints, one path a line."""
    (path,) = [Path(line) for line in stdout.strip().splitlines() if line.endswith(suffix)]
    return path


def stored_case(settings: Settings, month: str) -> dict[str, str]:
    """A stored enforcement case filed and decided in ``month`` (YYYY-MM), as a clerk's export
    row: the base of a correction."""
    with warehouse.reader(settings) as con:
        cur = con.execute(
            "SELECT * EXCLUDE (batch_id) FROM enforcement "
            "WHERE strftime(filed_date, '%Y-%m') = ? AND strftime(decided_date, '%Y-%m') = ? "
            "AND review_date IS NULL AND penalty_type = '罚款' ORDER BY case_id LIMIT 1",
            [month, month],
        )
        names = [c[0] for c in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
    return {
        k: ("是" if v else "否") if isinstance(v, bool) else "" if v is None else str(v)
        for k, v in row.items()
    }

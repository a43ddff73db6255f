"""CSV and tab-separated text as clerks and systems really write it.

RFC 4180 quoting with line breaks inside cells, every line ending, a missing final newline, a
BOM, comma or tab, UTF-8 / GB18030 / UTF-16, a title above the header, header variants and
aliases. Row numbers are always those a spreadsheet shows, on DuckDB's path and on the Python
fallback alike.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest

from tests.factories import (
    check_batch,
    chinese_headers,
    demolition_row,
    enforcement_row,
    field_names,
    inbox,
    make_settings,
    record,
    reject_places,
    rejects,
    table,
)
from urbanreport.core import warehouse
from urbanreport.ingest.batches import BatchResult, ingest_source
from urbanreport.ingest.readers import csv as csv_reader


def text_of(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    """Rows as Excel writes them: a cell with a line break is quoted (with CR line ends the
    csv module would not quote a lone LF, so every cell is quoted then)."""
    buf = io.StringIO()
    quoting = csv.QUOTE_ALL if newline == "\r" else csv.QUOTE_MINIMAL
    csv.writer(buf, delimiter=delimiter, lineterminator=newline, quoting=quoting).writerows(rows)
    return buf.getvalue()


def load(tmp_path: Path, source: str, name: str, data: bytes) -> tuple[BatchResult, list]:
    """Ingest one file; its result and its reject places, after checking the accounting."""
    settings = make_settings(tmp_path)
    (inbox(settings, source) / name).write_bytes(data)
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, source)
        if result.status == "loaded":
            check_batch(con, result, source)
        return result, reject_places(con, name)


def demolition_rows(settings_home: Path) -> tuple[list[str], list[list[str]]]:
    """Header + four rows: R1 has a two-line address, R2 a bad area, R3 a three-line address
    and a bad street, R4 is fine. Spreadsheet rows: 2, 3, 4, 5."""
    settings = make_settings(settings_home)
    return table(
        [
            demolition_row(record_id="R1", address="金霞路1号\n（东侧）"),
            demolition_row(record_id="R2", area_m2="-1"),
            demolition_row(record_id="R3", street="火星", address="一\r\n二\r\n三"),
            demolition_row(record_id="R4"),
        ],
        field_names(settings, "demolition"),
    )


# --- quoting, line endings, BOM, final newline -------------------------------------------------


@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
@pytest.mark.parametrize("final_newline", [True, False])
@pytest.mark.parametrize("bom", [False, True])
def test_quoted_line_breaks_keep_the_rows_a_spreadsheet_shows(
    tmp_path: Path, newline: str, final_newline: bool, bom: bool
) -> None:
    header, cells = demolition_rows(tmp_path)
    text = text_of([header, *cells], newline=newline)
    if not final_newline:
        text = text[: -len(newline)]
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    settings = make_settings(tmp_path)
    (inbox(settings, "demolition") / "d.csv").write_bytes(data)
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "demolition")
        check_batch(con, result, "demolition")
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
        assert reject_places(con, "d.csv") == [("3", "area_m2", "-1"), ("4", "street", "火星")]
        assert record(con, "demolition", "record_id", "R1")["address"] == "金霞路1号\n（东侧）"
        assert record(con, "demolition", "record_id", "R4") is not None


def test_quoted_line_breaks_and_blank_rows_take_the_careful_path_with_the_same_result(
    tmp_path: Path,
) -> None:
    """Blank lines below the header send the file to the Python reader; it numbers the rows the
    same way, counting the blank rows as a spreadsheet does."""
    header, cells = demolition_rows(tmp_path)
    text = (
        text_of([header, cells[0]]) + "\r\n" + text_of(cells[1:3]) + "\r\n\r\n" + text_of(cells[3:])
    )
    # rows: 1 header, 2 R1, 3 blank, 4 R2, 5 R3, 6 and 7 blank, 8 R4
    result, places = load(tmp_path, "demolition", "gaps.csv", text.encode("utf-8"))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
    assert places == [("4", "area_m2", "-1"), ("5", "street", "火星")]


def test_the_fast_path_is_taken_for_a_plain_export_and_not_for_blank_rows(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    index = csv_reader.HeaderIndex.of(settings.sources["demolition"])
    header, cells = demolition_rows(tmp_path)
    plain = tmp_path / "plain.csv"
    plain.write_text(text_of([header, *cells]), encoding="utf-8")
    gaps = tmp_path / "gaps.csv"
    gaps.write_text(text_of([header, cells[0]]) + "\r\n" + text_of(cells[1:]), encoding="utf-8")
    trailing = tmp_path / "trailing.csv"  # an extra Enter at the very end is harmless
    trailing.write_text(text_of([header, *cells]) + "\r\n\r\n", encoding="utf-8")
    for path, fast in ((plain, True), (gaps, False), (trailing, True)):
        head = csv_reader.find_table_header(path, "utf-8", index)
        assert csv_reader._duckdb_can_number(path, "utf-8", head) is fast, path.name


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('S1,2023-07-05,"金霞,其他\r\n', "第2行"),  # quote never closed
        ('S1,2023-07-05,"金"霞,其他\r\n', "第2行"),  # text after a closing quote
        ('S1,2023-07-05,金霞,其他\r\nS2,2023-07-05,"金"霞,其他\r\n', "第3行"),
    ],
)
def test_broken_quoting_is_refused_in_plain_words_without_engine_text(
    tmp_path: Path, body: str, where: str
) -> None:
    text = "case_id,filed_date,street,category\r\n" + body
    result, places = load(tmp_path, "enforcement", "m.csv", text.encode("utf-8"))
    assert result.status == "refused"
    assert "m.csv" in result.message and where in result.message and "引号" in result.message
    for engine_word in ("parallel", "Error", "duckdb", "Traceback", "delimiter ="):
        assert engine_word not in result.message
    assert places == [("-", None, None)]


# --- delimiter and encodings ---------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_tab_separated_is_detected(tmp_path: Path, encoding: str) -> None:
    settings = make_settings(tmp_path)
    header, cells = table(
        [enforcement_row(case_id="T1"), enforcement_row(case_id="T2", fine_yuan="1,000.5")],
        headers=chinese_headers(settings, "enforcement"),
    )
    data = text_of([header, *cells], delimiter="\t").encode(encoding)
    result, places = load(tmp_path, "enforcement", "t.csv", data)
    assert (result.status, result.rows_loaded) == ("loaded", 2), result
    assert "制表符" in result.message and places == []


def test_utf16_unicode_text_export_of_excel_loads(tmp_path: Path) -> None:
    """Excel's 另存为 “Unicode 文本”: UTF-16 LE with BOM, tab-separated, CR LF, saved as .txt;
    a remark with a line break is quoted."""
    settings = make_settings(tmp_path)
    header, cells = table(
        [
            enforcement_row(case_id="U1", party_name="陈晓明"),
            enforcement_row(case_id="U2", street="火星"),
            enforcement_row(case_id="U3", category="门前三包"),
        ],
        headers=chinese_headers(settings, "enforcement"),
    )
    header.append("备注")
    cells = [[*c, "第一行\r\n第二行" if i == 0 else ""] for i, c in enumerate(cells)]
    data = text_of([header, *cells], delimiter="\t").encode("utf-16")  # BOM + LE
    assert data[:2] == b"\xff\xfe"
    (inbox(settings, "enforcement") / "导出.txt").write_bytes(data)
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        check_batch(con, result, "enforcement")
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
        assert reject_places(con, "导出.txt") == [("3", "street", "火星")]
        assert record(con, "enforcement", "case_id", "U1")["party_name"] == "陈晓明"
        assert "备注" in result.message


def test_utf16_that_does_not_decode_is_refused_as_an_encoding_problem(tmp_path: Path) -> None:
    data = b"\xff\xfe" + "case_id\tfiled_date\r\n".encode("utf-16-le") + b"\x00\xd8A\x00"
    result, _ = load(tmp_path, "enforcement", "bad.txt", data)
    assert result.status == "refused" and "编码" in result.message and "encoding" in result.message


# --- the header ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-16"])
def test_title_and_blank_rows_above_the_header_are_skipped_and_noted_once(
    tmp_path: Path, encoding: str
) -> None:
    settings = make_settings(tmp_path)
    header, cells = table(
        [enforcement_row(case_id="H1"), enforcement_row(case_id="H2", fine_yuan="-5")],
        headers=chinese_headers(settings, "enforcement"),
    )
    blank = [""] * len(header)
    title = ["龙湖区城管局行政处罚案件台账（2025年）", *blank[1:]]
    text = text_of([title, blank]) + "\r\n" + text_of([header, *cells])
    # rows: 1 title, 2 commas only, 3 blank line, 4 header, 5 H1, 6 H2
    result, places = load(tmp_path, "enforcement", "台账.csv", text.encode(encoding))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1), result
    assert places == [("6", "fine_yuan", "-5")]
    assert result.message.count("表头在第4行") == 1 and "第1–3行" in result.message


def test_header_text_is_normalised_and_aliases_match(tmp_path: Path) -> None:
    header = [
        " 案件编号* ",  # spaces and a required marker
        "立案时间",  # alias of 立案日期
        "所属街道",  # alias of 街道
        "ＣＡＴＥＧＯＲＹ",  # full-width canonical name
        "罚款金额（元）",  # full-width brackets
        "处罚\n种类",  # a line break inside the header cell
    ]
    row = ["A1", "2023-07-05", "金霞", "其他", "1,234.5", "罚款"]
    result, places = load(tmp_path, "enforcement", "a.csv", text_of([header, row]).encode())
    assert (result.rows_loaded, places) == (1, [])
    for alias in ("罚款金额", "罚款金额(元)"):
        other = tmp_path / alias
        result, _ = load(
            other, "enforcement", "b.csv", text_of([[*header[:4], alias], row[:5]]).encode()
        )
        settings = make_settings(other)
        with warehouse.reader(settings) as con:
            assert record(con, "enforcement", "case_id", "A1")["fine_yuan"] == Decimal("1234.50")


def test_aliases_never_name_two_fields_of_a_source() -> None:
    """An alias that normalises to another field's header would make mapping ambiguous."""
    from urbanreport.core.config import load_settings
    from urbanreport.ingest.readers.header import header_key

    for source, spec in load_settings().sources.items():
        owner: dict[str, str] = {}
        for f in spec["fields"]:
            for text in (f["name"], f["header"], *f.get("aliases", ())):
                key = header_key(text)
                assert owner.setdefault(key, f["name"]) == f["name"], (source, text)


def test_no_header_among_the_first_20_rows_is_refused_naming_the_closest_row(
    tmp_path: Path,
) -> None:
    rows = [["说明"]] * 3 + [["案件编号", "立案日期", "违法类别"], ["A1", "2023-07-05", "其他"]]
    result, places = load(tmp_path, "enforcement", "n.csv", text_of(rows).encode())
    assert result.status == "refused"
    assert "第4行" in result.message and "街道" in result.message and "street" in result.message
    assert places == [("-", "street", None)]
    rows = [["说明"]] * 21 + [["案件编号", "立案日期", "街道", "违法类别"]]
    result, _ = load(tmp_path / "late", "enforcement", "late.csv", text_of(rows).encode())
    assert result.status == "refused" and "前20个非空行" in result.message


def test_rows_read_equal_loaded_plus_rejected_on_both_paths(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")

    def rows(prefix: str) -> tuple[list[str], list[list[str]]]:
        built = [
            enforcement_row(case_id=f"{prefix}{i}", fine_yuan="-1" if i % 3 else "5")
            for i in range(30)
        ]
        return table(built, headers=chinese_headers(settings, "enforcement"))

    header, cells = rows("F")
    (folder / "fast.csv").write_text(text_of([header, *cells]), encoding="utf-8")
    header, cells = rows("S")
    (folder / "slow.csv").write_text(
        text_of([header, *cells[:10]]) + "\r\n" + text_of(cells[10:]), encoding="utf-8"
    )
    with warehouse.writer(settings) as con:
        results = ingest_source(con, settings, "enforcement")
        for result in results:
            check_batch(con, result, "enforcement")
        assert [(r.rows_read, r.rows_loaded, r.rows_rejected) for r in results] == [
            (30, 10, 20)
        ] * 2
        assert len(rejects(con)) == 40

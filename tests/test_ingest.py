"""Reading extracts: formats, encodings, headers, refused files and refused rows.

Every refused row must be findable: rejects holds its file, row number as a spreadsheet shows it
(header = row 1; the real sheet row for xlsx; the line for JSON Lines), column, raw value and a
reason. Every batch keeps rows read = rows loaded + rows rejected.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
import zhconv

from tests.factories import (
    ROW_BUILDERS,
    activity_row,
    batches,
    check_batch,
    chinese_headers,
    count,
    csv_bytes,
    dcm_row,
    demolition_row,
    enforcement_row,
    field_names,
    inbox,
    make_settings,
    permit_row,
    record,
    rejects,
    set_mtime,
    table,
    target_row,
    write_csv,
    write_jsonl,
    write_rows_csv,
    write_xlsx,
)
from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.ingest.batches import BatchResult, ingest_all, ingest_source


def ingest(settings: Settings, source: str) -> list[BatchResult]:
    with warehouse.writer(settings) as con:
        return ingest_source(con, settings, source)


def reject_of(con: duckdb.DuckDBPyConnection, file_name: str) -> list[tuple]:
    """(row, column, raw value) of each reject line of a file."""
    return [(r["row_number"], r["column_name"], r["raw_value"]) for r in rejects(con, file_name)]


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_load_identically(tmp_path: Path, encoding: str) -> None:
    settings = make_settings(tmp_path)
    rows = [
        enforcement_row(case_id="E1", party_name="陈晓明", street="鸥汀街道"),
        enforcement_row(case_id="E2", party_name="黄丽娟", street="鷗汀", category="門前三包"),
    ]
    write_rows_csv(
        inbox(settings, "enforcement") / "e.csv",
        rows,
        headers=chinese_headers(settings, "enforcement"),
        encoding=encoding,
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        check_batch(con, result, "enforcement")
        assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 2, 0)
        e1, e2 = (
            record(con, "enforcement", "case_id", "E1"),
            record(con, "enforcement", "case_id", "E2"),
        )
        assert (e1["party_name"], e1["street"]) == ("陈晓明", "鸥汀")
        assert (e2["party_name"], e2["street"], e2["category"]) == ("黄丽娟", "鸥汀", "门前三包")


def test_gbk_file_with_traditional_text_is_not_mistaken_for_big5(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    rows = [
        enforcement_row(
            case_id=f"T{i}", street="鷗汀街道", category="佔道經營", party_name="張國榮"
        )
        for i in range(5)
    ]
    write_rows_csv(inbox(settings, "enforcement") / "t.csv", rows, encoding="gbk")
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        assert result.rows_loaded == 5, result
        assert record(con, "enforcement", "case_id", "T0")["party_name"] == "張國榮"


def test_gbk_file_with_a_private_use_character_in_a_name_loads(tmp_path: Path) -> None:
    """Some systems store rare name characters (造字) in the private-use area; one such character
    in a small GBK file must not make it look like another encoding."""
    settings = make_settings(tmp_path)
    name = "陈\ue000明"
    write_rows_csv(
        inbox(settings, "enforcement") / "p.csv",
        [enforcement_row(party_name=name, party_id="")],
        encoding="gb18030",
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        assert result.rows_loaded == 1, result
        assert record(con, "enforcement", "case_id", "LHCF2023001")["party_name"] == name


@pytest.mark.parametrize(
    ("encoding", "chinese"),
    [
        ("utf-16-le", True),  # no BOM (with a BOM it is Excel's "Unicode 文本" and loads)
        ("utf-16-le", False),  # ASCII headers: NUL bytes
        ("big5", True),
        ("big5", False),  # ASCII headers, Big5 values: would be mojibake
    ],
)
def test_wrong_encoding_is_refused_never_read_as_mojibake(
    tmp_path: Path, encoding: str, chinese: bool
) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    headers = chinese_headers(settings, "enforcement") if chinese else None
    rows = [
        enforcement_row(
            case_id=f"W{i}", street="鷗汀街道", party_name="張國榮", category="佔道經營"
        )
        for i in range(3)
    ]
    text = csv_bytes(*table(rows, headers=headers)).decode("utf-8")
    if encoding == "big5":  # a Big5 export is written in Traditional characters
        text = zhconv.convert(text, "zh-hant")
    (folder / "bad.csv").write_bytes(text.encode(encoding))
    write_rows_csv(folder / "good.csv", [enforcement_row(case_id="G1")])
    with warehouse.writer(settings) as con:
        results = {r.file_name: r for r in ingest_source(con, settings, "enforcement")}
        bad = results["bad.csv"]
        assert bad.status == "refused", bad
        assert (bad.rows_read, bad.rows_loaded, bad.rows_rejected) == (0, 0, 0)
        assert "bad.csv" in bad.message
        assert "编码" in bad.message and "encoding" in bad.message
        (line,) = rejects(con, "bad.csv")
        assert line["reason"] == bad.message and line["row_number"] is None
        assert (
            con.execute("SELECT count(*) FROM enforcement WHERE case_id LIKE 'W%'").fetchone()[0]
            == 0
        )
        assert results["good.csv"].rows_loaded == 1


# --- spreadsheets and JSON Lines --------------------------------------------------------------


def test_xlsx_header_on_first_non_empty_row_and_real_row_numbers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    header, cells = table(
        [
            enforcement_row(case_id="X1"),
            enforcement_row(case_id="X2", fine_yuan="-5"),
            enforcement_row(case_id="X3", street="火星"),
        ],
        headers=chinese_headers(settings, "enforcement"),
    )
    # header on sheet row 4; data on rows 5, 7 (row 6 left blank) and 8
    write_xlsx(
        inbox(settings, "enforcement") / "x.xlsx",
        header,
        [cells[0], None, cells[1], cells[2]],
        first_row=4,
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        check_batch(con, result, "enforcement")
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 1, 2)
        assert reject_of(con, "x.xlsx") == [(7, "fine_yuan", "-5"), (8, "street", "火星")]


def test_xlsx_without_data_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    path = inbox(settings, "permits") / "empty.xlsx"
    xlsxwriter.Workbook(str(path)).close()  # one sheet, no cells
    (result,) = ingest(settings, "permits")
    assert result.status == "refused" and "empty.xlsx" in result.message


def test_a_csv_saved_under_xlsx_is_read_by_its_content_and_the_notes_say_so(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    write_rows_csv(inbox(settings, "permits") / "renamed.xlsx", [permit_row()])
    (result,) = ingest(settings, "permits")
    assert (result.status, result.rows_loaded) == ("loaded", 1)
    assert ".xlsx" in result.message and "CSV" in result.message


def test_jsonl_malformed_lines_are_refused_alone(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    path = inbox(settings, "dcm_cases") / "pull.jsonl"
    good = {k: v for k, v in dcm_row().items() if v != ""}
    lines = [
        good | {"case_id": "J1", "rework_count": 2},  # JSON number
        "",  # blank line: skipped, but counted in line numbers
        '{"case_id": "J2", "source": "监督员上报"',  # cut off
        good | {"case_id": "J3", "registered_at": None},  # JSON null = not given
        "[1, 2, 3]",  # valid JSON, not an object
        "not json at all",
        good | {"case_id": "J4", "street": "火星"},
        good | {"case_id": "J5", "note": "extra key"},
    ]
    write_jsonl(path, lines)
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "dcm_cases")
        check_batch(con, result, "dcm_cases")
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7, 3, 4)
        assert "note" in result.message
        got = rejects(con, "pull.jsonl")
        assert [(r["row_number"], r["column_name"]) for r in got] == [
            (3, None),
            (5, None),
            (6, None),
            (7, "street"),
        ]
        assert got[0]["raw_value"] == '{"case_id": "J2", "source": "监督员上报"'
        assert got[1]["raw_value"] == "[1, 2, 3]"
        assert all("JSON" in r["reason"] for r in got[:3])
        assert record(con, "dcm_cases", "case_id", "J1")["rework_count"] == 2
        assert record(con, "dcm_cases", "case_id", "J3")["registered_at"] is None


def test_jsonl_with_bom_crlf_and_typed_values(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    path = inbox(settings, "enforcement") / "e.jsonl"
    objs = [
        {
            "case_id": "K1",
            "filed_date": "2023-07-05",
            "street": "金霞",
            "category": "其他",
            "fine_yuan": 3009408.10,
            "is_major": True,
            "legal_review": 1,
        },
        {
            "case_id": "K2",
            "filed_date": 45112,
            "street": "金霞",
            "category": "其他",
            "fine_yuan": "¥1,000",
            "is_major": False,
        },
    ]
    text = "\ufeff" + "\r\n".join(json.dumps(o, ensure_ascii=False) for o in objs) + "\r\n"
    path.write_bytes(text.encode("utf-8"))
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        assert result.rows_loaded == 2, rejects(con)
        k1, k2 = (
            record(con, "enforcement", "case_id", "K1"),
            record(con, "enforcement", "case_id", "K2"),
        )
        assert k1["fine_yuan"] == Decimal("3009408.10")
        assert k1["is_major"] is True and k1["legal_review"] is True
        assert k2["filed_date"] == dt.date(2023, 7, 5) and k2["is_major"] is False


def test_jsonl_must_be_utf8(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    path = inbox(settings, "dcm_cases") / "g.jsonl"
    path.write_bytes((json.dumps(dcm_row(), ensure_ascii=False) + "\n").encode("gb18030"))
    (result,) = ingest(settings, "dcm_cases")
    assert result.status == "refused" and "UTF-8" in result.message


# --- headers ----------------------------------------------------------------------------------


def test_headers_canonical_chinese_case_and_full_width(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    header = [
        " PERMIT_ID ",
        "事项名称",
        "Channel",
        " 受理日期",
        "办理状态",
        "承诺时限（工作日）",
        "收费金额（元）",
        "电子证照 ",
        "备注",
        "经办人",
    ]
    row = permit_row()
    cells = [
        row["permit_id"],
        row["item_name"],
        row["channel"],
        row["received_date"],
        row["status"],
        "15",
        "¥2,000",
        "Y",
        "随便写",
        "李四",
    ]
    write_csv(inbox(settings, "permits") / "p.csv", header, [cells])
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "permits")
        check_batch(con, result, "permits")
        assert result.rows_loaded == 1, rejects(con)
        assert "备注" in result.message and "经办人" in result.message
        assert batches(con)[0]["message"] == result.message
        stored = record(con, "permits", "permit_id", "XK2023070001")
        assert stored["promised_days"] == 15
        assert stored["fee_yuan"] == Decimal("2000.00") and stored["e_license"] is True
        assert stored["decided_date"] is None  # optional column absent from the file


@pytest.mark.parametrize("source", list(ROW_BUILDERS))
def test_every_source_loads_with_chinese_and_with_canonical_headers(
    tmp_path: Path, source: str
) -> None:
    settings = make_settings(tmp_path)
    row = ROW_BUILDERS[source]()
    folder = inbox(settings, source)
    write_rows_csv(folder / "zh.csv", [row], headers=chinese_headers(settings, source))
    write_rows_csv(folder / "en.csv", [row], columns=field_names(settings, source))
    with warehouse.writer(settings) as con:
        results = ingest_source(con, settings, source)
        assert [r.rows_loaded for r in results] == [1, 1], rejects(con)
        assert count(con, source) == 1  # the same key twice: one record


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl"])
def test_missing_required_column_refuses_the_file_only(tmp_path: Path, fmt: str) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    columns = [c for c in field_names(settings, "enforcement") if c != "street"]
    rows = [enforcement_row(case_id="M1")]
    if fmt == "csv":
        write_rows_csv(folder / "no_street.csv", rows, columns=columns)
    elif fmt == "xlsx":
        write_xlsx(folder / "no_street.xlsx", *table(rows, columns))
    else:
        write_jsonl(folder / "no_street.jsonl", [{c: rows[0][c] for c in columns}])
    write_rows_csv(folder / "z_ok.csv", [enforcement_row(case_id="OK1")])
    with warehouse.writer(settings) as con:
        refused, ok = ingest_source(con, settings, "enforcement")
        name = f"no_street.{fmt}"
        assert refused.file_name == name and refused.status == "refused"
        assert name in refused.message and "street" in refused.message and "街道" in refused.message
        (line,) = rejects(con, name)
        assert (line["source"], line["file_name"], line["column_name"]) == (
            "enforcement",
            name,
            "street",
        )
        assert line["row_number"] is None and line["raw_value"] is None
        (batch,) = [b for b in batches(con) if b["file_name"] == name]
        assert (batch["status"], batch["rows_read"], batch["message"]) == (
            "refused",
            0,
            refused.message,
        )
        assert ok.rows_loaded == 1
        assert record(con, "enforcement", "case_id", "M1") is None


def test_empty_and_headerless_files_are_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "demolition")
    (folder / "a_empty.csv").write_bytes(b"")
    (folder / "b_blank.csv").write_bytes(b"\r\n\r\n")
    (folder / "c_empty.jsonl").write_bytes(b"")
    write_rows_csv(folder / "d_ok.csv", [demolition_row()])
    with warehouse.writer(settings) as con:
        results = ingest_source(con, settings, "demolition")
        assert [r.status for r in results] == ["refused", "refused", "skipped", "loaded"]
        assert "为空" in results[0].message and "表头" in results[1].message
        for r in results[:2]:
            assert r.file_name in r.message
            assert [x["file_name"] for x in rejects(con, r.file_name)] == [r.file_name]
        # Every empty file has the same (empty) content: the second one is not loaded again,
        # but the operator is told which file it repeats and that it was refused.
        assert "a_empty.csv" in results[2].message and "refused" in results[2].message
        assert rejects(con, "c_empty.jsonl") == []
        assert count(con, "demolition") == 1


def test_header_only_file_loads_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_csv(inbox(settings, "legal_activities") / "h.csv", ["日期", "活动类型", "主题"], [])
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "legal_activities")
        assert (result.status, result.rows_read) == ("loaded", 0)
        check_batch(con, result, "legal_activities")


# --- refused rows -----------------------------------------------------------------------------

# The field that tells two otherwise equal rows of a source apart (its key or part of it).
NAMING_FIELD = {
    "permits": "permit_id",
    "enforcement": "case_id",
    "demolition": "record_id",
    "demolition_targets": "campaign",
    "dcm_cases": "case_id",
    "legal_activities": "title",
}

BAD_ROWS = [
    # (source, overrides, column, raw value, words the reason must contain)
    ("enforcement", {"filed_date": "2023-02-30"}, "filed_date", "2023-02-30", "日期无法识别"),
    ("enforcement", {"filed_date": "2023"}, "filed_date", "2023", "日期无法识别"),
    ("enforcement", {"filed_date": ""}, "filed_date", None, "必填项为空"),
    ("enforcement", {"case_id": ""}, "case_id", None, "必填项为空"),
    ("enforcement", {"case_id": "   "}, "case_id", "   ", "必填项为空"),
    ("enforcement", {"fine_yuan": "-500"}, "fine_yuan", "-500", "负数"),
    ("enforcement", {"fine_yuan": "1.005"}, "fine_yuan", "1.005", "无法识别"),
    ("enforcement", {"fine_yuan": "1000000000000"}, "fine_yuan", "1000000000000", "过大"),
    ("enforcement", {"street": "湖南街道"}, "street", "湖南街道", "街道"),
    ("enforcement", {"category": "乱停车"}, "category", "乱停车", "违法类别"),
    ("enforcement", {"penalty_type": "拘留"}, "penalty_type", "拘留", "处罚种类"),
    ("enforcement", {"is_major": "有"}, "is_major", "有", "是/否"),
    ("enforcement", {"decided_date": "2023-07-01"}, "decided_date", "2023-07-01", "早于立案日期"),
    ("enforcement", {"closed_date": "2023-06-30"}, "closed_date", "2023-06-30", "早于立案日期"),
    (
        "enforcement",
        {"review_outcome": "维持", "review_date": ""},
        "review_date",
        None,
        "缺少结案日期",
    ),
    (
        "enforcement",
        {"review_outcome": "撤销", "review_date": "2023-09-01"},
        "review_outcome",
        "撤销",
        "复议诉讼结果",
    ),
    ("permits", {"promised_days": "0"}, "promised_days", "0", "1..60"),
    ("permits", {"promised_days": "61"}, "promised_days", "61", "1..60"),
    ("permits", {"promised_days": "十"}, "promised_days", "十", "整数"),
    ("permits", {"channel": "邮寄"}, "channel", "邮寄", "申请方式"),
    ("permits", {"item_name": "城市供水审批"}, "item_name", "城市供水审批", "许可事项"),
    ("permits", {"status": ""}, "status", None, "必填项为空"),
    ("permits", {"decided_date": "2023-07-01"}, "decided_date", "2023-07-01", "早于受理日期"),
    ("permits", {"fee_yuan": "-1"}, "fee_yuan", "-1", "负数"),
    ("demolition", {"area_m2": "0"}, "area_m2", "0", "大于0"),
    ("demolition", {"area_m2": "-12平方米"}, "area_m2", "-12平方米", "负数"),
    ("demolition", {"area_m2": ""}, "area_m2", None, "必填项为空"),
    ("demolition", {"building_type": "临时建筑"}, "building_type", "临时建筑", "违建类型"),
    ("demolition_targets", {"end_date": "2023-06-30"}, "end_date", "2023-06-30", "早于开始日期"),
    ("demolition_targets", {"street": "湖南"}, "street", "湖南", "街道"),
    ("demolition_targets", {"target_m2": "0"}, "target_m2", "0", "大于0"),
    ("demolition_targets", {"campaign": ""}, "campaign", None, "必填项为空"),
    (
        "dcm_cases",
        {"case_class": "事件", "category": "公用设施"},
        "category",
        "公用设施",
        "不是该案件类型下的有效大类",
    ),
    (
        "dcm_cases",
        {"case_class": "部件", "category": "街面秩序"},
        "category",
        "街面秩序",
        "不是该案件类型下的有效大类",
    ),
    ("dcm_cases", {"case_class": "事件部件"}, "case_class", "事件部件", "案件类型"),
    ("dcm_cases", {"source": "微信"}, "source", "微信", "案件来源"),
    ("dcm_cases", {"deadline_at": ""}, "deadline_at", None, "缺少处置时限"),
    (
        "dcm_cases",
        {"registered_at": "2023-07-05 09:00:00"},
        "registered_at",
        "2023-07-05 09:00:00",
        "立案时间早于上报时间",
    ),
    (
        "dcm_cases",
        {"dispatched_at": "2023-07-05 09:30:00"},
        "dispatched_at",
        "2023-07-05 09:30:00",
        "派遣时间早于",
    ),
    (
        "dcm_cases",
        {"disposed_at": "2023-07-05 09:50:00"},
        "disposed_at",
        "2023-07-05 09:50:00",
        "处置完成时间早于",
    ),
    (
        "dcm_cases",
        {"closed_at": "2023-07-05 14:00:00"},
        "closed_at",
        "2023-07-05 14:00:00",
        "结案时间早于",
    ),
    (
        "dcm_cases",
        {"reported_at": "2023-07-05 25:00"},
        "reported_at",
        "2023-07-05 25:00",
        "日期无法识别",
    ),
    ("dcm_cases", {"rework_count": "-1"}, "rework_count", "-1", "超出允许范围"),
    ("legal_activities", {"participants": "-3"}, "participants", "-3", "超出允许范围"),
    ("legal_activities", {"activity_type": "联欢会"}, "activity_type", "联欢会", "活动类型"),
    ("legal_activities", {"title": ""}, "title", None, "必填项为空"),
    ("legal_activities", {"date": "2023-7"}, "date", "2023-7", "日期无法识别"),
    ("legal_activities", {"date": ""}, "date", None, "必填项为空"),
]


@pytest.mark.parametrize("source", list(ROW_BUILDERS))
def test_bad_rows_are_refused_with_file_row_column_value_and_reason(
    tmp_path: Path, source: str
) -> None:
    """One file per source: a good row (row 2), then each bad row of BAD_ROWS (rows 3, 4, …).
    Each bad row yields exactly one reject line naming its row, column, raw value and reason."""
    settings = make_settings(tmp_path)
    build, naming = ROW_BUILDERS[source], NAMING_FIELD[source]
    cases = [c for c in BAD_ROWS if c[0] == source]
    rows = [build(**{naming: "GOOD-1"})]
    rows += [build(**{naming: f"BAD-{i}"}) | c[1] for i, c in enumerate(cases)]
    write_rows_csv(
        inbox(settings, source) / "month.csv", rows, headers=chinese_headers(settings, source)
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, source)
        check_batch(con, result, source)
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
            len(rows),
            1,
            len(cases),
        )
        lines = {r["row_number"]: r for r in rejects(con, "month.csv")}
        assert len(lines) == len(rejects(con, "month.csv")), "one problem per bad row expected"
        for row_number, (_, overrides, column, raw, reason) in enumerate(cases, start=3):
            line = lines[row_number]
            assert line["source"] == source and line["file_name"] == "month.csv"
            assert (line["column_name"], line["raw_value"]) == (column, raw), overrides
            assert reason in line["reason"], (overrides, line["reason"])
            assert "(" in line["reason"]  # with an English gloss for the operator
        assert count(con, source) == 1


def test_a_row_with_several_problems_counts_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_rows_csv(
        inbox(settings, "enforcement") / "m.csv",
        [enforcement_row(filed_date="坏日期", street="火星", fine_yuan="-1", is_major="或许")],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        check_batch(con, result, "enforcement")
        assert (result.rows_read, result.rows_rejected) == (1, 1)
        assert {r["column_name"] for r in rejects(con)} == {
            "filed_date",
            "street",
            "fine_yuan",
            "is_major",
        }


def test_duplicate_key_in_a_file_last_row_wins(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_rows_csv(
        inbox(settings, "enforcement") / "dup.csv",
        [
            enforcement_row(case_id="D1", fine_yuan="100"),
            enforcement_row(case_id="D2", fine_yuan="7"),
            enforcement_row(case_id=" D1 ", fine_yuan="200"),  # same key once trimmed
            enforcement_row(case_id="D1", fine_yuan="300"),
        ],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        check_batch(con, result, "enforcement")
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 2, 2)
        assert record(con, "enforcement", "case_id", "D1")["fine_yuan"] == Decimal("300.00")
        lines = rejects(con, "dup.csv")
        assert [(r["row_number"], r["column_name"], r["raw_value"]) for r in lines] == [
            (2, "case_id", "D1"),
            (4, "case_id", "D1"),
        ]
        assert all("第5行" in r["reason"] and "superseded" in r["reason"] for r in lines)


def test_duplicate_whose_last_row_is_bad_keeps_the_last_good_row(tmp_path: Path) -> None:
    """The last *loadable* row wins; the broken later row is refused and shown, not lost."""
    settings = make_settings(tmp_path)
    write_rows_csv(
        inbox(settings, "enforcement") / "dup.csv",
        [
            enforcement_row(case_id="D1", fine_yuan="100"),
            enforcement_row(case_id="D1", fine_yuan="-100"),
        ],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        check_batch(con, result, "enforcement")
        assert record(con, "enforcement", "case_id", "D1")["fine_yuan"] == Decimal("100.00")
        assert reject_of(con, "dup.csv") == [(3, "fine_yuan", "-100")]


def test_duplicate_composite_key_after_normalisation(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_rows_csv(
        inbox(settings, "demolition_targets") / "t.csv",
        [
            target_row(street="鸥汀", target_m2="100"),
            target_row(street="鷗汀街道", target_m2="150"),
        ],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "demolition_targets")
        check_batch(con, result, "demolition_targets")
        assert result.rows_loaded == 1
        (line,) = rejects(con, "t.csv")
        assert line["row_number"] == 2 and "第3行" in line["reason"]
        assert line["column_name"] == "campaign, street"
        assert line["raw_value"] == "2023年违法建设专项治理|鸥汀"
        stored = con.execute("SELECT street, target_m2 FROM demolition_targets").fetchall()
        assert stored == [("鸥汀", Decimal("150.00"))]


def test_legal_activity_key_is_date_and_title(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_rows_csv(
        inbox(settings, "legal_activities") / "a.csv",
        [
            activity_row(participants="10"),
            activity_row(date="2023/7/10", participants="12"),
            activity_row(title="另一主题"),
        ],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "legal_activities")
        check_batch(con, result, "legal_activities")
        assert (result.rows_loaded, result.rows_rejected) == (2, 1)
        assert con.execute(
            "SELECT participants FROM legal_activities WHERE title = '行政处罚法专题培训'"
        ).fetchall() == [(12,)]


# --- CSV row numbers and structure --------------------------------------------------------------


def test_csv_row_numbers_survive_blank_rows_and_quoted_line_breaks(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    fields = field_names(settings, "demolition")
    header, cells = table(
        [
            demolition_row(record_id="R1", address="金霞路1号\n（东侧）"),
            demolition_row(record_id="R2", area_m2="-1"),
            demolition_row(record_id="R3", street="火星"),
        ],
        fields,
    )
    text = csv_bytes(header, [cells[0]]).decode() + "\r\n,,,,,\r\n"
    text += csv_bytes(header, [cells[1]]).decode().split("\r\n", 1)[1] + "\r\n"
    text += csv_bytes(header, [cells[2]]).decode().split("\r\n", 1)[1]
    # rows: 1 header, 2 R1 (two lines, one row), 3 blank, 4 only commas, 5 R2, 6 blank, 7 R3
    (inbox(settings, "demolition") / "gaps.csv").write_text(text, encoding="utf-8")
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "demolition")
        check_batch(con, result, "demolition")
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 1, 2)
        assert reject_of(con, "gaps.csv") == [(5, "area_m2", "-1"), (7, "street", "火星")]
        assert record(con, "demolition", "record_id", "R1")["address"] == "金霞路1号\n（东侧）"


def test_csv_short_rows_and_trailing_empty_cells(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    text = "case_id,filed_date,street,category,fine_yuan\r\nS1,2023-07-05,金霞,其他\r\n"
    text += "S2,2023-07-05,金霞,其他,5,,\r\n"
    (inbox(settings, "enforcement") / "s.csv").write_text(text, encoding="utf-8")
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        assert result.rows_loaded == 2, rejects(con)
        assert record(con, "enforcement", "case_id", "S1")["fine_yuan"] == Decimal("0.00")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("S1,2023-07-05,金霞街道,12号,其他\r\n", "第2行"),  # unquoted comma: one cell too many
        ('S1,2023-07-05,"金霞,其他\r\n', "CSV"),  # quote never closed
        ('S1,2023-07-05,"金"霞,其他\r\n', "CSV"),  # text after a closing quote
    ],
)
def test_malformed_csv_is_refused_whole(tmp_path: Path, body: str, words: str) -> None:
    settings = make_settings(tmp_path)
    text = "case_id,filed_date,street,category\r\n" + body
    (inbox(settings, "enforcement") / "m.csv").write_text(text, encoding="utf-8")
    (result,) = ingest(settings, "enforcement")
    assert result.status == "refused" and words in result.message and "m.csv" in result.message


# --- the whole inbox ----------------------------------------------------------------------------


def test_ingest_all_loads_every_source_and_survives_a_refused_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("URBANREPORT_DCM_URL", raising=False)
    monkeypatch.delenv("URBANREPORT_CONFIG", raising=False)
    settings = make_settings(tmp_path)
    for source, build in ROW_BUILDERS.items():
        write_rows_csv(
            inbox(settings, source) / f"{source}.csv",
            [build()],
            headers=chinese_headers(settings, source),
        )
    write_csv(inbox(settings, "permits") / "broken.csv", ["办件编号"], [["X"]])
    summary = ingest_all(settings)
    assert set(summary) == set(ROW_BUILDERS)
    assert sorted(r.status for r in summary["permits"]) == ["loaded", "refused"]
    with warehouse.reader(settings) as con:
        for source in ROW_BUILDERS:
            assert count(con, source) == 1, source
        assert count(con, "calendar_days") > 0
        assert con.execute(
            "SELECT bool_and(rows_read = rows_loaded + rows_rejected) FROM batches"
        ).fetchone()[0]


# --- reading ahead ------------------------------------------------------------------------------


def _stored(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """What the ingest stored, without the wall-clock time each batch was loaded at."""
    queries = {
        "batches": "SELECT * EXCLUDE (loaded_at) FROM batches",
        "rejects": "SELECT * FROM rejects",
        "enforcement": "SELECT * FROM enforcement",
        "batch_touches": "SELECT * FROM batch_touches",
    }
    return {t: sorted(con.execute(q).fetchall(), key=repr) for t, q in queries.items()}


@pytest.mark.parametrize("read_ahead", [1, 2, 3])
def test_reading_ahead_stores_what_one_file_at_a_time_stores(
    tmp_path: Path, read_ahead: int
) -> None:
    """Files staged ahead on other connections are still written in order, each compared with
    what the files before it stored: a repeated key, a refused file, rejects, an identical
    re-drop and a file older than a loaded one give the same warehouse at every depth."""

    def drop(name: str, mtime: float, rows: list[dict]) -> None:
        set_mtime(write_rows_csv(folder / name, rows), mtime)

    stored = {}
    for depth in (0, read_ahead):
        settings = make_settings(tmp_path / str(depth), f"[ingest]\nread_ahead = {depth}\n")
        folder = inbox(settings, "enforcement")
        drop("01.csv", 1000, [enforcement_row(case_id=f"E{i}") for i in range(5)])
        drop("02.csv", 2000, [enforcement_row(case_id="E1", fine_yuan="800")])
        drop("03.csv", 3000, [enforcement_row(case_id="E2", fine_yuan="-1")])
        write_csv(folder / "04.csv", ["办件编号"], [["X"]])
        set_mtime(folder / "04.csv", 4000)
        drop("05.csv", 5000, [enforcement_row(case_id="E3", fine_yuan="900")])
        (folder / "06.csv").write_bytes((folder / "02.csv").read_bytes())
        set_mtime(folder / "06.csv", 6000)
        with warehouse.writer(settings) as con:
            first = ingest_source(con, settings, "enforcement")
        # a late copy of an older export: E3 stays as the newer file (05.csv) has it
        drop("07.csv", 4500, [enforcement_row(case_id="E3", fine_yuan="100")])
        drop("08.csv", 8000, [enforcement_row(case_id="E4", fine_yuan="700")])
        with warehouse.writer(settings) as con:
            second = ingest_source(con, settings, "enforcement")
            statuses = [r.status for r in first] + [r.status for r in second if not r.skipped]
            assert statuses == ["loaded"] * 3 + ["refused", "loaded", "skipped", "loaded", "loaded"]
            assert record(con, "enforcement", "case_id", "E3")["fine_yuan"] == Decimal("900")
            stored[depth] = _stored(con)
    assert stored[read_ahead] == stored[0]

"""Nothing dropped in an inbox is ignored in silence: ZIP archives, files of the wrong kind,
Office lock files, subfolders — and what `urbanreport ingest` and `urbanreport rejects` say.

A file that is not loaded is a refused batch naming the file and the accepted formats, judged
by its content; temporary and hidden files are skipped quietly. An archive's members are
batches of their own (`archive.zip!member`), guarded against escaping names, nesting and size.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.factories import (
    batches,
    check_batch,
    chinese_headers,
    count,
    csv_bytes,
    enforcement_row,
    every_batch_balances,
    inbox,
    make_settings,
    reject_places,
    rejects,
    table,
)
from urbanreport import cli
from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.ingest.batches import BatchResult, ingest_source

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# The start of an OLE2 compound file whose directory names a WordDocument stream (a .doc).
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "WordDocument".encode("utf-16-le")


def extract_csv(settings: Settings, *case_ids: str, bad: str | None = None) -> bytes:
    rows = [enforcement_row(case_id=c) for c in case_ids]
    if bad:
        rows.append(enforcement_row(case_id=bad, street="火星"))
    return csv_bytes(*table(rows, headers=chinese_headers(settings, "enforcement")), "gb18030")


def zip_bytes(members: dict[str, bytes], gbk_names: bool = False) -> bytes:
    """A ZIP archive; `gbk_names` writes names as Chinese Windows does (GBK, no UTF-8 flag)."""
    placeholders: dict[bytes, bytes] = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, (name, data) in enumerate(members.items()):
            if gbk_names and not name.isascii():
                gbk = name.encode("gb18030")
                stand_in = f"{i}".rjust(len(gbk), "_").encode()  # ASCII: no UTF-8 flag
                placeholders[stand_in] = gbk
                name = stand_in.decode()
            zf.writestr(zipfile.ZipInfo(name, date_time=(2025, 2, 1, 8, 0, 0)), data)
    data = buf.getvalue()
    for stand_in, gbk in placeholders.items():  # in the local header and the central directory
        assert data.count(stand_in) == 2
        data = data.replace(stand_in, gbk)
    return data


def ingest(settings: Settings) -> list[BatchResult]:
    with warehouse.writer(settings) as con:
        results = ingest_source(con, settings, "enforcement")
        for r in results:
            if r.status == "loaded":
                check_batch(con, r, "enforcement")
        assert every_batch_balances(con)
        return results


def by_name(results: list[BatchResult]) -> dict[str, BatchResult]:
    return {r.file_name: r for r in results}


# --- archives ------------------------------------------------------------------------------------


def test_a_zip_of_two_extracts_and_a_pdf_gives_a_batch_per_member(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    archive = zip_bytes(
        {
            "行政处罚_1月.csv": extract_csv(settings, "Z1", "Z2", bad="Z3"),
            "导出/行政处罚_2月.csv": extract_csv(settings, "Z4"),
            "说明.pdf": PDF,
            "__MACOSX/._说明.pdf": b"\x00\x05\x16\x07",
            "导出/": b"",
        },
        gbk_names=True,
    )
    (inbox(settings, "enforcement") / "导出.zip").write_bytes(archive)
    results = by_name(ingest(settings))
    assert set(results) == {
        "导出.zip!导出/行政处罚_2月.csv",
        "导出.zip!行政处罚_1月.csv",
        "导出.zip!说明.pdf",
    }
    first = results["导出.zip!行政处罚_1月.csv"]
    assert (first.rows_read, first.rows_loaded, first.rows_rejected) == (3, 2, 1)
    assert results["导出.zip!导出/行政处罚_2月.csv"].rows_loaded == 1
    pdf = results["导出.zip!说明.pdf"]
    assert pdf.status == "refused" and "PDF" in pdf.message and "可导入的格式" in pdf.message
    with warehouse.reader(settings) as con:
        assert reject_places(con, "导出.zip!行政处罚_1月.csv") == [("4", "street", "火星")]
        assert count(con, "enforcement") == 3
    again = ingest(settings)
    assert [r.status for r in again] == ["skipped"] * 3


def test_a_member_whose_name_climbs_out_is_refused_and_never_written(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "home")
    archive = zip_bytes(
        {
            "../../escaped.csv": extract_csv(settings, "E1"),
            "/etc/absolute.csv": extract_csv(settings, "E2"),
            "ok.csv": extract_csv(settings, "E3"),
        }
    )
    (inbox(settings, "enforcement") / "a.zip").write_bytes(archive)
    results = by_name(ingest(settings))
    assert results["a.zip!ok.csv"].rows_loaded == 1
    for name in ("a.zip!../../escaped.csv", "a.zip!/etc/absolute.csv"):
        assert results[name].status == "refused" and "压缩包以外" in results[name].message
    assert not any(tmp_path.rglob("escaped.csv")) and not any(tmp_path.rglob("absolute.csv"))


def test_nested_archives_and_oversized_members_are_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "[ingest]\narchive_max_bytes = 4000\n")
    inner = zip_bytes({"x.csv": extract_csv(settings, "N1")})
    big = extract_csv(settings, *[f"B{i}" for i in range(40)])
    assert len(big) > 4000
    small = extract_csv(settings, "S1")
    archive = zip_bytes({"a_inner.zip": inner, "b_small.csv": small, "c_big.csv": big})
    (inbox(settings, "enforcement") / "outer.zip").write_bytes(archive)
    results = by_name(ingest(settings))
    assert "嵌套" in results["outer.zip!a_inner.zip"].message
    assert results["outer.zip!b_small.csv"].rows_loaded == 1
    big_result = results["outer.zip!c_big.csv"]
    assert big_result.status == "refused" and "4,000" in big_result.message
    assert "archive_max_bytes" in big_result.message


def test_a_damaged_or_empty_archive_is_one_refused_batch(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    (folder / "cut.zip").write_bytes(zip_bytes({"x.csv": extract_csv(settings, "C1")})[:40])
    (folder / "empty.zip").write_bytes(zip_bytes({}))
    results = by_name(ingest(settings))
    assert results["cut.zip"].status == results["empty.zip"].status == "refused"
    assert "损坏" in results["cut.zip"].message and "没有文件" in results["empty.zip"].message


# --- files that are not extracts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("通知.doc", DOC, "Word"),
        ("报告.pdf", PDF, "PDF"),
        ("备份.dat", b"case_id,filed_date\r\nA,2023-07-05\r\n", ".dat"),
        ("无扩展名", b"case_id,filed_date\r\n", "无扩展名"),
        ("数据.json", b'[{"case_id": "J1"}]', "JSON Lines"),
        ("照片.jpg", b"\xff\xd8\xff\xe0" + bytes(64), "图片"),
        ("网页.xls", b"<html><body><table><tr><td>1</td></tr></table></body></html>", ".xlsx"),
        (
            "文档.docx",
            zip_bytes({"word/document.xml": b"<w/>", "[Content_Types].xml": b""}),
            "Word",
        ),
        ("说明.txt", "请各街道于每月5日前报送台账。\r\n联系人：法制股".encode(), "表头"),
        ("数组.jsonl", b'[{"case_id": "J1"}]\n', "JSON Lines"),
    ],
)
def test_a_file_that_is_no_extract_is_a_refused_batch_naming_it(
    tmp_path: Path, name: str, data: bytes, words: str
) -> None:
    settings = make_settings(tmp_path)
    (inbox(settings, "enforcement") / name).write_bytes(data)
    (result,) = ingest(settings)
    assert result.status == "refused" and result.file_name == name
    assert name in result.message and words in result.message, result.message
    if not name.endswith(".txt"):
        assert "可导入的格式" in result.message and ".xlsx" in result.message
    with warehouse.reader(settings) as con:
        assert reject_places(con, name) == [("-", None, None)]


def test_office_lock_files_and_hidden_files_are_skipped_quietly(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    for name in ("~$台账.xlsx", ".~lock.台账.xlsx#", ".DS_Store", "Thumbs.db", "~WRL0001.tmp"):
        (folder / name).write_bytes(b"\x00\x01lock")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "x.csv").write_bytes(extract_csv(settings, "H1"))
    (folder / "2025年2月").mkdir()
    (folder / "2025年2月" / "台账.csv").write_bytes(extract_csv(settings, "S1"))
    (result,) = ingest(settings)
    assert (result.file_name, result.rows_loaded) == ("2025年2月/台账.csv", 1)
    with warehouse.reader(settings) as con:
        assert len(batches(con)) == 1 and rejects(con) == []


# --- what the operator reads ---------------------------------------------------------------------


def test_ingest_and_rejects_commands_list_every_refused_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("URBANREPORT_CONFIG", "URBANREPORT_DCM_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("URBANREPORT_HOME", str(tmp_path))
    settings = make_settings(tmp_path)
    folder = inbox(settings, "enforcement")
    (folder / "通知.doc").write_bytes(DOC)
    (folder / "报告.pdf").write_bytes(PDF)
    (folder / "ok.csv").write_bytes(extract_csv(settings, "K1", bad="K2"))
    assert cli.main(["ingest"]) == 0
    out = capsys.readouterr().out
    assert "整个文件被拒绝 (files refused): 2" in out
    for word in ("通知.doc", "报告.pdf", "可导入的格式", "urbanreport rejects"):
        assert word in out
    assert "Traceback" not in out
    assert cli.main(["rejects"]) == 0
    listed = capsys.readouterr().out
    assert "通知.doc" in listed and "报告.pdf" in listed
    assert "ok.csv\t3\tstreet\t火星" in listed


def test_running_out_of_memory_is_said_in_words_and_leaves_the_file_for_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("URBANREPORT_CONFIG", "URBANREPORT_DCM_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("URBANREPORT_HOME", str(tmp_path))
    settings = make_settings(tmp_path, '[ingest]\nmemory_limit = "2MB"\n')
    line = (
        '{"case_id": "M%06d", "source": "监督员上报", "case_class": "事件", "category": "街面秩序",'
        ' "street": "龙华", "reported_at": "2023-07-05 09:12:00"}\n'
    )
    folder = inbox(settings, "dcm_cases")
    (folder / "pull.jsonl").write_text("".join(line % i for i in range(50_000)), "utf-8")
    assert cli.main(["ingest"]) == 2
    err = capsys.readouterr().err
    assert "pull.jsonl" in err and "memory_limit" in err and "Traceback" not in err
    with warehouse.reader(settings) as con:
        assert batches(con) == []
    (tmp_path / "urbanreport.toml").write_text('[ingest]\nmemory_limit = "512MB"\n', "utf-8")
    assert cli.main(["ingest"]) == 0
    assert "dcm_cases                1     50000" in capsys.readouterr().out

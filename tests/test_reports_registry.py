"""Report versions on disk: unchanged bytes write nothing, changed bytes keep the old version,
writes are atomic, and the index has exactly the shape the portal reads."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from tests.reports_data import annual_result, annual_tables
from urbanreport.core.periods import Period
from urbanreport.reports import build, registry
from urbanreport.reports.inputs import ReportData
from urbanreport.reports.registry import SHANGHAI, fiscal_years, load_index, publish

ENTRY_KEYS = {
    "id", "kind", "period", "title", "file", "ascii_name", "sha256", "size", "generated_at",
    "data_cutoff", "data_updated_at", "headline", "reads", "preview", "versions",
}  # fmt: skip
META = {
    "id": "2023-annual",
    "kind": "annual",
    "period": "2023",
    "title": "2023年度法治政府建设数据报告",
    "file": "2023年度法治政府建设数据报告.pdf",
    "ascii_name": "urbanreport-2023-annual.pdf",
    "data_cutoff": "2023-12-31",
    "data_updated_at": "2024-01-02T02:00:00",
    "headline": {"enforcement.penalty_cases": 936},
}


def preview(_: bytes) -> bytes:
    return b"\x89PNG preview"


def at(hour: int) -> datetime:
    return datetime(2024, 1, 2, hour, 0, 0, tzinfo=SHANGHAI)


def leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_empty_registry(tmp_path):
    assert fiscal_years(tmp_path) == []
    assert fiscal_years(tmp_path / "absent") == []
    assert load_index(tmp_path, 2023) == {"fiscal_year": 2023, "reports": {}}


def test_first_publish_writes_file_preview_and_index(tmp_path):
    entry, changed = publish(tmp_path, 2023, META, b"%PDF one", preview, generated_at=at(2))
    assert changed
    folder = tmp_path / "2023"
    assert (folder / META["file"]).read_bytes() == b"%PDF one"
    assert (folder / entry["preview"]).read_bytes() == b"\x89PNG preview"
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    assert index == load_index(tmp_path, 2023)
    assert index["fiscal_year"] == 2023
    stored = index["reports"]["2023"]
    assert set(stored) == ENTRY_KEYS
    assert stored["sha256"] == registry.sha256_bytes(b"%PDF one")
    assert stored["size"] == 8
    assert stored["generated_at"] == "2024-01-02T02:00:00+08:00"
    assert stored["versions"] == []
    assert fiscal_years(tmp_path) == [2023]
    assert leftovers(tmp_path) == []


def test_same_bytes_write_nothing(tmp_path):
    publish(tmp_path, 2023, META, b"%PDF one", preview, generated_at=at(2))
    folder = tmp_path / "2023"
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
    entry, changed = publish(tmp_path, 2023, META, b"%PDF one", preview, generated_at=at(5))
    assert not changed
    assert entry["generated_at"] == "2024-01-02T02:00:00+08:00"
    after = {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}
    assert after == before


def test_changed_bytes_keep_the_previous_version(tmp_path):
    publish(tmp_path, 2023, META, b"%PDF one", preview, generated_at=at(2))
    publish(tmp_path, 2023, META, b"%PDF two", preview, generated_at=at(3))
    entry, changed = publish(tmp_path, 2023, META, b"%PDF three", preview, generated_at=at(4))
    assert changed
    folder = tmp_path / "2023"
    assert (folder / META["file"]).read_bytes() == b"%PDF three"
    versions = entry["versions"]
    assert [v["sha256"] for v in versions] == [
        registry.sha256_bytes(b"%PDF two"),
        registry.sha256_bytes(b"%PDF one"),
    ]
    assert [v["generated_at"] for v in versions] == [
        "2024-01-02T03:00:00+08:00",
        "2024-01-02T02:00:00+08:00",
    ]
    assert (folder / versions[0]["file"]).read_bytes() == b"%PDF two"
    assert (folder / versions[1]["file"]).read_bytes() == b"%PDF one"
    assert versions[0]["file"].startswith("versions/2023年度法治政府建设数据报告_20240102T030000")
    assert set(versions[0]) == {"file", "sha256", "size", "generated_at"}
    assert load_index(tmp_path, 2023)["reports"]["2023"] == entry
    assert leftovers(tmp_path) == []


def test_months_and_year_share_one_index(tmp_path):
    monthly = dict(
        META,
        id="2023-07-monthly",
        kind="monthly",
        period="2023-07",
        title="2023年07月法治政府建设数据月报",
        file="2023年07月法治政府建设数据月报.pdf",
        ascii_name="urbanreport-2023-07-monthly.pdf",
        data_cutoff="2023-07-31",
    )
    publish(tmp_path, 2023, monthly, b"%PDF m", preview)
    publish(tmp_path, 2023, META, b"%PDF y", preview)
    reports = load_index(tmp_path, 2023)["reports"]
    assert list(reports) == ["2023", "2023-07"]
    assert reports["2023-07"]["preview"] == "previews/urbanreport-2023-07-monthly.png"


def test_render_data_registers_a_real_report(tmp_path):
    data = build.report_data(
        "year", "2023", 2023, date(2023, 1, 1), date(2023, 12, 31),
        annual_result(), annual_tables(),
        {"bureau": "汕头市龙湖区城市管理和综合执法局", "district": "龙湖区"},
    )  # fmt: skip
    first = build.render_data(tmp_path, data)
    assert first.changed
    assert first.id == "2023-annual" and first.kind == "annual"
    assert first.path == tmp_path / "2023" / "2023年度法治政府建设数据报告.pdf"
    assert first.path.read_bytes()[:5] == b"%PDF-"
    assert first.ascii_name == "urbanreport-2023-annual.pdf"
    assert first.data_cutoff == "2023-12-31"
    assert first.headline["enforcement.penalty_cases"] == 936
    assert first.headline["enforcement.fines_yuan"] == 3009408
    assert first.headline["permits.non_tax_revenue_yuan"] == 496793.68
    assert first.headline["demolition.campaign_progress"] == 0.7802
    assert first.preview is not None and first.preview.read_bytes()[:4] == b"\x89PNG"
    json.dumps(load_index(tmp_path, 2023))  # JSON-safe throughout
    second = build.render_data(tmp_path, data)
    assert not second.changed
    assert second.sha256 == first.sha256 and second.generated_at == first.generated_at


def cutoff(label: str, data_as_of: str | None) -> date:
    result = {"data_version": {"data_as_of": data_as_of}}
    return ReportData("annual", Period.parse(label), result, {}, "局", "区").data_cutoff


def test_data_cutoff_is_the_data_day_while_the_period_runs():
    assert cutoff("2024", "2024-07-03T06:00:00") == date(2024, 7, 3)
    assert cutoff("2023", "2024-01-02T02:00:00") == date(2023, 12, 31)
    assert cutoff("2023", None) == date(2023, 12, 31)


def test_names():
    assert build.report_title("year", "2023") == "2023年度法治政府建设数据报告"
    assert build.report_title("month", "2023-07") == "2023年07月法治政府建设数据月报"
    assert build.ascii_name("month", "2023-07") == "urbanreport-2023-07-monthly.pdf"
    assert build.report_id("year", "2023") == "2023-annual"


def test_word_and_excel_files_version_with_their_pdf(tmp_path):
    folder = tmp_path / "2023"
    one = {"docx": b"PK word one", "xlsx": b"PK excel one"}
    entry, changed = publish(tmp_path, 2023, META, b"%PDF one", preview, at(2), others=one)
    assert changed and sorted(entry["formats"]) == ["docx", "xlsx"]
    stem = META["file"].removesuffix(".pdf")
    assert (folder / f"{stem}.docx").read_bytes() == one["docx"]
    assert entry["formats"]["xlsx"]["sha256"] == registry.sha256_bytes(one["xlsx"])
    # the same bytes again: nothing written
    again, changed = publish(tmp_path, 2023, META, b"%PDF one", preview, at(3), others=one)
    assert not changed and again == entry

    # only the Word file changed: still a new version, the old files kept together
    two = {**one, "docx": b"PK word two"}
    entry, changed = publish(tmp_path, 2023, META, b"%PDF one", preview, at(4), others=two)
    assert changed and len(entry["versions"]) == 1
    kept = entry["versions"][0]
    assert kept["sha256"] == registry.sha256_bytes(b"%PDF one")
    assert (folder / kept["formats"]["docx"]["file"]).read_bytes() == one["docx"]
    assert (folder / kept["formats"]["xlsx"]["file"]).read_bytes() == one["xlsx"]
    assert (folder / entry["formats"]["docx"]["file"]).read_bytes() == two["docx"]

    # new data: every file changes, the previous bundle becomes version 2 of the history
    three = {"docx": b"PK word three", "xlsx": b"PK excel three"}
    entry, changed = publish(tmp_path, 2023, META, b"%PDF three", preview, at(5), others=three)
    assert changed and len(entry["versions"]) == 2
    assert (folder / entry["versions"][0]["formats"]["docx"]["file"]).read_bytes() == two["docx"]
    assert (folder / entry["versions"][0]["file"]).read_bytes() == b"%PDF one"
    # a version's publication is keyed by its PDF's hash, which the portal finds
    sha = entry["versions"][0]["sha256"]
    assert registry.set_publication(tmp_path, 2023, META["id"], sha, {"state": "published"})
    assert not registry.set_publication(
        tmp_path, 2023, META["id"], registry.sha256_bytes(b"PK word two"), {"state": "published"}
    )

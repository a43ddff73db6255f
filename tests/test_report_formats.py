"""`urbanreport report` writes PDF, Word and Excel in one run from the scale-1 sample; each is
registered, identical on a rerun; the workbook's figures are the indicator JSON's numbers; the
annual Word file is the 年度报告 draft laid out as a 公文; `urbanreport export` has every figure."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml.ns import qn

from urbanreport import cli, indicators
from urbanreport.core import catalogue, formatting
from urbanreport.core.config import Settings, load_settings
from urbanreport.reports import docx as word
from urbanreport.reports import figures, registry, xlsx
from urbanreport.reports.build import report_kind

pytestmark = pytest.mark.slow

#: The four published 2023 sentences' figures, each after the phrase the bureau states it with.
PUBLISHED_FIGURES = (
    "处罚相关案件936宗",
    "罚款人民币3009408元",
    "办理审批许可事项502宗",
    "办结率100%",
    "非税收入496793.68元",
    "完成拆违936292.39平方米",
    "完成进度78.02%",
)
#: The number format each catalogue kind must carry in the workbook.
FORMATS = {"count": "0", "money": "0.00", "area": "0.00", "rate": "0.00%"}
PERIODS = ("2023", "2023-07")


@dataclass(frozen=True)
class Home:
    settings: Settings
    path: Path

    def run(self, *argv: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert cli.main(list(argv)) == 0
        return out.getvalue()

    def index(self) -> dict[str, Any]:
        return registry.load_index(self.settings.reports_dir, 2023)

    def file(self, period: str, fmt: str) -> Path:
        entry = self.index()["reports"][period]
        relative = entry["file"] if fmt == "pdf" else entry["formats"][fmt]["file"]
        return self.settings.reports_dir / "2023" / relative


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Home]:
    from urbanreport.ingest.batches import ingest_all
    from urbanreport.sample import write_sample

    path = tmp_path_factory.mktemp("formats-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.setenv("URBANREPORT_HOME", str(path))
        settings = load_settings(home=path)
        write_sample(settings, years=[2022, 2023])
        ingest_all(settings)
        h = Home(settings, path)
        for period in PERIODS:
            h.run("report", "--period", period)
        yield h


def indicator_json(home: Home, period: str) -> dict[str, Any]:
    return json.loads(home.run("indicators", "--period", period, "--json"))


def test_each_period_writes_three_registered_formats_and_a_rerun_writes_nothing(home: Home):
    before = {}
    for period in PERIODS:
        entry = home.index()["reports"][period]
        assert sorted(entry["formats"]) == ["docx", "xlsx"]
        for fmt in ("pdf", "docx", "xlsx"):
            path = home.file(period, fmt)
            assert path.suffix == f".{fmt}" and path.stem == entry["title"]
            sha = entry["sha256"] if fmt == "pdf" else entry["formats"][fmt]["sha256"]
            assert registry.sha256_bytes(path.read_bytes()) == sha
            before[period, fmt] = (path.read_bytes(), path.stat().st_mtime_ns)
    index = (home.settings.reports_dir / "2023" / registry.INDEX_NAME).read_bytes()
    for period in PERIODS:
        printed = home.run("report", "--period", period).split()
        assert [Path(p).suffix for p in printed] == [".pdf", ".docx", ".xlsx"]
    for (period, fmt), (data, mtime) in before.items():
        path = home.file(period, fmt)
        assert (path.read_bytes(), path.stat().st_mtime_ns) == (data, mtime), (period, fmt)
    assert (home.settings.reports_dir / "2023" / registry.INDEX_NAME).read_bytes() == index
    assert not (home.settings.reports_dir / "2023" / registry.VERSIONS_DIR).exists()


def report_kind_of(period: str) -> str:
    return report_kind("month" if "-" in period else "year")


def check_catalogue_sheet(
    sheet: Any, keys: Sequence[str], values: dict[str, Any], value_column: int
) -> int:
    """Every row of an indicator sheet (a row per key, in order): a number equal to the JSON
    value, in its kind's format."""
    name_column = [c.value for c in sheet[1]].index("指标") + 1
    checked = 0
    assert sheet.max_row == 1 + len(keys)
    for r, key in enumerate(keys, start=2):
        item = catalogue.indicator(key)
        assert sheet.cell(r, name_column).value.startswith(item.name), key
        cell, expected = sheet.cell(r, value_column), values[item.key]
        if expected is None:
            assert cell.value == formatting.MISSING
            continue
        assert isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
        assert cell.value == pytest.approx(float(expected), abs=1e-9), item.key
        if item.kind == "count":
            assert isinstance(cell.value, int), item.key
        if item.kind in FORMATS:
            assert cell.number_format == FORMATS[item.kind], item.key
        checked += 1
    return checked


@pytest.mark.parametrize("period", PERIODS)
def test_report_workbook_figures_are_the_indicator_json_numbers(home: Home, period: str):
    values = indicator_json(home, period)["indicators"]
    book = openpyxl.load_workbook(home.file(period, "xlsx"))
    assert book.sheetnames[0] == xlsx.ABOUT_SHEET
    headline = book[book.sheetnames[1]]
    headers = [c.value for c in headline[1]]
    current = next(i for i, h in enumerate(headers, 1) if h in ("2023年", "本月"))
    entry = next(e for e in figures.for_report(report_kind_of(period)) if e.rows)
    assert check_catalogue_sheet(headline, entry.rows, values, current) > 5
    assert headline.freeze_panes == "A2"


def test_annual_word_file_is_the_draft_laid_out_as_an_official_document(home: Home):
    opened = docx.Document(str(home.file("2023", "docx")))
    section = opened.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]

    def east_asian(style: Any) -> str:
        return style.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))

    body, title = opened.styles["Normal"], opened.styles["Title"]
    assert east_asian(body).startswith("仿宋") and body.font.size.pt == 16
    assert east_asian(title) == "方正小标宋简体" and title.font.size.pt == 22
    assert east_asian(opened.styles["Heading 1"]) == "黑体"
    assert east_asian(opened.styles["Heading 2"]).startswith("楷体")

    texts = [p.text for p in opened.paragraphs]
    assert any(
        p.style.name == "Title" and "法治政府建设年度报告" in p.text for p in opened.paragraphs
    )
    heads = [p.text for p in opened.paragraphs if p.style.name == "Heading 1"]
    assert heads[0].endswith("加强法治思维和依法行政能力建设")
    flat = "".join(texts).replace(" ", "")
    for figure in PUBLISHED_FIGURES:
        assert figure in flat, figure
    # the PDF's sentences are in it too: the data report is its 附件
    pdf_text = "".join(texts)
    assert "本报告汇总" in pdf_text
    assert len(opened.tables) >= 5
    assert all(len(t.rows) >= 2 for t in opened.tables)
    marked = [
        r.text
        for p in opened.paragraphs
        for r in p.runs
        if r.font.highlight_color == WD_COLOR_INDEX.YELLOW
    ]
    assert len(marked) >= 10 and all(m.startswith("【待填写：") for m in marked)
    listed = texts[texts.index(word.GUIDE_TITLE) :]
    assert [t.strip("　") for t in listed if "【待填写" in t] == marked


def test_monthly_word_file_is_the_brief(home: Home):
    opened = docx.Document(str(home.file("2023-07", "docx")))
    texts = [p.text for p in opened.paragraphs]
    assert any("2023年7月法治政府建设数据月报" in t for t in texts)
    assert opened.tables and not [t for t in texts if "【待填写" in t]


def test_export_has_every_indicator_and_every_breakdown(home: Home, tmp_path: Path):
    out = tmp_path / "export.xlsx"
    home.run("export", "--period", "2023", "--format", "xlsx", "--out", str(out))
    book = openpyxl.load_workbook(out)
    values = indicator_json(home, "2023")["indicators"]
    sheet = book["全部指标"]
    keys = list(catalogue.indicators())
    assert check_catalogue_sheet(sheet, keys, values, 4) == len(keys)
    assert len(book.sheetnames) == 2 + len(indicators.BREAKDOWNS)
    first = out.read_bytes()
    home.run("export", "--period", "2023", "--out", str(out))
    assert out.read_bytes() == first

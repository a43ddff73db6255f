"""The annual 法治政府建设年度报告 draft from the scale-1 sample: the published order, the
published 2023 figures as the records give them, placeholders for everything else, the data
appendix, and its Word file read back, converted by LibreOffice and looked at glyph by glyph."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from docx.enum.text import WD_COLOR_INDEX

from tests import office
from tests.documents import APPENDIX_TABLES, appendix
from urbanreport import indicators
from urbanreport.check.checker import check_bytes
from urbanreport.core import catalogue, formatting, warehouse
from urbanreport.core.config import Settings, load_settings
from urbanreport.indicators import Period
from urbanreport.reports import docx as word
from urbanreport.reports import draft, xlsx
from urbanreport.reports.blocks import Annex, Document, Heading, Paragraph, Placeholder

pytestmark = pytest.mark.slow

#: The level-1 headings of the published 2023 report, in its order (the seed's structure).
PUBLISHED_ORDER = (
    "加强法治思维和依法行政能力建设",
    "推进法治建设第一责任人职责",
    "提升依法全面履职水平",
    "围绕中心服务大局",
    "存在的不足和原因",
    "2024年推进法治政府建设的主要安排",
)
#: The published 2023 figures, each after the phrase the bureau states it with.
PUBLISHED_FIGURES = (
    "处罚相关案件936宗",
    "罚款人民币3009408元",
    "办理审批许可事项502宗",
    "办结率100%",
    "非税收入496793.68元",
    "2023年7月以来",
    "完成拆违936292.39平方米",
    "完成进度78.02%",
)


@dataclass(frozen=True)
class Sample:
    settings: Settings
    result: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    personal: list[str]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    from urbanreport.ingest.batches import ingest_all
    from urbanreport.sample import write_sample

    home = tmp_path_factory.mktemp("draft-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.setenv("URBANREPORT_HOME", str(home))
        settings = load_settings(home=home)
        write_sample(settings, years=[2022, 2023])
        ingest_all(settings)
        with warehouse.reader(settings) as con:
            period = Period.parse("2023")
            result = indicators.compute(con, period, settings)
            tables = indicators.breakdowns(con, period, settings)
            rows = con.execute(
                "SELECT applicant FROM permits WHERE applicant IS NOT NULL "
                "UNION SELECT party_name FROM enforcement WHERE party_name IS NOT NULL "
                "UNION SELECT party_id FROM enforcement WHERE party_id IS NOT NULL"
            ).fetchall()
        yield Sample(settings, result, tables, [str(r[0]).strip() for r in rows if r[0]])


@pytest.fixture(scope="module")
def document(sample: Sample) -> Document:
    bureau = sample.settings["bureau"]
    return draft.annual_draft(
        sample.result,
        bureau=bureau["name"],
        district=bureau["district"],
        appendix=appendix(sample.tables, 2023),
    )


@pytest.fixture(scope="module")
def rendered(document: Document) -> bytes:
    return word.render(document)


def main_text(document: Document) -> tuple:
    """The blocks before the attachment."""
    return document.blocks[: next(i for i, b in enumerate(document.blocks) if isinstance(b, Annex))]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_sections_follow_the_published_order(document: Document):
    main = main_text(document)
    heads = [b.text for b in main if isinstance(b, Heading) and b.level == 1]
    assert tuple(heads) == PUBLISHED_ORDER
    centre = main.index(Heading(1, "围绕中心服务大局"))
    subs = [b.text for b in main[centre:] if isinstance(b, Heading) and b.level == 2]
    assert subs == ["行政执法", "审批服务", "违法建设治理", "数字城管"]


def test_the_draft_states_the_published_figures_from_the_records(document: Document):
    text = "".join(document.sentences())
    for figure in PUBLISHED_FIGURES:
        assert figure in text, figure


def test_figure_sentences_name_their_year_and_every_other_paragraph_is_a_placeholder(
    document: Document,
):
    main = main_text(document)
    structural = {
        f"{document.bureau}2023年法治政府建设工作情况报告如下：",
        "附件：2023年法治政府建设主要数据",
        document.bureau,
    }
    figures = [b.text for b in main if isinstance(b, Paragraph) and b.text not in structural]
    assert len(figures) == 9
    for text in figures:
        assert text.startswith("2023年"), text
        assert formatting.MISSING not in text, text
    placeholders = [b for b in main if isinstance(b, Placeholder)]
    assert len(placeholders) == len(document.placeholders()) == 19
    assert "【待填写：本年度重大行政决策情况】" in document.placeholders()


def test_values_are_written_by_the_one_formatter(document: Document, sample: Sample):
    values = sample.result["indicators"]
    text = "".join(document.sentences())
    for key in ("permits.on_time_rate", "dcm.avg_disposal_hours", "legal.participants"):
        item = catalogue.indicator(key)
        assert formatting.figure(item, values[key]) in text, key


def test_a_missing_figure_says_so_with_its_reason():
    result = {
        "period": "2023",
        "kind": "year",
        "end": "2023-12-31",
        "indicators": {"enforcement.penalty_cases": None, "enforcement.fines_yuan": 5},
        "missing": {"enforcement.penalty_cases": "行政处罚案件在2023年没有任何记录"},
        "campaign": None,
    }
    doc = draft.annual_draft(result, bureau="某局", district="某区")
    text = "".join(doc.sentences())
    assert "处罚相关案件数据缺失（行政处罚案件在2023年没有任何记录）" in text
    assert "罚款人民币5元" in text
    assert "2023年，某区无进行中的全区违法建设专项治理行动。" in text


def test_the_draft_checker_finds_every_figure_of_the_text_in_agreement(
    sample: Sample, document: Document
):
    text = replace(document, blocks=main_text(document))
    result = check_bytes(sample.settings, word.render(text), "draft.docx", "2023")
    verdicts = [(c.figure.number, c.link.key, c.verdict.verdict) for c in result.figures]
    assert [v for v in verdicts if v[2] != "match"] == []
    assert len(verdicts) == 34  # every figure of the nine figure paragraphs, each linked


def test_only_a_fiscal_year_makes_a_draft():
    with pytest.raises(ValueError, match="年度"):
        draft.annual_draft({"period": "2023-07", "kind": "month"}, bureau="局", district="区")


def test_word_draft_reads_back_with_its_sentences_tables_and_placeholders(
    rendered: bytes, document: Document
):
    opened = docx.Document(io.BytesIO(rendered))
    texts = [p.text for p in opened.paragraphs]
    for sentence in document.sentences():
        assert sentence in texts, sentence
    assert len(opened.tables) == len(APPENDIX_TABLES)
    streets = len(document.tables()[0].frame)
    assert len(opened.tables[0].rows) == 1 + streets
    marked = [
        r.text
        for p in opened.paragraphs
        for r in p.runs
        if r.font.highlight_color == WD_COLOR_INDEX.YELLOW
    ]
    assert marked == document.placeholders()
    listed = texts[texts.index(word.GUIDE_TITLE) :]
    assert [t.strip("　") for t in listed if "【待填写" in t] == document.placeholders()
    assert word.render(document) == rendered


def test_workbook_of_the_appendix_holds_the_frames_numbers(document: Document):
    book = openpyxl.load_workbook(io.BytesIO(xlsx.render(document)))
    assert book.sheetnames[0] == xlsx.ABOUT_SHEET
    assert len(book.sheetnames) == 1 + len(APPENDIX_TABLES)
    for name, table in zip(book.sheetnames[1:], document.tables(), strict=True):
        sheet = book[name]
        for r, row in enumerate(table.frame.iter_rows(named=True), start=2):
            for c, column in enumerate(table.columns, start=1):
                value, cell = row[column.name], sheet.cell(r, c)
                if column.kind == "text":
                    assert cell.value == value
                elif value is None:
                    assert cell.value == formatting.MISSING
                else:
                    assert cell.value == formatting.machine(column.kind, value), (name, r, c)
                    assert cell.number_format == xlsx.NUMBER_FORMATS[column.kind]


def test_no_personal_data_in_the_word_or_excel_files(
    rendered: bytes, document: Document, sample: Sample
):
    assert sample.personal, "the sample should carry personal data for this test to mean anything"
    opened = docx.Document(io.BytesIO(rendered))
    cells = [c.text for t in opened.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in opened.paragraphs] + cells)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.render(document)))
    text += "\n".join(str(c.value) for s in book for row in s.iter_rows() for c in row)
    assert [v for v in sample.personal if v in text] == []


# --- LibreOffice ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, rendered: bytes) -> dict[str, Path]:
    """The draft and a control document with characters no installed font has, as PDF."""
    if office.SOFFICE is None:
        pytest.skip(office.INSTALL_HINT)
    work = tmp_path_factory.mktemp("libreoffice")
    blocks = (Paragraph("缺字：\U00031350"),)  # CJK Extension H: no installed face has it
    control = Document("annual", "缺字对照", "", "局", "区", "2023", date(2023, 12, 31), "", blocks)
    paths = {"draft": work / "draft.docx", "control": work / "control.docx"}
    paths["draft"].write_bytes(rendered)
    paths["control"].write_bytes(word.render(control))
    pdfs = office.to_pdf(list(paths.values()), work)
    return dict(zip(paths, pdfs, strict=True))


def test_libreoffice_lays_the_draft_out_on_a_few_pages(converted: dict[str, Path]):
    assert 6 <= office.page_count(converted["draft"]) <= 11


def test_libreoffice_pdf_carries_the_figure_sentences(converted, document: Document):
    text = squeeze(office.pdf_text(converted["draft"]))
    for sentence in document.sentences():
        assert squeeze(sentence) in text, sentence
    for figure in PUBLISHED_FIGURES:
        assert figure in text
    assert "—1—" in text and "—2—" in text


def test_no_chinese_character_lacks_a_glyph(converted: dict[str, Path]):
    assert office.notdef_glyphs(converted["draft"]) == []
    assert all(embedded for _, embedded in office.font_names(converted["draft"]))
    assert office.notdef_glyphs(converted["control"]), "the check must see a missing glyph"

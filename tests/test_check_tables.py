"""The draft checker on tables: a row of a street, an item or a month is that member's figure.

The warehouse is the scale-1 sample (2022–2023) loaded through the ingest. The annual draft with
its data appendix is built and rendered to Word as the project does it (`tests.documents`);
other tables are written here with python-docx in the tests' own words. Expected values come
from the warehouse through `urbanreport.indicators` (`compute` for totals, `breakdowns` for
members), never from the draft under check.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import docx
import pytest

from tests.documents import sample_draft
from urbanreport.check import CheckResult, check_bytes
from urbanreport.check.annotate import annotated_bytes, note_text
from urbanreport.check.extract import extract
from urbanreport.check.normalize import normalize
from urbanreport.check.readers import Block, Limits
from urbanreport.check.tables import Breakdowns, Member
from urbanreport.cli import main
from urbanreport.core import catalogue, formatting, warehouse
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.periods import Period
from urbanreport.indicators import breakdowns, compute
from urbanreport.ingest.batches import ingest_all
from urbanreport.reports import docx as word
from urbanreport.reports.blocks import Document
from urbanreport.sample import write_sample

pytestmark = pytest.mark.slow

_FIGURE = re.compile(r"\d(?:宗|元|%|次|人次|件|平方米|个工作日|小时)")
#: The captions the draft's appendix carries: four tables and two charts.
CAPTIONS = ["表1", "表2", "表3", "表4", "图1", "图2"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The scale-1 sample for 2022–2023, ingested; URBANREPORT_HOME points at it for the CLI."""
    home = tmp_path_factory.mktemp("check-tables-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.setenv("URBANREPORT_HOME", str(home))
        settings = load_settings(home=home)
        write_sample(settings, years=[2022, 2023])
        ingest_all(settings)
        yield settings


@pytest.fixture(scope="module")
def warehouse_values(sample: Settings) -> dict[str, Any]:
    """Totals and breakdown tables of 2023 and 2022, straight from the indicator code."""
    with warehouse.reader(sample) as con:
        out: dict[str, Any] = {}
        for label in ("2023", "2022"):
            period = Period.parse(label)
            out[label] = compute(con, period, sample)["indicators"]
            out[f"{label}-tables"] = breakdowns(con, period, sample)
        return out


@pytest.fixture(scope="module")
def document(sample: Settings) -> Document:
    return sample_draft(sample, 2023)


@pytest.fixture(scope="module")
def rendered(document: Document) -> bytes:
    return word.render(document)


@pytest.fixture(scope="module")
def clean(sample: Settings, rendered: bytes) -> CheckResult:
    return check_bytes(sample, rendered, "draft.docx", "2023")


def member_value(values: dict[str, Any], year: str, table: str, dim: str, member: Any, col: str):
    return next(r[col] for r in values[f"{year}-tables"][table] if r[dim] == member)


def said(key: str, value: Any) -> str:
    return formatting.figure(catalogue.indicator(key), value)


def verdicts(result: CheckResult) -> list[tuple[str, str | None, str]]:
    return [(c.figure.sentence, c.link.key, c.verdict.verdict) for c in result.figures]


# --- the annual draft from the Word/Excel renderer ------------------------------------------


def test_the_annual_draft_checks_clean_and_its_own_sentences_all_match(
    clean: CheckResult, document: Document
) -> None:
    assert clean.summary["mismatch"] == 0 and clean.summary["missing"] == 0
    unknown = [c for c in clean.figures if c.verdict.verdict == "unknown"]
    assert [c.figure.sentence for c in unknown if not c.verdict.reason.strip()] == []
    text = [c for c in clean.figures if c.figure.cell is None]
    assert [
        (c.figure.sentence, c.verdict.verdict) for c in text if c.verdict.verdict != "match"
    ] == []
    assert len(text) == 34 and all(c.link.key for c in text)
    # every paragraph of the draft that states a figure is among the sentences checked
    stating = [s for s in document.sentences() if _FIGURE.search(s)]
    assert len(stating) == 9
    for paragraph in stating:
        written = normalize(paragraph).text  # the checker shows sentences normalised
        assert any(c.figure.sentence in written for c in text), paragraph


def test_every_appendix_cell_is_its_members_figure(
    clean: CheckResult, document: Document, warehouse_values
) -> None:
    cells = [c for c in clean.figures if c.figure.cell is not None]
    numeric = sum(
        1
        for table in document.tables()
        for row in table.frame.iter_rows(named=True)
        for column in table.columns
        if column.kind != "text" and row[column.name] is not None
    )
    assert len(cells) == numeric
    for checked in cells:
        member = checked.scope.member if checked.scope else None
        assert member is not None, checked.figure.sentence
        assert checked.figure.cell.labels[0][1] == member.label
        assert checked.verdict.verdict == "match", (checked.figure.sentence, checked.verdict)
    # 金霞's 71宗 is 金霞's, not the district's 936宗
    first = cells[0]
    assert first.scope.table == "enforcement_by_street"
    expected = member_value(
        warehouse_values, "2023", "enforcement_by_street", "street", "金霞", "penalty_cases"
    )
    assert (
        first.verdict.expected == expected != warehouse_values["2023"]["enforcement.penalty_cases"]
    )
    assert "金霞" in first.verdict.reason


def test_caption_labels_are_not_figures(clean: CheckResult) -> None:
    assert [i.text for i in clean.ignored if i.rule == "caption"] == CAPTIONS
    assert not any(c.figure.sentence.startswith(("表", "图")) for c in clean.figures)


def test_cli_on_the_draft_exits_0(sample, rendered, tmp_path, capsys) -> None:
    path = tmp_path / "draft.docx"
    path.write_bytes(rendered)
    code = main(["check", str(path), "--period", "2023"])
    out = capsys.readouterr().out
    assert code == 0
    assert "不一致 0  数据缺失 0" in out
    assert "图表编号：表1、表2、表3、表4、图1、图2" in out


# --- a mistyped breakdown cell ----------------------------------------------------------------


def _bump(text: str) -> str:
    """The same figure with its last digit changed by one (9 → 8)."""
    i = max(i for i, ch in enumerate(text) if ch.isdigit())
    digit = int(text[i])
    return text[:i] + str(digit + 1 if digit < 9 else digit - 1) + text[i + 1 :]


def _retype(data: bytes, table: int, label: str, header: str) -> tuple[bytes, str, str]:
    """The draft with one cell retyped as a person would in Word: (bytes, old text, new text)."""
    doc = docx.Document(io.BytesIO(data))
    grid = doc.tables[table]
    col = next(
        i for i, c in enumerate(grid.rows[0].cells) if re.split(r"[\n（(]", c.text)[0] == header
    )
    row = next(r for r in grid.rows[1:] if r.cells[0].text == label)
    paragraph = row.cells[col].paragraphs[0]
    old = paragraph.text
    new = _bump(old)
    paragraph.runs[0].text = new
    for extra in paragraph.runs[1:]:
        extra._r.getparent().remove(extra._r)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue(), old, new


MISTYPES = {
    "penalty cases of a street": (0, "金霞", "处罚案件", "enforcement.penalty_cases"),
    "last year's fines of a street": (0, "金霞", "上年罚款金额", "enforcement.fines_yuan"),
    "permits received of an item": (1, "城市建筑垃圾处置核准", "受理", "permits.received"),
    "on-time rate of an item": (1, "挖掘城市道路审批", "按时办结率", "permits.on_time_rate"),
    "demolished sites of a street": (2, "金霞", "拆违宗数", "demolition.sites"),
    "a street's campaign target": (2, "外砂", "专项行动目标面积", "demolition.campaign_target_m2"),
    "cases reported in a street": (3, "金霞", "上报", "dcm.reported"),
    "on-time disposal of a street": (3, "龙华", "按期处置率", "dcm.on_time_disposal_rate"),
}


@pytest.mark.parametrize("name", list(MISTYPES))
def test_a_mistyped_breakdown_cell_is_a_mismatch_and_nothing_else_changes(
    sample: Settings, rendered: bytes, clean: CheckResult, name: str
) -> None:
    table, label, header, key = MISTYPES[name]
    data, old, new = _retype(rendered, table, label, header)
    result = check_bytes(sample, data, "draft.docx", "2023")
    (wrong,) = result.mismatches
    assert wrong.figure.written == new and wrong.link.key == key
    assert wrong.scope.member.label == label
    assert wrong.verdict.expected_text.startswith(old)
    assert label in wrong.verdict.reason
    now, before = verdicts(result), verdicts(clean)
    changed = [i for i, (a, b) in enumerate(zip(now, before, strict=True)) if a[2] != b[2]]
    assert changed == [result.figures.index(wrong)]
    copy = docx.Document(io.BytesIO(annotated_bytes(data, result, Limits())))
    cell_texts = [c.text for row in copy.tables[table].rows for c in row.cells]
    assert f"{new}{note_text(wrong, result)}" in cell_texts


# --- tables in the tests' own words -----------------------------------------------------------


def word_table(rows: list[list[str]], caption: str = "", merges=()) -> bytes:
    """A Word document holding one table (rows of cell texts), its caption above it, and the
    vertical merges ((top row, column), (bottom row, column)) made as Word makes them."""
    doc = docx.Document()
    doc.add_paragraph("2023年主要数据如下。")
    if caption:
        doc.add_paragraph(caption)
    grid = doc.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            grid.cell(r, c).text = text
    for (r1, c1), (r2, c2) in merges:
        grid.cell(r1, c1).merge(grid.cell(r2, c2))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def checked_cells(sample: Settings, data: bytes, period: str = "2023") -> list[tuple]:
    result = check_bytes(sample, data, "t.docx", period)
    return [
        (c.figure.written, c.link.key, c.verdict.verdict, c.verdict.reason) for c in result.figures
    ]


def test_a_total_row_is_the_total_and_a_street_row_its_street(sample, warehouse_values) -> None:
    v = warehouse_values
    jinxia = member_value(v, "2023", "enforcement_by_street", "street", "金霞", "penalty_cases")
    total = v["2023"]["enforcement.penalty_cases"]
    rows = [["街道", "处罚案件（宗）"], ["金霞街道", str(jinxia)], ["合计", str(total)]]
    got = checked_cells(sample, word_table(rows, "表1 各街道处罚案件"))
    assert [(w, k, verdict) for w, k, verdict, _ in got] == [
        (str(jinxia), "enforcement.penalty_cases", "match"),
        (str(total), "enforcement.penalty_cases", "match"),
    ]
    swapped = [rows[0], ["金霞", str(total)], ["全区", str(jinxia)]]
    assert [g[2] for g in checked_cells(sample, word_table(swapped))] == ["mismatch", "mismatch"]


def test_an_unknown_part_or_an_uncomputed_breakdown_is_unknown_never_a_mismatch(
    sample, warehouse_values
) -> None:
    total = str(warehouse_values["2023"]["enforcement.penalty_cases"])
    rows = [
        ["街道", "处罚案件（宗）", "重大案件（宗）"],
        ["金平街道", total, "1"],  # not a street of this district
        ["小计", total, "1"],  # a subtotal of some group
        ["金霞", "", "1"],  # 重大案件 by street: no breakdown computes it
    ]
    got = checked_cells(sample, word_table(rows))
    assert [g[2] for g in got] == ["unknown"] * 5
    for _, _, _, reason in got:
        assert reason.startswith("分项数据（"), reason
    assert got[0][3].startswith("分项数据（“金平街道”）暂不核对")
    assert got[4][3].startswith("分项数据（街道“金霞”）暂不核对")


def test_month_rows_are_members_of_the_by_month_table(sample, warehouse_values) -> None:
    v = warehouse_values
    july = member_value(v, "2023", "dcm_by_month", "month", 7, "closed")
    august = member_value(v, "2023", "enforcement_by_month", "month", 8, "penalty_cases")
    sept = member_value(v, "2022", "enforcement_by_month", "month", 9, "penalty_cases")
    rows = [
        ["月份", "结案（件）", "处罚案件（宗）", "上年处罚案件（宗）"],
        ["7月", str(july), "", ""],
        ["2023-08", "", str(august), ""],
        ["9", "", "", str(sept)],
    ]
    got = checked_cells(sample, word_table(rows, "表2 各月数字城管结案及处罚案件"))
    assert [(w, k, verdict) for w, k, verdict, _ in got] == [
        (str(july), "dcm.closed", "match"),
        (str(august), "enforcement.penalty_cases", "match"),
        (str(sept), "enforcement.penalty_cases", "match"),
    ]
    # the month's cohort followed to the year's end, as the annual table counts it
    with warehouse.reader(sample) as con:
        month = compute(con, Period.parse("2023-07"), sample)["indicators"]["dcm.closed"]
    assert month < july  # the July figure of a monthly brief would not do


def test_labels_beside_the_member_merged_rows_and_a_transposed_table(
    sample, warehouse_values
) -> None:
    v = warehouse_values
    cur = member_value(v, "2023", "enforcement_by_street", "street", "珠池", "penalty_cases")
    prev = member_value(v, "2022", "enforcement_by_street", "street", "珠池", "penalty_cases")
    rows = [
        ["序号", "街道", "年度", "处罚案件（宗）"],
        ["1", "珠池", "2023年", str(cur)],
        ["", "", "2022年", str(prev)],
    ]
    got = checked_cells(sample, word_table(rows, merges=[((1, 1), (2, 1)), ((1, 0), (2, 0))]))
    assert [(w, verdict) for w, _, verdict, _ in got] == [(str(cur), "match"), (str(prev), "match")]
    reported = member_value(v, "2023", "dcm_by_source", "source", "12345热线", "reported")
    item = member_value(v, "2023", "permits_by_item", "item_name", "挖掘城市道路审批", "received")
    sideways = [
        ["指标", "12345热线", "挖掘城市道路审批"],
        ["上报案件（件）", str(reported), ""],
        ["受理审批许可事项（宗）", "", str(item)],
    ]
    got = checked_cells(sample, word_table(sideways))
    assert [(k, verdict) for _, k, verdict, _ in got] == [
        ("dcm.reported", "match"),
        ("permits.received", "match"),
    ]


def test_two_members_in_a_row_are_a_cross_breakdown(sample) -> None:
    rows = [["街道", "许可事项", "受理（宗）"], ["金霞", "挖掘城市道路审批", "5"]]
    ((_, _, verdict, reason),) = checked_cells(sample, word_table(rows))
    assert verdict == "unknown" and "街道“金霞”×许可事项“挖掘城市道路审批”" in reason


def test_an_indicator_table_is_still_of_totals(sample, warehouse_values) -> None:
    v = warehouse_values
    rows = [
        ["板块", "指标", "2023年", "2022年"],
        ["行政执法", "处罚案件数（宗）", str(v["2023"]["enforcement.penalty_cases"]),
         str(v["2022"]["enforcement.penalty_cases"])],
        ["审批服务", "非税收入（元）", said("permits.non_tax_revenue_yuan",
         v["2023"]["permits.non_tax_revenue_yuan"]).removesuffix("元"), ""],
    ]  # fmt: skip
    got = checked_cells(sample, word_table(rows))
    assert [(k, verdict) for _, k, verdict, _ in got] == [
        ("enforcement.penalty_cases", "match"),
        ("enforcement.penalty_cases", "match"),
        ("permits.non_tax_revenue_yuan", "match"),
    ]


@pytest.mark.parametrize(
    ("text", "ignored", "figures"),
    [
        ("表1　各街道处罚案件及罚款金额", ["表1"], []),
        ("图2　各街道拆违面积", ["图2"], []),
        ("处罚案件情况见表3，各月情况如图1所示。", ["表3", "图1"], []),
        ("附件2、附表1-2", ["附件2", "附表1-2"], []),
        ("报送附件3份，统计报表12张", [], ["3份", "12"]),
    ],
)
def test_caption_labels_are_ignored_by_their_rule(text, ignored, figures) -> None:
    found = extract([Block(text)], Period.parse("2023"))
    assert [i.text for i in found.ignored if i.rule == "caption"] == ignored
    assert [f.written for f in found.figures] == figures


def test_each_breakdown_the_checker_reads_adds_up_to_its_indicator(
    sample, warehouse_values
) -> None:
    """The breakdown column read for an indicator measures what the indicator measures: summed
    over its members it gives the indicator (the campaign's cumulative area: its last month)."""
    index = Breakdowns(warehouse_values["2023-tables"])
    totals = warehouse_values["2023"]
    read = 0
    for key, item in catalogue.indicators().items():
        for dim in ("street", "item_name", "category", "source", "activity_type", "month"):
            found = index.column(key, Member((dim,), None, ""))
            if found is None or item.kind not in ("count", "money", "area"):
                continue
            table, _, column = found
            values = [r[column] for r in warehouse_values["2023-tables"][table]]
            whole = values[-1] if column == "campaign_cumulative_m2" else sum(values)
            assert whole == totals[key], (key, table)
            read += 1
    assert read >= 20


def test_a_sentence_about_one_street_is_that_streets(sample, warehouse_values) -> None:
    v = warehouse_values
    jinxia = member_value(v, "2023", "enforcement_by_street", "street", "金霞", "penalty_cases")
    fines = member_value(v, "2023", "enforcement_by_street", "street", "金霞", "fines_yuan")
    total = v["2023"]["enforcement.penalty_cases"]
    yuan = said("enforcement.fines_yuan", fines)
    text = (
        f"2023年，金霞街道处罚相关案件{jinxia}宗，罚款人民币{yuan}；"
        f"全区共处罚相关案件{total}宗。"
        f"金霞街道、珠池街道处罚相关案件{jinxia}宗。"
        f"金霞街道处罚相关案件{jinxia + 1}宗。"
    )
    result = check_bytes(sample, text.encode(), "d.txt", "2023")
    got = [(c.figure.written, c.verdict.verdict) for c in result.figures]
    assert got == [
        (f"{jinxia}宗", "match"),
        (yuan, "match"),
        (f"{total}宗", "match"),
        (f"{jinxia}宗", "unknown"),
        (f"{jinxia + 1}宗", "mismatch"),
    ]
    assert result.figures[3].verdict.reason.startswith("分项数据（街道“金霞街道”、街道“珠池街道”）")
    assert result.figures[4].verdict.expected_text == f"{jinxia}宗"

"""The draft checker: figures found, linked, compared at the text's precision, and refused input.

The warehouse is the scale-1 sample (2022–2023) loaded through the ingest, so every expected
value below comes from the warehouse through `urbanreport.indicators.compute`, except the seven
figures of the bureau's published 2023 report, which the sample reproduces by construction.
Drafts other than the seed are written here in the tests' own words.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml import parse_xml
from docx.text.run import Run
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import SEED_NAME, macro_enabled, make_settings, seed_path
from urbanreport.check import DraftRefused, Limits, check_bytes, check_file
from urbanreport.check.annotate import annotated_bytes
from urbanreport.check.compare import agrees
from urbanreport.check.extract import Figure, extract
from urbanreport.check.link import link
from urbanreport.check.normalize import normalize
from urbanreport.check.readers import (
    Block,
    docx_paragraphs,
    paragraph_runs,
    paragraph_text,
    read_bytes,
)
from urbanreport.cli import main
from urbanreport.core import formatting, warehouse
from urbanreport.core.catalogue import indicator
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.periods import Period
from urbanreport.indicators import compute
from urbanreport.ingest.batches import ingest_all
from urbanreport.sample import write_sample

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
#: The seven figures of the published 2023 report (README), in the order the report states them.
PUBLISHED = [
    ("936", "宗", "enforcement.penalty_cases"),
    ("3009408", "元", "enforcement.fines_yuan"),
    ("502", "宗", "permits.received"),
    ("100", "%", "permits.completion_rate"),
    ("496793.68", "元", "permits.non_tax_revenue_yuan"),
    ("936292.39", "平方米", "demolition.campaign_area_m2"),
    ("78.02", "%", "demolition.campaign_progress"),
]


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> Path:
    path = seed_path()
    if path is None:
        pytest.skip(f"the published report ../shared/seed/{SEED_NAME} is not beside the repository")
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The scale-1 sample for 2022–2023, ingested; URBANREPORT_HOME points at it for the CLI."""
    home = tmp_path_factory.mktemp("check-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.setenv("URBANREPORT_HOME", str(home))
        settings = load_settings(home=home)
        write_sample(settings, years=[2022, 2023])
        ingest_all(settings)
        yield settings


@pytest.fixture(scope="module")
def values(sample: Settings) -> dict[str, dict[str, Any]]:
    """Warehouse values by period label, straight from the indicator code."""
    with warehouse.reader(sample) as con:
        return {
            label: compute(con, Period.parse(label), sample)["indicators"]
            for label in ("2023", "2022", "2023-07")
        } | {"2023-ytd7": compute(con, Period("ytd", 2023, 7), sample)["indicators"]}


def text_of(key: str, value: Any) -> str:
    """A value as the bureau writes it: the project's formatter."""
    return formatting.figure(indicator(key), value)


def verdicts(result) -> list[tuple[str, str | None, str]]:
    return [(c.figure.written, c.link.key, c.verdict.verdict) for c in result.figures]


def figures_of(text: str, period: str = "2023", context: str = "") -> list[Figure]:
    return extract([Block(text, context)], Period.parse(period)).figures


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- the seed report, exactly as shipped ----------------------------------------------------


def test_the_seed_report_checks_clean(sample: Settings, seed: Path) -> None:
    result = check_file(sample, seed, "2023")
    found = [
        (c.figure.number, c.figure.unit, c.link.key, c.verdict.verdict) for c in result.figures
    ]
    assert found == [(n, u, k, "match") for n, u, k in PUBLISHED]
    assert result.summary == {"match": 7, "mismatch": 0, "missing": 0, "unknown": 0}
    for checked in result.figures:  # the period of each is the one its sentence names
        assert checked.period == Period.parse("2023")
    ignored = Counter((i.rule, i.text) for i in result.ignored)
    assert ignored == Counter(
        {
            ("quoted_name", "“1310”"): 1,
            ("period", "2023年"): 4,
            ("period", "2023年7月以来"): 1,
            ("period", "2024年"): 1,
            ("title", "《汕头市2023年违法建设专项治理工作实施方案》"): 1,
            ("document_number", "汕府〔2023〕34号"): 1,
        }
    )


def test_every_number_of_the_seed_is_a_figure_or_ignored_by_a_rule(
    sample: Settings, seed: Path
) -> None:
    result = check_file(sample, seed, "2023")
    written = Counter(
        n for b in result.blocks for n in re.findall(r"\d+(?:\.\d+)?", normalize(b.text).text)
    )
    accounted = Counter(c.figure.number for c in result.figures)
    for item in result.ignored:
        accounted.update(re.findall(r"\d+(?:\.\d+)?", item.text))
    assert written == accounted


# Each alteration: (what the seed says, what the altered copy says, figures that must change).
ALTERATIONS = {
    "penalty cases, one digit": ("936宗", "937宗", [0]),
    "fines, one digit": ("3009408元", "3009409元", [1]),
    "permits, one digit": ("502宗", "512宗", [2]),
    "completion rate, one digit": ("100%", "109%", [3]),
    "non-tax revenue, one digit": ("496793.68元", "496793.88元", [4]),
    "campaign area, one digit": ("936292.39平方米", "936292.30平方米", [5]),
    "progress, one digit": ("78.02%", "78.03%", [6]),
    "completion rate, a percentage changed": ("100%", "99.8%", [3]),
    "progress, a percentage changed": ("78.02%", "87.02%", [6]),
    "fines, 元 to 万元": ("3009408元", "3009408萬元", [1]),
    "revenue, 元 to 万元": ("496793.68元", "496793.68万元", [4]),
    "fines moved to 2022": ("罰款人民幣", "2022年罰款人民幣", [1]),
    "the enforcement sentence moved to 2022": ("2023年,我局共處罰", "2022年,我局共處罰", [0, 1]),
    "the campaign moved to 2022年7月": ("2023年7月以來", "2022年7月以來", [5, 6]),
    "the permits sentence moved to 2021 (no data)": (
        "2023年,我局共辦",
        "2021年,我局共辦",
        [2, 3, 4],
    ),
}


@pytest.fixture(scope="module")
def baseline(sample: Settings, seed: Path) -> list[tuple[str, str | None, str]]:
    return verdicts(check_file(sample, seed, "2023"))


@pytest.mark.parametrize("name", list(ALTERATIONS))
def test_an_altered_seed_is_flagged_and_nothing_else_changes(
    sample: Settings, seed: Path, baseline, tmp_path: Path, name: str
) -> None:
    old, new, changed = ALTERATIONS[name]
    text = seed.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    altered = tmp_path / "altered.txt"
    altered.write_text(text.replace(old, new), encoding="utf-8")
    result = check_file(sample, altered, "2023")
    now = verdicts(result)
    assert len(now) == len(baseline)
    for i, ((_, key, verdict), (_, key_before, _)) in enumerate(zip(now, baseline, strict=True)):
        assert key == key_before, (i, key)
        if i in changed:
            assert verdict in ("mismatch", "missing"), (i, now[i])
        else:
            assert verdict == "match", (i, now[i])


def test_a_figure_moved_to_2022_is_compared_with_2022(sample, seed, values, tmp_path) -> None:
    text = seed.read_text(encoding="utf-8").replace("罰款人民幣", "2022年罰款人民幣")
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    fines = check_file(sample, tmp_path / "d.txt", "2023").figures[1]
    assert fines.period == Period.parse("2022")
    assert fines.verdict.verdict == "mismatch"
    assert fines.verdict.expected_text == text_of(
        "enforcement.fines_yuan", values["2022"]["enforcement.fines_yuan"]
    )


def test_yuan_written_as_wan_yuan_is_a_mismatch_with_the_correct_text(
    sample, seed, tmp_path
) -> None:
    text = seed.read_text(encoding="utf-8").replace("3009408元", "3009408萬元")
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    fines = check_file(sample, tmp_path / "d.txt", "2023").figures[1]
    assert (fines.figure.unit, fines.figure.value) == ("万元", Decimal("30094080000"))
    assert fines.verdict.verdict == "mismatch"
    assert fines.verdict.expected_text == "3009408元"
    assert "30094080000元" in fines.verdict.reason


def test_a_campaign_named_from_the_wrong_month_says_when_it_started(sample, seed, tmp_path):
    text = seed.read_text(encoding="utf-8").replace("2023年7月以來", "2023年8月以來")
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    area = check_file(sample, tmp_path / "d.txt", "2023").figures[5]
    assert area.verdict.verdict == "mismatch"
    assert "2023年7月1日开始" in area.verdict.reason


def test_json_has_the_agreed_shape(sample: Settings, seed: Path) -> None:
    out = check_file(sample, seed, "2023").to_json()
    assert list(out)[:3] == ["period", "figures", "summary"]
    assert out["period"] == "2023"
    first = out["figures"][0]
    assert list(first)[:8] == [
        "sentence", "number", "value", "unit", "indicator", "expected", "verdict", "period"
    ]  # fmt: skip
    assert {k: first[k] for k in ("number", "value", "unit", "indicator", "expected")} == {
        "number": "936",
        "value": 936,
        "unit": "宗",
        "indicator": "enforcement.penalty_cases",
        "expected": 936,
    }
    assert "处罚相关案件936宗" in first["sentence"]
    assert out["figures"][3]["value"] == 1 and out["figures"][6]["value"] == 0.7802
    assert out["summary"] == {"match": 7, "mismatch": 0, "missing": 0, "unknown": 0}


# --- precision ------------------------------------------------------------------------------


def _one(text: str) -> Figure:
    (figure,) = figures_of(text)
    return figure


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("完成进度78.02%", ["0.78015", "0.7802", "0.780249999"], ["0.7801499", "0.78025"]),
        ("罚款300.94万元", ["3009350", "3009408", "3009449.99"], ["3009349.99", "3009450"]),
        ("处罚案件936宗", ["936"], ["935", "937", "936.4"]),
        ("罚款3009408元", ["3009408", "3009408.00"], ["3009408.01", "3009407.99"]),
        ("办结率100%", ["1"], ["0.9999", "0.99995"]),
        ("处罚案件900余宗", ["900", "936", "999"], ["899", "1000"]),
        ("罚款约300万元", ["2500000", "3009408", "3499999"], ["2499999", "3500000"]),
        ("处罚案件近1000宗", ["936", "1000"], ["899", "1001"]),
        ("罚款超过300万元", ["3009408"], ["3000000"]),
    ],
)
def test_a_figure_agrees_at_its_own_precision(text: str, inside, outside) -> None:
    figure = _one(text)
    for value in inside:
        assert agrees(figure, Decimal(value)), (text, value)
    for value in outside:
        assert not agrees(figure, Decimal(value)), (text, value)


# --- normalisation and extraction -----------------------------------------------------------


def test_normalisation_keeps_the_way_back_to_the_typed_characters() -> None:
    raw = "龍湖區(qū)罰款人民幣３，００９，４０８元，另 3 009 408 元，分别为936，502宗"
    norm = normalize(raw)
    assert norm.text == "龙湖区罚款人民币3,009,408元,另3009408元,分别为936,502宗"
    start = norm.text.index("3,009")  # full-width commas are Chinese commas, never separators
    assert raw[slice(*norm.source_span(start, start + 1))] == "３"
    figures = figures_of("罚款人民币3,009,408元，処罰案件１０２９宗")
    assert [(f.number, f.unit) for f in figures] == [("3009408", "元"), ("1029", "宗")]


def test_numbers_that_are_not_figures_are_ignored_under_their_rule() -> None:
    text = (
        "根据《某某管理办法（2021年修订）》第12条和龙府办〔2023〕7号，第2批3个方面的任务"
        "于2023年7月1日9:30启动，(1)落实监督电话0754-88889999、13800138000，"
        "当事人证件号440507199001011234，案号LHCF2023001，12345热线，“1310”部署，二十大。"
    )
    result = extract([Block(text)], Period.parse("2023"))
    assert result.figures == []
    rules = {i.rule for i in result.ignored}
    assert rules == {
        "title", "ordinal", "document_number", "list_count", "date", "time", "enumerator",
        "phone", "identifier", "code", "service_number", "quoted_name",
    }  # fmt: skip
    shown = " ".join(i.shown for i in result.ignored)
    assert "13800138000" not in shown and "440507199001011234" not in shown


def test_personal_numbers_are_masked_in_the_sentence_shown() -> None:
    (figure,) = figures_of("对当事人（电话13800138000，证件号440507199001011234）罚款500元。")
    assert "13800138000" not in figure.sentence and "440507199001011234" not in figure.sentence
    assert "***********" in figure.sentence and figure.number == "500"
    # The words before the figure, which the terminal and the portal show beside it, too.
    assert figure.segment.endswith("证件号440507199001011234)罚款")  # linking reads them as typed
    assert figure.shown_segment == "证件号******************)罚款"


def test_units_and_multipliers() -> None:
    text = (
        "参与10264人次，平均办理时长3.4个工作日，平均处置时长13.9小时，完成拆违93.63万平方米，"
        "返工率3.4%，非税收入49.68万元，办理3—5个工作日，上升1.2个百分点，罚款1.2亿元"
    )
    got = [(f.number, f.multiplier, f.unit, f.base_unit) for f in figures_of(text)]
    assert got == [
        ("10264", 1, "人次", "人次"),
        ("3.4", 1, "个工作日", "工作日"),
        ("13.9", 1, "小时", "小时"),
        ("93.63", 10**4, "万平方米", "平方米"),
        ("3.4", 1, "%", "%"),
        ("49.68", 10**4, "万元", "元"),
        ("3", 1, "个工作日", "工作日"),
        ("5", 1, "个工作日", "工作日"),
        ("1.2", 1, "个百分点", "百分点"),
        ("1.2", 10**8, "亿元", "元"),
    ]


@pytest.mark.parametrize(
    ("text", "check", "period"),
    [
        ("2023年,处罚案件936宗", "2023", Period("year", 2023)),
        ("全年处罚案件936宗", "2023", Period("year", 2023)),
        ("2023年1—7月处罚案件500宗", "2023", Period("ytd", 2023, 7)),
        ("1-7月处罚案件500宗", "2023-07", Period("ytd", 2023, 7)),
        ("本月处罚案件80宗", "2023-07", Period("month", 2023, 7)),
        ("上月处罚案件80宗", "2023-07", Period("month", 2023, 6)),
        ("2023年上半年处罚案件400宗", "2023", Period("ytd", 2023, 6)),
        ("截至2023年9月底处罚案件700宗", "2023", Period("ytd", 2023, 9)),
        ("2023年7月处罚案件80宗", "2023", Period("month", 2023, 7)),
        ("处罚案件936宗", "2023", None),  # no period named: the period being checked
        ("处罚案件936宗,较2022年增加49宗", "2023", None),  # 较2022年 is a base of comparison
    ],
)
def test_the_period_a_sentence_names(text: str, check: str, period: Period | None) -> None:
    figure = figures_of(text, check)[0]
    assert (figure.mention.period if figure.mention else None) == period


def test_a_period_the_warehouse_does_not_compute_is_said_so() -> None:
    figure = figures_of("2023年二季度处罚案件200宗")[0]
    assert figure.mention is not None and figure.mention.period is None
    assert "二季度" in figure.mention.note


_ALPHABET = list("0123456789０１２.,，%％万亿元宗件次年月日以来第号〔〕《》“”()（）:：;。\n -—")
_WORDS = ["处罚相关案件", "罚款人民币", "办结率", "审批", "完成拆违", "平方米", "2023年", "7月以来"]


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ALPHABET + _WORDS), max_size=40).map("".join))
@example("10,000")  # a dropped separator: the figure still points at all six typed characters
def test_any_text_is_read_and_each_figure_points_at_what_was_typed(text: str) -> None:
    for figure in figures_of(text):
        link(figure)
        start, end = figure.source_span
        assert 0 <= start < end <= len(text)
        typed = re.sub(r"\D", "", normalize(text[start:end]).text)
        assert typed.startswith(figure.number.replace(".", ""))


# --- linking --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("我局共处罚相关案件936宗,罚款人民币3009408元", ["enforcement.penalty_cases",
                                                         "enforcement.fines_yuan"]),
        ("审批许可事项办结率100%,按时办结率96.81%", ["permits.completion_rate",
                                                     "permits.on_time_rate"]),
        ("受理群众投诉1200余件,办结率98.5%", [None, None]),  # not the 办结率 of permits
        ("2023年7月以来,全区完成拆违936292.39平方米", ["demolition.campaign_area_m2"]),
        ("不予处罚案件84宗,重大处罚案件33宗", ["enforcement.no_penalty_cases",
                                              "enforcement.major_cases"]),
        ("完成拆违1950宗,完成拆违1200926.33平方米", ["demolition.sites", "demolition.area_m2"]),
        ("处罚相关案件936宗,较上年增加49宗", ["enforcement.penalty_cases", None]),
        ("处罚相关案件中罚款案件500宗", [None]),
        ("开展各类活动60次", [None]),
        ("12345热线转办5968件", ["dcm.hotline_cases"]),
        ("上报案件同比增长7.99%", ["dcm.reported_yoy"]),
    ],
)  # fmt: skip
def test_phrases_link_figures_to_indicators(text: str, keys: list[str | None]) -> None:
    assert [link(f).key for f in figures_of(text)] == keys


def test_a_phrase_with_the_wrong_kind_of_unit_is_linked_and_refused() -> None:
    lk = link(figures_of("罚款人民币3009408宗")[0])
    assert lk.key == "enforcement.fines_yuan" and not lk.unit_ok
    assert "单位不符" in lk.reason


def test_missing_and_unknown_verdicts(sample: Settings) -> None:
    text = "2021年,处罚相关案件900宗。2023年二季度处罚相关案件200宗。开展各类活动60次。"
    result = check_bytes(sample, text.encode(), "draft.txt", "2023")
    got = [(c.verdict.verdict, bool(c.verdict.reason)) for c in result.figures]
    assert got == [("missing", True), ("missing", True), ("unknown", True)]
    # the sample holds a few cases decided in 2021, but not a whole year of them
    assert "2021-01" in result.figures[0].verdict.reason


def _said(values: dict[str, Any], key: str) -> str:
    return text_of(key, values[key])


def test_a_monthly_text(sample: Settings, values) -> None:
    month, ytd = values["2023-07"], values["2023-ytd7"]
    text = (
        f"本月处罚相关案件{_said(month, 'enforcement.penalty_cases')}"
        f",罚款人民币{_said(month, 'enforcement.fines_yuan')};"
        f"1—7月累计办理审批许可事项{_said(ytd, 'permits.received')},"
        f"办结率{_said(ytd, 'permits.completion_rate')}。"
    )
    result = check_bytes(sample, text.encode(), "july.txt", "2023-07")
    assert [c.verdict.verdict for c in result.figures] == ["match"] * 4
    labels = [c.period.label for c in result.figures]
    assert labels == ["2023-07", "2023-07", "2023-01..2023-07", "2023-01..2023-07"]


# --- readers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "label"),
    [("gb18030", "GB18030"), ("utf-16", "UTF-16LE（带BOM）"), ("utf-8-sig", "UTF-8（带BOM）")],
)
def test_text_encodings(sample, seed, tmp_path, baseline, codec: str, label: str) -> None:
    path = tmp_path / "draft.txt"
    path.write_bytes(seed.read_text(encoding="utf-8").encode(codec))
    result = check_file(sample, path, "2023")
    assert result.draft.encoding == label
    assert verdicts(result) == baseline


def test_text_that_cannot_be_decoded_for_sure_is_refused() -> None:
    with pytest.raises(DraftRefused, match="UTF-16"):
        read_bytes("处罚案件936宗".encode("utf-16-le"), "x.txt", Limits())


def _docx_bytes(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _tracked(paragraph, deleted: str, inserted: str) -> None:
    """Append a tracked deletion and a tracked insertion to a python-docx paragraph."""
    paragraph._p.append(
        parse_xml(
            f'<w:del {W_NS} w:id="1" w:author="a" w:date="2024-01-05T00:00:00Z">'
            f"<w:r><w:delText>{deleted}</w:delText></w:r></w:del>"
        )
    )
    paragraph._p.append(
        parse_xml(
            f'<w:ins {W_NS} w:id="2" w:author="a" w:date="2024-01-05T00:00:00Z">'
            f"<w:r><w:t>{inserted}</w:t></w:r></w:ins>"
        )
    )


def _word_draft(values, fines_text: str) -> bytes:
    cur, prev = values["2023"], values["2022"]
    doc = Document()
    doc.add_paragraph("（一）加大执法力度")
    p = doc.add_paragraph()
    p.add_run("2023年，全局共处罚相关案件")
    _tracked(p, "999宗", text_of("enforcement.penalty_cases", cur["enforcement.penalty_cases"]))
    p.add_run("，罚款人民币")
    p.add_run(fines_text[:2]).bold = True
    p.add_run(fines_text[2:] + "。")
    table = doc.add_table(rows=3, cols=3)
    rows = [
        ("指标", "2023年", "2022年"),
        ("处罚案件数（宗）", str(cur["enforcement.penalty_cases"]),
         str(prev["enforcement.penalty_cases"])),
        ("非税收入（元）", formatting.amount(cur["permits.non_tax_revenue_yuan"]),
         formatting.amount(prev["permits.non_tax_revenue_yuan"])),
    ]  # fmt: skip
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    return _docx_bytes(doc)


def test_a_word_draft_with_a_table_and_tracked_changes(sample: Settings, values) -> None:
    fines = text_of("enforcement.fines_yuan", values["2023"]["enforcement.fines_yuan"])
    result = check_bytes(sample, _word_draft(values, fines), "draft.docx", "2023")
    got = [(c.link.key, c.period.label, c.verdict.verdict) for c in result.figures]
    assert got == [
        ("enforcement.penalty_cases", "2023", "match"),  # the tracked insertion, not the deletion
        ("enforcement.fines_yuan", "2023", "match"),  # a figure split over two runs
        ("enforcement.penalty_cases", "2023", "match"),  # table cells: row label + header
        ("enforcement.penalty_cases", "2022", "match"),
        ("permits.non_tax_revenue_yuan", "2023", "match"),
        ("permits.non_tax_revenue_yuan", "2022", "match"),
    ]
    assert result.draft.format == "docx"


def test_the_annotated_copy_marks_each_mismatch(sample: Settings, values) -> None:
    fines = values["2023"]["enforcement.fines_yuan"]
    wrong = text_of("enforcement.fines_yuan", fines + 1)
    original = _word_draft(values, wrong)
    digest = hashlib.sha256(original).hexdigest()
    result = check_bytes(sample, original, "draft.docx", "2023")
    assert [c.verdict.verdict for c in result.figures].count("mismatch") == 1
    copy = annotated_bytes(original, result, Limits())
    assert hashlib.sha256(original).hexdigest() == digest
    doc = Document(io.BytesIO(copy))
    paragraph = [p for p, _ in docx_paragraphs(doc)][1]
    note = f"【核对：库内数值 {text_of('enforcement.fines_yuan', fines)}】"
    assert paragraph_text(paragraph).endswith(f"罚款人民币{wrong}{note}。")
    runs = paragraph_runs(paragraph)
    marked = [r for r in runs if r.find(".//{*}highlight") is not None]
    assert "".join(r.findtext(".//{*}t") for r in marked) == wrong + note
    assert runs[[r.findtext(".//{*}t") for r in runs].index(wrong[:2])].find(".//{*}b") is not None
    assert Run(marked[0], None).font.highlight_color == WD_COLOR_INDEX.YELLOW
    again = check_bytes(sample, copy, "annotated.docx", "2023")
    assert [c.verdict.verdict for c in again.figures] == [c.verdict.verdict for c in result.figures]


def test_a_macro_enabled_draft_is_read_and_its_copy_has_no_macros(sample, values) -> None:
    fines = text_of("enforcement.fines_yuan", values["2023"]["enforcement.fines_yuan"] + 1)
    docm = macro_enabled(_word_draft(values, fines))
    result = check_bytes(sample, docm, "draft.docm", "2023")
    assert [c.verdict.verdict for c in result.figures].count("mismatch") == 1
    copy = zipfile.ZipFile(io.BytesIO(annotated_bytes(docm, result, Limits())))
    assert not [n for n in copy.namelist() if "vba" in n.lower()]
    assert b"macroEnabled" not in copy.read("[Content_Types].xml")
    Document(io.BytesIO(annotated_bytes(docm, result, Limits())))  # opens as a plain .docx


def test_a_pdf_draft_by_content(sample: Settings, values, tmp_path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    from urbanreport.reports.fonts import register_fonts

    fonts = register_fonts()
    cur = values["2023"]
    body = (
        "一年来，全局上下围绕城市管理中心工作，持续开展市容秩序整治和违法建设治理，"
        f"2023年，全局共处罚相关案件{_said(cur, 'enforcement.penalty_cases')}，"
        f"罚款人民币{_said(cur, 'enforcement.fines_yuan')}；"
        f"办理审批许可事项{_said(cur, 'permits.received')}，"
        f"实现非税收入{_said(cur, 'permits.non_tax_revenue_yuan')}。"
    )
    style = ParagraphStyle("body", fontName=fonts.serif, fontSize=14, leading=22, wordWrap="CJK")
    path = tmp_path / "draft.dat"  # accepted by its content, whatever the name says
    SimpleDocTemplate(str(path), pagesize=A4).build(
        [Paragraph(body, style), Paragraph("— 1 —", style)]
    )
    result = check_file(sample, path, "2023")
    assert result.draft.format == "pdf"
    assert [(c.link.key, c.verdict.verdict) for c in result.figures] == [
        ("enforcement.penalty_cases", "match"),
        ("enforcement.fines_yuan", "match"),
        ("permits.received", "match"),
        ("permits.non_tax_revenue_yuan", "match"),
    ]
    assert [i.rule for i in result.ignored] == ["period", "bare_number"]


def _zip_docx(extra: int, name: str = "word/media/padding.bin") -> bytes:
    """A real small .docx with one extra part of `extra` zero bytes (compresses to almost none)."""
    out = io.BytesIO()
    plain = zipfile.ZipFile(io.BytesIO(_docx_bytes(Document())))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in plain.infolist():
            zf.writestr(info, plain.read(info))
        zf.writestr(name, b"\0" * extra)
    return out.getvalue()


def test_a_zip_bomb_like_docx_is_refused() -> None:
    bomb = _zip_docx(60 * 2**20)
    assert len(bomb) < 2**20
    with pytest.raises(DraftRefused, match="解压后有 60"):
        read_bytes(bomb, "bomb.docx", Limits())


def test_the_limits_come_from_the_settings(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "[check]\nmax_unzipped_mb = 1\nmax_file_mb = 1\n")
    with pytest.raises(DraftRefused, match="超过上限 1 MB"):
        check_bytes(settings, _zip_docx(2 * 2**20), "big.docx", "2023")
    with pytest.raises(DraftRefused, match="文件超过上限 1 MB"):
        check_bytes(settings, b"x" * (2 * 2**20), "big.txt", "2023")


# --- the command ----------------------------------------------------------------------------


def test_cli_exit_codes_and_outputs(sample, seed, capsys, tmp_path: Path) -> None:
    code, out, _ = run_cli(capsys, str(seed), "--period", "2023")
    assert code == 0 and "一致 7" in out and "不一致 0" in out
    altered = tmp_path / "altered.txt"
    altered.write_text(seed.read_text(encoding="utf-8").replace("936宗", "937宗"), "utf-8")
    code, out, _ = run_cli(capsys, str(altered), "--period", "2023", "--json")
    assert code == 1 and '"verdict": "mismatch"' in out


def test_cli_writes_the_annotated_copy_and_leaves_the_draft_alone(
    sample, values, capsys, tmp_path: Path
) -> None:
    fines = text_of("enforcement.fines_yuan", values["2023"]["enforcement.fines_yuan"] + 10)
    draft = tmp_path / "draft.docx"
    draft.write_bytes(_word_draft(values, fines))
    before = draft.read_bytes()
    out_path = tmp_path / "out" / "draft-核对.docx"
    code, out, _ = run_cli(capsys, str(draft), "--period", "2023", "--annotated", str(out_path))
    assert code == 1 and str(out_path) in out
    assert draft.read_bytes() == before and out_path.is_file()
    code, _, err = run_cli(capsys, str(draft), "--period", "2023", "--annotated", str(draft))
    assert code == 2 and "不能覆盖原文件" in err


@pytest.mark.parametrize(
    ("content", "args", "words"),
    [
        (None, ["--period", "2023"], "文件不存在"),
        (b"x", ["--period", "2023-13"], "统计期格式"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, ["--period", "2023"], "旧版"),
        ("处罚案件936宗".encode("utf-16-le"), ["--period", "2023"], "UTF-16"),
        (b"\x81\x30\xff\xfe text", ["--period", "2023"], "GB18030"),
        (b"PK\x03\x04 not really a zip", ["--period", "2023"], "zip"),
        (b"%PDF-1.4 broken", ["--period", "2023"], "PDF"),
        ("处罚案件936宗".encode(), ["--period", "2023", "--annotated", "o.docx"], "不是 Word"),
    ],
)
def test_cli_bad_input_exits_2_with_a_clear_message(
    sample, capsys, tmp_path: Path, content: bytes | None, args: list[str], words: str
) -> None:
    path = tmp_path / "坏文稿.txt"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run_cli(capsys, str(path), *args)
    assert code == 2
    assert words in err and "Traceback" not in err + out
    if "2023-13" not in args:
        assert "坏文稿.txt" in err

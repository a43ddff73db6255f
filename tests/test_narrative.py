"""The report's sentences and number formats: the bureau's published wording, 数据缺失 for nulls."""

from __future__ import annotations

from decimal import Decimal

from tests.reports_data import (
    PUBLISHED_SENTENCES,
    annual_result,
    monthly_result,
    without_source,
)
from urbanreport.reports import narrative
from urbanreport.reports.narrative import Figures


def test_figures_use_the_one_formatter():
    fig = Figures(annual_result())
    assert fig.text("enforcement.fines_yuan") == "3009408元"
    assert fig.text("permits.avg_working_days") == "3.4个工作日"
    assert fig.cell("demolition.area_m2") == "1024517.6"
    assert fig.cell("demolition.campaign_progress") == "78.02%"
    assert fig.change("enforcement.penalty_cases") == "+7.46%"
    assert fig.change("enforcement.disclosure_on_time_rate") == "+2.53个百分点"


def test_a_half_way_rate_rounds_half_up():
    result = annual_result()
    result["indicators"]["permits.online_rate"] = Decimal("0.79375")
    result["indicators"]["permits.e_license_rate"] = 0.79375
    fig = Figures(result)
    assert fig.cell("permits.online_rate") == "79.38%"
    assert fig.cell("permits.e_license_rate") == "79.38%"


def test_no_campaign_is_not_missing_data():
    """2022 has demolitions but no district campaign: 无专项行动, not 数据缺失."""
    fig = Figures(annual_result())
    assert fig.previous["demolition.campaign_progress"] is None
    assert fig.previous["demolition.sites"] is not None
    for key in ("demolition.campaign_target_m2", "demolition.campaign_area_m2"):
        assert fig.cell(key, previous=True) == "无专项行动"
    assert fig.cell("demolition.campaign_progress", previous=True) == "无专项行动"
    without = without_source(annual_result(), "demolition", "违法建设拆除在2023年没有任何记录")
    without["indicators"]["demolition.campaign_target_m2"] = None
    assert Figures(without).cell("demolition.campaign_progress") == "数据缺失"
    assert Figures(without).cell("demolition.campaign_target_m2") == "数据缺失"


def test_the_result_says_what_an_empty_figure_prints():
    result = annual_result()
    result["indicators"]["demolition.campaign_progress"] = None
    result["empty"] = {"demolition.campaign_progress": "无专项行动"}
    result["missing"] = {"demolition.campaign_progress": "统计期内没有全区专项行动目标"}
    fig = Figures(result)
    assert fig.cell("demolition.campaign_progress") == "无专项行动"
    assert fig.text("demolition.campaign_progress") == "无专项行动"


def test_annual_sentences_are_the_published_ones():
    result = annual_result()
    fig = Figures(result)
    text = "".join(
        narrative.enforcement(fig, "year", "2023")
        + narrative.permits(fig, "year", "2023")
        + narrative.demolition(fig, "year", "2023", "龙湖区")
    )
    for sentence in PUBLISHED_SENTENCES:
        assert sentence in text


def test_campaign_start_month_comes_from_the_data():
    result = annual_result()
    result["campaign"]["start_date"] = "2023-03-15"
    text = "".join(narrative.demolition(Figures(result), "year", "2023", "龙湖区"))
    assert "2023年3月以来龙湖区完成拆违936292.39平方米" in text
    result["campaign"] = None
    text = "".join(narrative.demolition(Figures(result), "year", "2023", "龙湖区"))
    assert "以来" not in text and "无进行中的全区拆违专项行动目标" in text


def test_monthly_sentences_open_with_the_month():
    fig = Figures(monthly_result(7))
    sentences = [
        narrative.enforcement(fig, "month", "2023-07")[0],
        narrative.permits(fig, "month", "2023-07")[0],
        narrative.demolition(fig, "month", "2023-07", "龙湖区")[0],
        narrative.dcm(fig, "month", "2023-07")[0],
        narrative.legal(fig, "month", "2023-07")[0],
    ]
    for sentence in sentences:
        assert sentence.startswith("2023年7月，")
    assert "2023年7月以来累计完成拆违104032.49平方米，完成进度8.67%" in sentences[2]


def test_a_missing_source_is_written_as_missing_never_zero():
    reason = "行政处罚案件在2023年没有任何记录"
    result = without_source(annual_result(), "enforcement", reason)
    text = "".join(narrative.enforcement(Figures(result), "year", "2023"))
    assert text == f"2023年，行政处罚数据缺失（{reason}）。"
    assert "0宗" not in text


def test_a_single_null_figure_says_why():
    result = annual_result()
    result["indicators"]["enforcement.major_legal_review_rate"] = None
    result["missing"]["enforcement.major_legal_review_rate"] = "分母为0，比率不适用"
    text = "".join(narrative.enforcement(Figures(result), "year", "2023"))
    assert "法制审核率数据缺失（分母为0，比率不适用）" in text
    assert "我局共处罚相关案件936宗" in text


def test_hotline_share_and_year_on_year():
    text = "".join(narrative.dcm(Figures(annual_result()), "year", "2023"))
    assert "其中12345热线转办9642件，占上报总数的20%" in text
    assert "上报数较上年同期增长8.31%" in text


def test_quality_warnings_name_gaps_and_rejections():
    result = annual_result()
    result["quality"]["permits"]["months_without_data"] = ["2023-03", "2023-04"]
    result["quality"]["demolition_targets"]["months_without_data"] = ["2023-01"]
    text = "".join(narrative.quality(result, "2023-12-31", "2024-01-02T02:00:00"))
    assert "行政许可办件：2023年3月、2023年4月无数据。" in text
    assert "拆违任务目标：" not in text  # targets are not a monthly source
    assert "累计未通过校验、未予入库的记录：行政处罚案件3行" in text
    assert "数据更新时间为2024年1月2日 02:00" in text


def test_year_on_year_rate_has_no_change_of_its_own():
    assert Figures(annual_result()).change("dcm.reported_yoy") == "—"

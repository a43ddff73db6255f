"""The annual 法治政府建设年度报告 as a draft the legal section finishes in Word or WPS.

Why a draft and not only the data report: the bureau publishes a prose report every year in a
fixed order (the published 2023 report: 一 加强法治思维和依法行政能力建设, 二 推进法治建设
第一责任人职责, 三 提升依法全面履职水平, 四 围绕中心服务大局 with 执法, 审批, 违法建设,
数字城管, 五 存在的不足和原因, 六 next year's plans). Its figures used to be typed in by hand.
Here every paragraph that states a figure is written from the indicator values with the one
formatter, and every paragraph only people can write (what was decided, studied, planned) is a
`Placeholder` the renderer highlights and lists, so nothing invented reads as fact.

The figure sentences name their period (``2023年``, ``2023年7月以来``) and put each figure right
after the catalogue's name or the bureau's usual phrase for it (处罚相关案件, 罚款人民币,
办理审批许可事项, 办结率, 非税收入, 完成拆违, 完成进度), so the draft checker can tie every number
back to its indicator. A figure that is not known reads 数据缺失 with its reason, never 0.

The data appendix is whatever blocks the caller passes (the annual report's sections), set
after the text as an attachment (附件) whose headings are numbered afresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from urbanreport.core import formatting
from urbanreport.core.catalogue import SECTION_NAMES, indicator
from urbanreport.reports.blocks import (
    Annex,
    Block,
    Document,
    Heading,
    Paragraph,
    Placeholder,
)

KIND = "annual_draft"


class Figures:
    """One year's values as the draft writes them: with units, or 数据缺失 and the reason."""

    def __init__(self, result: Mapping[str, Any]) -> None:
        self.values: Mapping[str, Any] = result.get("indicators") or {}
        self.missing: Mapping[str, str] = result.get("missing") or {}

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def __call__(self, key: str) -> str:
        """``936宗``, ``78.02%``, ``3.5个工作日``, or ``数据缺失（…）``."""
        value = self.values.get(key)
        if value is None:
            reason = self.missing.get(key)
            return f"{formatting.MISSING}（{reason}）" if reason else formatting.MISSING
        return formatting.figure(indicator(key), value)

    def named(self, key: str) -> str:
        """The catalogue's name followed by the figure: ``按时办结率100%``."""
        return f"{indicator(key).name}{self(key)}"

    def is_zero(self, key: str) -> bool:
        value = self.values.get(key)
        return value is not None and formatting.decimal(value) == 0


# --- the figure paragraphs -------------------------------------------------------------------


def legal_study(fig: Figures, year: int) -> str:
    """一: 学法普法 in the year."""
    return (
        f"{year}年，局党组和理论学习中心组开展集体学法{fig('legal.study_sessions')}，"
        f"组织行政执法培训{fig('legal.trainings')}，"
        f"开展普法宣传活动{fig('legal.publicity_events')}，"
        f"学法普法活动{fig.named('legal.participants')}。"
    )


def major_decisions(fig: Figures, year: int) -> str:
    """三（二）: major cases, their legal review and collective discussion, lenient handling."""
    if fig.is_zero("enforcement.major_cases"):
        major = "本年度未办理重大执法案件"
    else:
        major = (
            f"办理重大执法案件{fig('enforcement.major_cases')}，"
            f"{fig.named('enforcement.major_legal_review_rate')}，"
            f"{fig.named('enforcement.major_collective_rate')}"
        )
    return (
        f"{year}年，全局{major}；坚持柔性执法，"
        f"不予处罚案件{fig('enforcement.no_penalty_cases')}；"
        f"超期作出处罚决定{fig('enforcement.overdue_decisions')}。"
    )


def disclosure(fig: Figures, year: int) -> str:
    """三（三）: publication of penalty decisions on time."""
    return f"{year}年，{fig.named('enforcement.disclosure_on_time_rate')}。"


def reviews(fig: Figures, year: int) -> str:
    """三（四）: administrative reconsideration and litigation closed, and how many corrected."""
    if fig.is_zero("enforcement.reviews"):
        return f"{year}年，本局无行政复议、行政诉讼结案案件。"
    return (
        f"{year}年，本局行政复议、行政诉讼案件中，复议诉讼结案{fig('enforcement.reviews')}，"
        f"{fig.named('enforcement.review_correction_rate')}。"
    )


def enforcement(fig: Figures, year: int) -> str:
    """四（一）: the published figures of penalties and fines."""
    return (
        f"{year}年，全局依法查处违法行为，共处罚相关案件{fig('enforcement.penalty_cases')}，"
        f"处以罚款人民币{fig('enforcement.fines_yuan')}。"
    )


def permits(fig: Figures, year: int) -> str:
    """四（二）: permits handled, completion (published), service quality, non-tax revenue."""
    return (
        f"{year}年，共受理并办理审批许可事项{fig('permits.received')}，"
        f"{fig.named('permits.completion_rate')}，{fig.named('permits.on_time_rate')}，"
        f"{fig.named('permits.avg_working_days')}，{fig.named('permits.online_rate')}；"
        f"收取非税收入{fig('permits.non_tax_revenue_yuan')}。"
    )


def demolition(
    fig: Figures, year: int, district: str, campaign: Mapping[str, Any] | None
) -> list[str]:
    """四（三）: the campaign's progress since its start month (published), then the year's."""
    out = []
    start = formatting.as_date((campaign or {}).get("start_date"))
    if start is None:
        out.append(f"{year}年，{district}无进行中的全区违法建设专项治理行动。")
    else:
        name = str((campaign or {}).get("name") or "")
        out.append(
            f"{start.year}年{start.month}月以来，{district}{name}累计完成拆违"
            f"{fig('demolition.campaign_area_m2')}，{fig.named('demolition.campaign_progress')}；"
            f"{indicator('demolition.campaign_target_m2').name}为"
            f"{fig('demolition.campaign_target_m2')}。"
        )
    out.append(
        f"{year}年全年，{district}拆除违法建设{fig('demolition.sites')}，"
        f"拆除面积{fig('demolition.area_m2')}。"
    )
    return out


def dcm(fig: Figures, year: int) -> str:
    """四（四）: the digital city-management cases from report to closure."""
    return (
        f"{year}年，数字城管平台共接收上报案件{fig('dcm.reported')}，"
        f"其中12345热线转办{fig('dcm.hotline_cases')}；"
        f"立案{fig('dcm.registered')}，{fig.named('dcm.registration_rate')}；"
        f"已结案{fig('dcm.closed')}，{fig.named('dcm.closure_rate')}；"
        f"{fig.named('dcm.on_time_disposal_rate')}，{fig.named('dcm.rework_rate')}，"
        f"{fig.named('dcm.avg_disposal_hours')}。"
    )


# --- the sections ----------------------------------------------------------------------------


def _capacity(fig: Figures, year: int) -> list[Block]:
    return [
        Heading(1, "加强法治思维和依法行政能力建设"),
        Placeholder("学习贯彻党的二十大精神和习近平法治思想情况"),
        Placeholder("领导干部学法用法、局党组学法制度落实情况"),
        Paragraph(legal_study(fig, year)),
        Placeholder("“八五”普法规划和“谁执法谁普法”普法责任制落实情况"),
    ]


def _first_responsible() -> list[Block]:
    return [
        Heading(1, "推进法治建设第一责任人职责"),
        Placeholder("主要负责人带头学习、提高政治站位情况"),
        Placeholder("主要负责人压实组织、领导、监管责任情况"),
        Placeholder("第一责任人职责制度机制建设及年终述法情况"),
    ]


def _duties(fig: Figures, year: int) -> list[Block]:
    return [
        Heading(1, "提升依法全面履职水平"),
        Heading(2, "重大行政决策"),
        Placeholder("本年度重大行政决策情况"),
        Heading(2, "严格规范公正文明执法"),
        Placeholder("综合行政执法改革和行政执法“三项制度”落实情况"),
        Paragraph(major_decisions(fig, year)),
        Heading(2, "政务公开"),
        Placeholder("政务公开和行政执法信息公示工作情况"),
        Paragraph(disclosure(fig, year)),
        Heading(2, "行政权力制约和监督"),
        Placeholder("内部监督、社会监督和舆论监督情况"),
        Paragraph(reviews(fig, year)),
        Heading(2, "法治政府建设组织保障"),
        Placeholder("法治政府建设组织保障情况"),
    ]


def _centre(
    fig: Figures, year: int, district: str, campaign: Mapping[str, Any] | None
) -> list[Block]:
    return [
        Heading(1, "围绕中心服务大局"),
        Heading(2, SECTION_NAMES["enforcement"]),
        Placeholder("本年度执法重点工作和专项整治情况"),
        Paragraph(enforcement(fig, year)),
        Heading(2, SECTION_NAMES["permits"]),
        Placeholder("审批服务改革和便民举措"),
        Paragraph(permits(fig, year)),
        Heading(2, SECTION_NAMES["demolition"]),
        Placeholder("违法建设治理的部署和主要做法"),
        *[Paragraph(text) for text in demolition(fig, year, district, campaign)],
        Heading(2, SECTION_NAMES["dcm"]),
        Placeholder("数字城管平台建设和城市管理模式创新情况"),
        Paragraph(dcm(fig, year)),
    ]


def _closing(year: int) -> list[Block]:
    return [
        Heading(1, "存在的不足和原因"),
        Placeholder("本年度法治政府建设存在的不足及原因"),
        Heading(1, f"{year + 1}年推进法治政府建设的主要安排"),
        Placeholder("下一年度法治政府建设的主要安排"),
    ]


def annual_draft(
    result: Mapping[str, Any],
    *,
    bureau: str,
    district: str,
    appendix: Sequence[Block] = (),
    data_cutoff: date | None = None,
    data_as_of: str = "",
    batches: Sequence[Mapping[str, Any]] | None = None,
) -> Document:
    """The draft of a fiscal year from `urbanreport.indicators.compute(...)`'s result.

    `appendix` is the annual report's tables and charts (any blocks), set after the text as
    附件; `data_cutoff` defaults to the period's last day; `batches` (rows of the warehouse's
    batches table: source, file_name, content_hash, rows_read, rows_loaded, rows_rejected)
    lists the extracts in the workbook's 说明, else it gives their number from the result.
    """
    if result.get("kind", "year") != "year":
        raise ValueError(
            f"年度报告初稿只能按年度生成，收到统计期：{result.get('period')} (a fiscal year only)"
        )
    year = int(str(result["period"])[:4])
    fig = Figures(result)
    end = formatting.as_date(result.get("end")) or date(year, 12, 31)
    cutoff = data_cutoff or end
    blocks: list[Block] = [
        Placeholder("开篇：本年度法治政府建设的总体情况和主要成效"),
        Paragraph(f"{bureau}{year}年法治政府建设工作情况报告如下："),
        *_capacity(fig, year),
        *_first_responsible(),
        *_duties(fig, year),
        *_centre(fig, year, district, result.get("campaign")),
        *_closing(year),
    ]
    annex_title = f"{year}年法治政府建设主要数据"
    if appendix:
        blocks.append(Paragraph(f"附件：{annex_title}"))
    blocks += [Paragraph(bureau, "signature"), Placeholder("成文日期")]
    if appendix:
        blocks += [Annex(annex_title), *appendix]
    return Document(
        kind=KIND,
        title=f"{bureau}{year}年法治政府建设年度报告",
        subtitle=f"（初稿，数据截至{formatting.day(cutoff)}）",
        bureau=bureau,
        district=district,
        period_label=str(year),
        data_cutoff=cutoff,
        data_as_of=data_as_of,
        blocks=tuple(blocks),
        meta={
            "period_start": result.get("start"),
            "period_end": result.get("end"),
            "batches": list(batches)
            if batches is not None
            else (result.get("data_version") or {}).get("batches"),
        },
    )

"""The report's sentences, written from indicator values in the bureau's own style.

Why a module of its own: the published report states its key figures in fixed sentence forms
(``2023年，我局共处罚相关案件936宗，罚款人民币3009408元。``) and readers compare them year to
year, so the wording must be stable, the numbers formatted exactly as every other output prints
them (`urbanreport.core.formatting`, names and units from `urbanreport.core.catalogue`), and a
figure that is not known must say so (数据缺失 with the reason), never read as 0. A campaign
that has not started while the demolitions are there is 无专项行动, not 数据缺失.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from urbanreport.core import catalogue, formatting
from urbanreport.core.catalogue import SECTION_SOURCES
from urbanreport.core.formatting import MISSING, as_date

#: Sources whose records are not monthly (a campaign's targets): no "month without data".
NOT_MONTHLY = frozenset({"demolition_targets"})

#: Figures shown on the cover of the registry entry and the portal (a few, not all).
HEADLINE_KEYS = (
    "enforcement.penalty_cases",
    "enforcement.fines_yuan",
    "permits.received",
    "permits.completion_rate",
    "permits.non_tax_revenue_yuan",
    "demolition.campaign_area_m2",
    "demolition.campaign_progress",
    "dcm.reported",
    "dcm.on_time_disposal_rate",
    "legal.participants",
)


def period_phrase(kind: str, label: str) -> str:
    """``2023年`` for a year, ``2023年7月`` for a month: how sentences open."""
    year = int(label[:4])
    if kind == "month":
        return f"{year}年{int(label[5:7])}月"
    return f"{year}年"


# --- figures with their missing reasons ---------------------------------------------------


class Figures:
    """One period's indicator values, formatted on demand, with 数据缺失 for the unknown."""

    def __init__(self, result: Mapping[str, Any]) -> None:
        self.result = result
        self.values: Mapping[str, Any] = result.get("indicators") or {}
        self.previous: Mapping[str, Any] = result.get("previous") or {}
        self.missing: Mapping[str, str] = result.get("missing") or {}
        self._empty: Mapping[str, str] = result.get("empty") or {}

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def known(self, *keys: str) -> bool:
        return all(self.values.get(k) is not None for k in keys)

    def reason(self, key: str) -> str:
        return str(self.missing.get(key) or "本期无数据")

    def empty(self, key: str, previous: bool = False) -> str:
        """What a null prints: 数据缺失, or 无专项行动 when its section's records are there."""
        if not previous and key in self._empty:
            return self._empty[key]
        values = self.previous if previous else self.values
        return formatting.empty_text(catalogue.indicator(key), section_present(values, key))

    def _null_text(self, key: str) -> str:
        empty = self.empty(key)
        return f"{MISSING}（{self.reason(key)}）" if empty == MISSING else empty

    def number(self, key: str) -> str:
        """The bare number, or ``数据缺失（reason）`` (``无专项行动`` for no campaign)."""
        value = self.values.get(key)
        if value is None:
            return self._null_text(key)
        return formatting.number(catalogue.indicator(key).kind, value)

    def text(self, key: str) -> str:
        """The number with its unit as prose writes it, or ``数据缺失（reason）``."""
        value = self.values.get(key)
        if value is None:
            return self._null_text(key)
        return formatting.figure(catalogue.indicator(key), value)

    def cell(self, key: str, previous: bool = False) -> str:
        """A table cell: the number without its unit (the column says it), or the empty text."""
        value = (self.previous if previous else self.values).get(key)
        if value is None:
            return self.empty(key, previous)
        return formatting.number(catalogue.indicator(key).kind, value)

    def change(self, key: str) -> str:
        if key.endswith("_yoy"):
            return formatting.NOT_COMPARABLE  # a change of a year-on-year rate means nothing
        kind = catalogue.indicator(key).kind
        return formatting.change(kind, self.values.get(key), self.previous.get(key))

    def all_missing(self, keys: Sequence[str]) -> bool:
        return all(self.values.get(k) is None for k in keys)

    def shared_reason(self, keys: Sequence[str]) -> str:
        reasons = []
        for key in keys:
            reason = self.reason(key)
            if reason not in reasons:
                reasons.append(reason)
        return "；".join(reasons)


def section_present(values: Mapping[str, Any], key: str) -> bool:
    """Whether the source of `key`'s section sent records for the period (from the values:
    a count of that source is 0, not null, as soon as there is any record)."""
    section = catalogue.indicator(key).section
    source = SECTION_SOURCES[section]
    return any(
        values.get(k) is not None
        for k in catalogue.section_keys(section)
        if catalogue.indicator(k).source == source
    )


def _section_missing(prefix: str, what: str, figures: Figures, keys: Sequence[str]) -> str:
    return f"{prefix}，{what}{MISSING}（{figures.shared_reason(keys)}）。"


# --- section sentences --------------------------------------------------------------------

ENFORCEMENT_KEYS = (
    "enforcement.penalty_cases",
    "enforcement.fines_yuan",
    "enforcement.no_penalty_cases",
    "enforcement.major_cases",
    "enforcement.major_legal_review_rate",
    "enforcement.major_collective_rate",
    "enforcement.disclosure_on_time_rate",
    "enforcement.overdue_decisions",
    "enforcement.reviews",
    "enforcement.review_correction_rate",
)


def enforcement(fig: Figures, kind: str, label: str) -> list[str]:
    """行政执法: cases and fines (the published sentence), then the procedural safeguards."""
    p = period_phrase(kind, label)
    if fig.all_missing(ENFORCEMENT_KEYS):
        return [_section_missing(p, "行政处罚", fig, ENFORCEMENT_KEYS[:2])]
    scope = "全年" if kind == "year" else "当月"
    out = [
        f"{p}，我局共处罚相关案件{fig.number('enforcement.penalty_cases')}宗，"
        f"罚款人民币{fig.number('enforcement.fines_yuan')}元。"
    ]
    out.append(
        f"坚持“柔性”执法，{scope}作出不予处罚决定{fig.text('enforcement.no_penalty_cases')}。"
        f"办理重大案件{fig.text('enforcement.major_cases')}，"
        f"重大执法决定法制审核率{fig.text('enforcement.major_legal_review_rate')}，"
        f"集体讨论率{fig.text('enforcement.major_collective_rate')}；"
        f"处罚决定按时公示率{fig.text('enforcement.disclosure_on_time_rate')}，"
        f"超期作出决定{fig.text('enforcement.overdue_decisions')}；"
        f"复议诉讼结案{fig.text('enforcement.reviews')}，"
        f"纠错率{fig.text('enforcement.review_correction_rate')}。"
    )
    return out


PERMIT_KEYS = (
    "permits.received",
    "permits.concluded",
    "permits.completion_rate",
    "permits.on_time_rate",
    "permits.avg_working_days",
    "permits.online_rate",
    "permits.e_license_rate",
    "permits.non_tax_revenue_yuan",
)


def permits(fig: Figures, kind: str, label: str) -> list[str]:
    """审批服务: received, completion and revenue (the published sentence), then service."""
    p = period_phrase(kind, label)
    if fig.all_missing(PERMIT_KEYS):
        return [_section_missing(p, "行政许可", fig, PERMIT_KEYS[:1])]
    out = [
        f"{p}，我局共办理审批许可事项{fig.number('permits.received')}宗，"
        f"办结率{fig.text('permits.completion_rate')}；"
        f"实现非税收入{fig.number('permits.non_tax_revenue_yuan')}元。"
    ]
    out.append(
        f"已办结{fig.text('permits.concluded')}，"
        f"按时办结率{fig.text('permits.on_time_rate')}，"
        f"平均办理时长{fig.text('permits.avg_working_days')}；"
        f"网上办理率{fig.text('permits.online_rate')}，"
        f"电子证照发放率{fig.text('permits.e_license_rate')}。"
    )
    return out


DEMOLITION_KEYS = (
    "demolition.sites",
    "demolition.area_m2",
    "demolition.campaign_area_m2",
    "demolition.campaign_progress",
)


def campaign_start(result: Mapping[str, Any]) -> date | None:
    """The start date of the campaign the period belongs to, from the data (None if none)."""
    campaign = result.get("campaign") or {}
    return as_date(campaign.get("start_date"))


def demolition(fig: Figures, kind: str, label: str, district: str) -> list[str]:
    """违法建设治理: progress of the campaign since its start month (the published sentence)."""
    p = period_phrase(kind, label)
    if fig.all_missing(DEMOLITION_KEYS):
        return [_section_missing(p, "违法建设拆除", fig, DEMOLITION_KEYS[:2])]
    start = campaign_start(fig.result)
    since = f"{start.year}年{start.month}月以来" if start else None
    period_sentence = (
        f"{p}，{district}拆除违法建设{fig.text('demolition.sites')}，"
        f"拆除面积{fig.text('demolition.area_m2')}"
    )
    if since is None:
        return [f"{period_sentence}。本期无进行中的全区拆违专项行动目标。"]
    progress = (
        f"完成拆违{fig.number('demolition.campaign_area_m2')}平方米，"
        f"完成进度{fig.text('demolition.campaign_progress')}"
    )
    if kind == "month":
        return [f"{period_sentence}；{since}累计{progress}。"]
    campaign = f"{since}{district}{progress}"
    target = fig.get("demolition.campaign_target_m2")
    target_text = "" if target is None else f"（专项行动目标{formatting.amount(target)}平方米）"
    return [f"{campaign}。", f"{period_sentence}{target_text}。"]


DCM_KEYS = (
    "dcm.reported",
    "dcm.registered",
    "dcm.closed",
    "dcm.on_time_disposal_rate",
    "dcm.rework_rate",
    "dcm.hotline_cases",
)


def dcm(fig: Figures, kind: str, label: str) -> list[str]:
    """数字城管: the case cohort from report to closure, timeliness, and the hotline share."""
    p = period_phrase(kind, label)
    if fig.all_missing(DCM_KEYS):
        return [_section_missing(p, "数字城管案件", fig, DCM_KEYS[:1])]
    out = [
        f"{p}，数字城管平台共受理上报案件{fig.text('dcm.reported')}，"
        f"立案{fig.text('dcm.registered')}，立案率{fig.text('dcm.registration_rate')}；"
        f"结案{fig.text('dcm.closed')}，结案率{fig.text('dcm.closure_rate')}。"
    ]
    out.append(
        f"按期处置率{fig.text('dcm.on_time_disposal_rate')}，"
        f"返工率{fig.text('dcm.rework_rate')}，"
        f"平均处置时长{fig.text('dcm.avg_disposal_hours')}。"
    )
    hotline, reported = fig.get("dcm.hotline_cases"), fig.get("dcm.reported")
    extra = f"其中12345热线转办{fig.text('dcm.hotline_cases')}"
    if hotline is not None and reported:
        share = formatting.decimal(hotline) / formatting.decimal(reported)
        extra += f"，占上报总数的{formatting.percent(share)}"
    yoy = fig.get("dcm.reported_yoy")
    if yoy is not None:
        yoy = formatting.decimal(yoy)
        if yoy == 0:
            extra += "；上报数与上年同期持平"
        else:
            word = "增长" if yoy > 0 else "下降"
            extra += f"；上报数较上年同期{word}{formatting.percent(abs(yoy))}"
    out.append(extra + "。")
    return out


LEGAL_KEYS = (
    "legal.study_sessions",
    "legal.trainings",
    "legal.publicity_events",
    "legal.participants",
)


def legal(fig: Figures, kind: str, label: str) -> list[str]:
    """学法普法: study sessions, trainings, publicity events and participants."""
    p = period_phrase(kind, label)
    if fig.all_missing(LEGAL_KEYS):
        return [_section_missing(p, "学法普法活动", fig, LEGAL_KEYS[:1])]
    return [
        f"{p}，我局组织党组学法和理论学习中心组学法{fig.text('legal.study_sessions')}、"
        f"行政执法培训{fig.text('legal.trainings')}，"
        f"开展普法宣传活动{fig.text('legal.publicity_events')}，"
        f"共{fig.text('legal.participants')}参与。"
    ]


def months_in(start: Any, end: Any) -> int:
    a, b = as_date(start), as_date(end)
    if a is None or b is None:
        return 0
    return (b.year - a.year) * 12 + b.month - a.month + 1


def source_warnings(
    quality: Mapping[str, Mapping[str, Any]],
    titles: Mapping[str, str] | None = None,
    period_months: int = 0,
) -> list[str]:
    """Plain sentences: one per source with a gap, then one listing rejected rows.

    ``months_without_data`` covers the period (up to the data's own time); the row counts and the
    latest record date cover everything ingested so far, hence "累计".
    """
    titles = {**catalogue.source_names(), **(titles or {})}
    out: list[str] = []
    rejected_parts: list[str] = []
    for source, q in quality.items():
        title = titles.get(source, source)
        months = [] if source in NOT_MONTHLY else list(q.get("months_without_data") or [])
        if q.get("latest_record") is None:
            out.append(f"{title}：尚未报送任何记录。")
        elif months and period_months and len(months) >= period_months:
            out.append(f"{title}：统计期内无任何记录。")
        elif months:
            shown = "、".join(formatting.month(f"{m}-01") for m in months[:12])
            more = f"等{len(months)}个月" if len(months) > 12 else ""
            out.append(f"{title}：{shown}{more}无数据。")
        rejected = int(q.get("rows_rejected") or 0)
        if rejected:
            rejected_parts.append(f"{title}{rejected}行")
    if rejected_parts:
        out.append(
            f"累计未通过校验、未予入库的记录：{'、'.join(rejected_parts)}，"
            "均已登记原因，待业务科室核实更正后重新报送。"
        )
    return out


def quality(
    result: Mapping[str, Any],
    cutoff: Any,
    updated_at: Any,
    titles: Mapping[str, str] | None = None,
) -> list[str]:
    """数据质量: the period, the cut-off and update time, then each source's gaps."""
    out = [
        f"本报告统计期为{formatting.day(result.get('start'))}至{formatting.day(result.get('end'))}，"
        f"数据截至{formatting.day(cutoff)}，数据更新时间为{formatting.moment(updated_at)}。"
        "各项指标均由业务系统报送的原始记录按统一口径计算，空缺的数据注明“数据缺失”，不按零计。"
    ]
    months = months_in(result.get("start"), result.get("end"))
    warnings = source_warnings(result.get("quality") or {}, titles, months)
    if warnings:
        out.extend(warnings)
    else:
        out.append("统计期内各数据来源均按月报送，未发现数据缺口。")
    return out

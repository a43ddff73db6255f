"""Prefect flow of the city rollup: after the districts' monthly runs, the city report.

Why a flow of its own: the districts load their data at 06:00 on the 1st, each in its own
deployment and on whichever worker is free; at 07:00 this flow reads every district's records
at once (one snapshot of the lake), recomputes the city's figures and renders the city report
of the month before and of its fiscal year. It writes no records, so it needs no lease; two
rollups never overlap (its deployment's concurrency limit of one).
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client

from urbanreport.core.city import load_city
from urbanreport.core.periods import Period
from urbanreport.flows.pipeline import (
    artifact_key,
    current_settings,
    indicator_table,
    reported_month,
)
from urbanreport.reports import city as city_report
from urbanreport.reports.build import ReportEntry


def ensure_district_limits(names: Sequence[str]) -> list[str]:
    """Create (or reset to one slot) the districts' global concurrency limits on the server
    `PREFECT_API_URL` names: part of applying the city's deployments."""
    with get_client(sync_client=True) as client:
        for name in names:
            client.upsert_global_concurrency_limit_by_name(name, 1)
    return list(names)


@task(name="city-report", task_run_name="city-report-{period}", cache_policy=NO_CACHE)
def city_report_task(home: str, period: str) -> ReportEntry:
    """Recompute the city's figures from every district's records and render its report."""
    city = load_city(home)
    entry = city_report.render_city(city, Period.parse(period))
    state = "已生成新版本" if entry.changed else "内容未变，沿用现有版本"
    get_run_logger().info("%s %s：%s %s", city.name, period, state, entry.path)
    return entry


@flow(name="city-rollup", description="全市汇总：各区县月度流程之后，生成上月和本财年的全市报告。")
def city_rollup(period: str | None = None) -> dict[str, str]:
    """The city report of the month before the scheduled date (or `period`, YYYY-MM) and of
    its fiscal year so far. Returns period label → PDF path."""
    logger = get_run_logger()
    month = reported_month(period)
    home = str(current_settings().home)
    city = load_city(home)
    logger.info("%s：%d 个区县，统计期 %s", city.name, len(city.districts), month.label)
    entries = [city_report_task(home, p) for p in (month.label, str(month.fiscal_year))]
    with_figures = city_report.reports_dir(city.settings_for(city.districts[0].code))
    for entry in entries:
        create_link_artifact(
            link=entry.path.resolve().as_uri(),
            link_text=entry.path.name,
            key=artifact_key("city-report", entry.period),
            description=f"{city.name} {entry.period} 全市报告 PDF（sha256 {entry.sha256[:12]}…）",
        )
    create_markdown_artifact(
        markdown=f"# {city.name} {month.label} 全市主要指标\n\n"
        + indicator_table({"indicators": entries[0].headline}),
        key=artifact_key("city", month.label, "indicators"),
        description=f"{city.name} {month.label} 全市报告（{with_figures}）",
    )
    return {entry.period: str(entry.path) for entry in entries}

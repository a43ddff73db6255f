"""Prefect flows: the monthly run, the fiscal-year rerun, and the demo that drives them.

Why the flows are thin: every step (ingest, pull, indicators, render) is a plain function that
the command line and the tests call without Prefect. What this module adds is orchestration
only: which steps run in which order, under which lock, with which retries, and what a person
sees in the Prefect UI — task runs named after the step (`ingest-permits`, `pull-dcm-http`,
`indicators-2023-07`, `render-2023-07`), logs that can be followed, and artifacts (the headline
figures, the per-source row counts, a link to each PDF).

A flow run holds the single-writer lock (`warehouse.exclusive`) from its first write to its
last report, so a scheduled run and a manual rerun never interleave their writes or their report
registrations; the second waits for the lock (or gives up with a clear message after
`ingest.lock_timeout_seconds`). Only the HTTP pull, which may retry for minutes, runs before
the lock is taken. The deployments' `concurrency_limit: 1` in prefect.yaml is the first guard,
the lock the second one that also covers runs started outside Prefect's bookkeeping
(`urbanreport ingest`, a second server).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.runtime import flow_run

from urbanreport import indicators
from urbanreport.core import (
    catalogue,
    clock,
    deployments,
    formatting,
    lease,
    warehouse,
    workdays,
)
from urbanreport.core.city import load_city
from urbanreport.core.clock import SHANGHAI, previous_month
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.periods import Period
from urbanreport.ingest import batches as ingest
from urbanreport.ingest.batches import BatchResult
from urbanreport.ingest.http_source import Pull
from urbanreport.reports import build
from urbanreport.reports.build import ReportEntry

# The bureau's records start well after 2000; an older year is a typo, not a request.
FIRST_FISCAL_YEAR = 2000

MONTH_PATTERN = re.compile(r"(\d{4})-(\d{1,2})")

# Settings chosen by a caller that already holds them (`demo(settings)`); flows started by a
# worker or the command line read them from the environment like every other command.
_SETTINGS: ContextVar[Settings | None] = ContextVar("urbanreport_settings", default=None)


# --- plain helpers (no Prefect needed) ------------------------------------------------------


def today_in_shanghai() -> date:
    """The bureau's calendar date (tests move it)."""
    return clock.today()


def validate_fiscal_year(fiscal_year: Any, today: date | None = None) -> int:
    """Refuse a fiscal year outside 2000..next year before anything is read or written."""
    last = (today or today_in_shanghai()).year + 1
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, int):
        raise ValueError(
            f"财年必须是整数年份，如 2023，收到 {fiscal_year!r}。"
            f" The fiscal year must be a year such as 2023, got {fiscal_year!r}."
        )
    if not FIRST_FISCAL_YEAR <= fiscal_year <= last:
        raise ValueError(
            f"财年 {fiscal_year} 超出允许范围 {FIRST_FISCAL_YEAR}–{last}。"
            f" Fiscal year {fiscal_year} is outside {FIRST_FISCAL_YEAR}..{last}."
        )
    return fiscal_year


def parse_month(period: Any, today: date | None = None) -> Period:
    """`YYYY-MM` → the month's Period; anything else (a year, a typo) is refused clearly."""
    match = MONTH_PATTERN.fullmatch(period.strip()) if isinstance(period, str) else None
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValueError(
            f"统计期格式错误：{period!r}，月度流程需要 YYYY-MM（如 2023-07）。"
            f" The monthly run needs a month as YYYY-MM (e.g. 2023-07), got {period!r}."
        )
    validate_fiscal_year(int(match[1]), today)
    return Period.parse(f"{match[1]}-{int(match[2]):02d}")


def completed_months(fiscal_year: int, today: date | None = None) -> list[str]:
    """The months of a fiscal year that have ended by `today` (all twelve for a past year).

    Why not always twelve: a brief for a month still in progress (or not begun) would be
    published on the portal as if it were final, full of 数据缺失.
    """
    today = today or today_in_shanghai()
    months = [f"{fiscal_year:04d}-{m:02d}" for m in range(1, 13)]
    current = f"{today.year:04d}-{today.month:02d}"
    return [m for m in months if m < current]


def report_url(settings: Settings, entry: ReportEntry, fiscal_year: int) -> str:
    """The portal's download address when the portal is published, else the file itself."""
    base = str(settings["portal"].get("base_url") or "").rstrip("/")
    if base:
        return f"{base}/download/{fiscal_year}/{quote(entry.id, safe='')}"
    return entry.path.resolve().as_uri()


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    text = "-".join(parts).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text)).strip("-")


@contextmanager
def using_settings(settings: Settings) -> Iterator[Settings]:
    """Run flows in this block against `settings` instead of those of the environment."""
    token = _SETTINGS.set(settings)
    try:
        yield settings
    finally:
        _SETTINGS.reset(token)


def current_settings(district: str | None = None) -> Settings:
    """The settings of `using_settings`, else those of the environment ($URBANREPORT_HOME);
    with a district, that district's of the home's city file."""
    chosen = _SETTINGS.get()
    if chosen is not None and district in (None, chosen.district_code):
        return chosen
    return settings_of(str(chosen.home) if chosen else None, district)


def settings_of(home: str | None, district: str | None = None) -> Settings:
    """A task's settings: the home's, or one district's of its city file."""
    if district is None:
        return load_settings(home)
    return load_city(home).settings_for(district)


def scheduled_moment() -> datetime:
    """When this flow run was meant to start: its schedule slot, or now when run by hand.

    A run the worker picks up late (the machine was off on the 1st) still reports on the month
    its slot belongs to.
    """
    moment = flow_run.scheduled_start_time
    return moment if isinstance(moment, datetime) else datetime.now(UTC)


# --- formatting for artifacts and logs ------------------------------------------------------


def indicator_table(figures: dict[str, Any]) -> str:
    """Markdown table of every catalogued indicator: this period, a year before, change.

    The section column matters: 立案数 is both a penalty-case and a city-management figure.
    """
    values = figures.get("indicators") or {}
    previous = figures.get("previous") or {}
    empty = figures.get("empty") or {}
    lines = [
        "| 板块 | 指标 | 本期 | 上年同期 | 同比 |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for key, item in catalogue.indicators().items():
        if key not in values:
            continue
        lines.append(
            f"| {item.section_name} | {item.name}"
            f" | {formatting.figure(item, values[key], empty.get(key))}"
            f" | {formatting.figure(item, previous.get(key))}"
            f" | {formatting.change(item.kind, values[key], previous.get(key))} |"
        )
    return "\n".join(lines)


def quality_rows(settings: Settings, rendered: Sequence[Rendered]) -> list[dict[str, Any]]:
    """Per period and source: rows read, loaded and rejected, and months without any record."""
    rows = []
    for item in rendered:
        for source, q in (item.figures.get("quality") or {}).items():
            title = catalogue.source_name(source)
            missing = q.get("months_without_data") or []
            rows.append(
                {
                    "统计期": item.period.label,
                    "数据源": f"{title}（{source}）",
                    "读取行数": q.get("rows_read", 0),
                    "入库行数": q.get("rows_loaded", 0),
                    "拒绝行数": q.get("rows_rejected", 0),
                    "无数据月份": "、".join(str(m) for m in missing) if missing else "无",
                }
            )
    return rows


def ingest_lines(batches: Sequence[BatchResult]) -> list[str]:
    """What this run loaded, per source, as markdown list lines."""
    per_source: dict[str, list[BatchResult]] = {}
    for b in batches:
        per_source.setdefault(b.source, []).append(b)
    lines = []
    for source, items in per_source.items():
        new = [b for b in items if not b.skipped]
        refused = [b for b in new if b.status == "refused"]
        read, loaded = sum(b.rows_read for b in new), sum(b.rows_loaded for b in new)
        lines.append(
            f"- {source}：新文件 {len(new)} 个（整份拒收 {len(refused)} 个），"
            f"读取 {read:,} 行，入库 {loaded:,} 行，"
            f"拒绝 {sum(b.rows_rejected for b in new):,} 行；已导入过 {len(items) - len(new)} 个"
        )
    return lines or ["- 没有新文件"]


# --- tasks: one per real step, each taking plain values ------------------------------------
#
# Every task takes the data directory as a path and periods as labels, and opens what it needs
# itself, so Prefect can record, retry and show its inputs. NO_CACHE: a task's inputs do not
# capture what it reads (new inbox files, the warehouse), so a cached result would be stale.


@task(name="pull-dcm-http", task_run_name="pull-dcm-http", cache_policy=NO_CACHE)
def pull_http_task(
    home: str,
    full_refresh: bool = False,
    since: datetime | None = None,
    district: str | None = None,
) -> Pull | None:
    """Pull the digital city-management platform into an audit file, with the lock released.

    Retries are the HTTP client's alone (`[http] max_retries`, `backoff_seconds`): it retries
    the one page that failed instead of the whole pull.
    """
    logger = get_run_logger()
    pulled = ingest.pull_http(settings_of(home, district), full_refresh=full_refresh, since=since)
    logger.info(
        "数字城管平台：%s", f"已保存 {pulled.path.name}" if pulled else "未配置或没有新数据"
    )
    return pulled


@task(name="ingest-source", task_run_name="ingest-{source}", cache_policy=NO_CACHE)
def ingest_source_task(home: str, source: str, district: str | None = None) -> list[BatchResult]:
    """Load the new inbox files of one source (files already ingested are skipped)."""
    settings = settings_of(home, district)
    with warehouse.writer(settings) as con:
        batches = ingest.ingest_source(con, settings, source)
    _log_batches(source, batches)
    return batches


@task(name="load-dcm-http", task_run_name="load-dcm-http", cache_policy=NO_CACHE)
def load_pull_task(
    home: str, pulled: Pull | None, district: str | None = None
) -> BatchResult | None:
    """Load the saved pull as one batch; its watermark moves in the same transaction."""
    settings = settings_of(home, district)
    with warehouse.writer(settings) as con:
        result = ingest.ingest_pull(con, settings, pulled)
    if result is not None:
        _log_batches(result.source, [result])
    return result


@task(name="refresh-calendar", task_run_name="refresh-calendar", cache_policy=NO_CACHE)
def refresh_calendar_task(home: str, district: str | None = None) -> None:
    """Rebuild the working-day calendar: a holiday list added to the config takes effect now."""
    settings = settings_of(home, district)
    with warehouse.writer(settings) as con:
        workdays.refresh_calendar(con, settings)


@task(name="indicators", task_run_name="indicators-{period}", cache_policy=NO_CACHE)
def indicators_task(home: str, period: str, district: str | None = None) -> dict[str, Any]:
    """Compute the period's indicators (the figures shown in the run's markdown artifact)."""
    settings = settings_of(home, district)
    with warehouse.reader(settings) as con:
        figures = indicators.compute(con, Period.parse(period), settings)
    values = figures.get("indicators") or {}
    missing = [k for k, v in values.items() if v is None]
    get_run_logger().info("%s：%d 项指标，%d 项为空", period, len(values), len(missing))
    return figures


@task(name="render", task_run_name="render-{period}", cache_policy=NO_CACHE)
def render_task(home: str, period: str, district: str | None = None) -> ReportEntry:
    """Write the period's report and register it; unchanged content keeps the existing version."""
    entry = build.render(settings_of(home, district), Period.parse(period))
    state = "已生成新版本" if entry.changed else "内容未变，沿用现有版本"
    get_run_logger().info("%s：%s %s", period, state, entry.path)
    return entry


def _log_batches(source: str, batches: Sequence[BatchResult]) -> None:
    """What a person following the run needs: counts, refused files, where rejects are."""
    logger = get_run_logger()
    new = [b for b in batches if not b.skipped]
    logger.info(
        "%s：新文件 %d 个，读取 %d 行，入库 %d 行，拒绝 %d 行；%d 个文件已导入过，跳过",
        source,
        len(new),
        sum(b.rows_read for b in new),
        sum(b.rows_loaded for b in new),
        sum(b.rows_rejected for b in new),
        len(batches) - len(new),
    )
    for b in new:
        if b.status == "refused":
            logger.warning("%s / %s 整份拒收：%s", source, b.file_name, b.message)
    with_rejects = [b for b in new if b.status != "refused" and b.rows_rejected]
    if with_rejects:
        shown = "、".join(f"{b.file_name} {b.rows_rejected} 行" for b in with_rejects[:5])
        more = f" 等 {len(with_rejects)} 个文件" if len(with_rejects) > 5 else ""
        logger.warning(
            "%s：%s%s 有被拒绝的行，原因见 `urbanreport rejects --source %s`",
            source,
            shown,
            more,
            source,
        )


# --- the shared body of both flows ----------------------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """One period's outcome: its figures and the registered report."""

    period: Period
    figures: dict[str, Any]
    entry: ReportEntry


def _run(
    settings: Settings,
    periods: Sequence[Period],
    *,
    full_refresh: bool = False,
    since: datetime | None = None,
) -> tuple[list[BatchResult], list[Rendered]]:
    """Pull (lock released), then ingest, compute and render each period under one write lock.

    The lock spans the whole run: a scheduled run and a manual rerun never interleave their
    writes or their report registrations; the second waits (`ingest.lock_timeout_seconds`).
    Three guards, outermost first: the district's Prefect concurrency limit (one slot, so a
    second run of the district waits in Prefect, visibly), the file lock of this home, and on
    a lake the district's catalog lease, which also holds across machines and outside Prefect.
    Without the limit on the server (a run outside a city deployment) the first is a no-op.
    """
    logger = get_run_logger()
    home, code = str(settings.home), settings.district_code
    pulled = pull_http_task(home, full_refresh=full_refresh, since=since, district=code)
    logger.info("等待区划 %s 的运行名额与仓库写锁：%s", code, warehouse.describe(settings))
    with (
        concurrency(deployments.district_limit(code), occupy=1),
        warehouse.exclusive(settings),
        lease.district_lease(settings, code),
    ):
        logger.info("已获得仓库写锁")
        batches = [
            b
            for s in ingest.discover_sources(settings)
            for b in ingest_source_task(home, s, district=code)
        ]
        loaded = load_pull_task(home, pulled, district=code)
        batches += [loaded] if loaded is not None else []
        refresh_calendar_task(home, district=code)
        rendered = [
            Rendered(
                p,
                indicators_task(home, p.label, district=code),
                render_task(home, p.label, district=code),
            )
            for p in periods
        ]
    logger.info("已释放仓库写锁")
    return batches, rendered


def _publish(
    settings: Settings,
    title: str,
    key: str,
    headline: Sequence[Rendered],
    batches: Sequence[BatchResult],
    rendered: Sequence[Rendered],
) -> None:
    """The run's artifacts: headline figures, per-source row counts, a link to each PDF."""
    bureau = settings["bureau"].get("short_name") or settings["bureau"]["name"]
    parts = [f"# {bureau} {title}", ""]
    for item in headline:
        parts += [f"## {item.period.label}", "", indicator_table(item.figures), ""]
    parts += ["## 本次入库", "", *ingest_lines(batches), ""]
    parts += ["## 报告", ""]
    for item in rendered:
        state = "新版本" if item.entry.changed else "未变"
        parts.append(f"- {item.period.label}：`{item.entry.path.name}`（{state}）")
    create_markdown_artifact(
        markdown="\n".join(parts),
        key=artifact_key(key, "indicators"),
        description=f"{title}：主要指标与上年同期对比",
    )
    create_table_artifact(
        table=quality_rows(settings, headline),
        key=artifact_key(key, "data-quality"),
        description=f"{title}：各数据源读取、入库、拒绝行数及无数据月份",
    )
    for item in rendered:
        create_link_artifact(
            link=report_url(settings, item.entry, item.period.fiscal_year),
            link_text=item.entry.path.name,
            key=artifact_key("report", item.period.label),
            description=f"{item.period.label} 报告 PDF（sha256 {item.entry.sha256[:12]}…）",
        )


# --- flows ----------------------------------------------------------------------------------


def reported_month(period: str | None) -> Period:
    """`period` (YYYY-MM), or the month before the run's scheduled date in Beijing time, said
    in the log: what the monthly run and the city rollup report on."""
    if period is None:
        moment = scheduled_moment()
        period = previous_month(moment)
        get_run_logger().info(
            "未指定统计期：计划时间 %s（北京时间）的上一个月是 %s",
            moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
            period,
        )
    return parse_month(period)


@flow(name="monthly-run", description="月度流程：入库、计算指标、生成上月月报与本财年年度报告。")
def monthly_run(period: str | None = None, district: str | None = None) -> dict[str, str]:
    """Ingest, then render the month's brief and its fiscal year's report (year to date).

    Without `period` the month is the one before the run's scheduled date in Beijing time, so
    the 06:00 run on 1 January reports on December and renders the final annual report of the
    year just ended. `district` (a division code of the city file) runs that district; the
    city's deployments pass it, one deployment per district. Returns period label → PDF path.
    """
    logger = get_run_logger()
    month = reported_month(period)
    if month.end >= today_in_shanghai():
        logger.warning("%s 尚未结束：月报只含截至目前的数据", month.label)
    annual = Period.parse(str(month.fiscal_year))
    settings = current_settings(district)
    logger.info("统计期 %s，年度报告 %s；数据目录 %s", month.label, annual.label, settings.home)

    batches, rendered = _run(settings, [month, annual])
    _publish(
        settings,
        f"{month.label} 月度流程",
        artifact_key("monthly", *([district] if district else []), month.label),
        rendered,
        batches,
        rendered,
    )
    return {item.period.label: str(item.entry.path) for item in rendered}


@flow(
    name="fiscal-year-rerun",
    description="财年重跑：重新入库（可全量拉取HTTP），重算并重新生成全年月报与年度报告。",
)
def fiscal_year_rerun(
    fiscal_year: int, full_refresh: bool = False, district: str | None = None
) -> dict[str, str]:
    """Re-ingest, recompute and re-render every completed month of a fiscal year and its report.

    Unchanged data gives byte-identical PDFs and no new report versions, so a rerun is safe to
    repeat. `full_refresh` re-pulls the HTTP source from 1 January of that year, ignoring the
    watermark (the way to pick up records the platform corrected after they were pulled).
    """
    logger = get_run_logger()
    fiscal_year = validate_fiscal_year(fiscal_year)
    settings = current_settings(district)
    today = today_in_shanghai()
    months = completed_months(fiscal_year, today)
    periods = [Period.parse(m) for m in months]
    if date(fiscal_year, 1, 1) <= today:
        periods.append(Period.parse(str(fiscal_year)))
    else:
        logger.warning("财年 %d 尚未开始：只入库，不生成报告", fiscal_year)
    if len(months) < 12:
        logger.info("财年 %d 已结束的月份：%d 个，未结束的月份不生成月报", fiscal_year, len(months))
    since = datetime(fiscal_year, 1, 1) if full_refresh else None
    logger.info(
        "财年 %d 重跑：%d 份报告%s；数据目录 %s",
        fiscal_year,
        len(periods),
        "，HTTP 自该年1月1日起全量拉取" if full_refresh else "",
        settings.home,
    )

    batches, rendered = _run(settings, periods, full_refresh=full_refresh, since=since)
    _publish(
        settings,
        f"{fiscal_year} 财年重跑",
        artifact_key("fiscal-year", str(fiscal_year)),
        [r for r in rendered if r.period.kind == "year"],
        batches,
        rendered,
    )
    return {item.period.label: str(item.entry.path) for item in rendered}


# --- demo -----------------------------------------------------------------------------------


# Written by `urbanreport sample` into the inbox: the years it generated, among other things.
SAMPLE_MANIFEST = ".sample-manifest.json"


def sample_years(settings: Settings) -> list[int]:
    """The fiscal years `urbanreport sample` wrote into this inbox (from its manifest).

    Why the manifest and not the data: extracts of January also carry cases filed the December
    before, so the dates alone would name a year the sample only touches.
    """
    manifest = settings.inbox / SAMPLE_MANIFEST
    if not manifest.is_file():
        raise FileNotFoundError(
            f"收件箱 {settings.inbox} 中没有示例数据。请先运行 `urbanreport sample`。"
            f" No sample data in {settings.inbox}: run `urbanreport sample` first."
        )
    years = json.loads(manifest.read_text(encoding="utf-8")).get("years") or []
    return sorted({int(y) for y in years})


def demo(settings: Settings) -> dict[int, dict[str, str]]:
    """Rerun every fiscal year found in the sample data and print where the reports are."""
    years = sample_years(settings)
    print(f"示例数据覆盖财年：{', '.join(str(y) for y in years)}")
    results: dict[int, dict[str, str]] = {}
    with using_settings(settings):
        for year in years:
            results[year] = fiscal_year_rerun(fiscal_year=year)
    for year, reports in results.items():
        print(f"\n{year} 财年报告（{settings.reports_dir / str(year)}）：")
        for label, path in reports.items():
            print(f"  {label:<8} {path}")
    return results

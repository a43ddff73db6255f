"""The daily refresh flow: ingest what arrived since, re-render only the reports it touches.

Runs at 06:30 Beijing time (prefect.yaml, deployment `refresh`) and on demand
(`urbanreport refresh`). The monthly run keeps its job and the fiscal-year rerun stays the big
hammer; this one fixes the reports a late or corrected extract touches, by itself, and leaves
an artifact saying which files came in and which reports changed because of them.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from urbanreport.core.clock import SHANGHAI
from urbanreport.core.config import load_settings
from urbanreport.flows.pipeline import (
    artifact_key,
    current_settings,
    pull_http_task,
    scheduled_moment,
)
from urbanreport.ingest.http_source import Pull
from urbanreport.reports import refresh as refreshing


@task(name="refresh", task_run_name="refresh", cache_policy=NO_CACHE)
def refresh_task(home: str, pulled: Pull | None = None) -> refreshing.RefreshResult:
    """Ingest the new files and re-render the affected reports, under the write lock."""
    return refreshing.refresh(load_settings(home), pulled)


@flow(name="refresh", description="每日刷新：入库新到文件，只重新生成受其影响的报告。")
def refresh(full_refresh: bool = False) -> dict[str, list[str]]:
    """Returns report id → why it was rendered again (empty when nothing new touched one)."""
    logger = get_run_logger()
    settings = current_settings()
    home = str(settings.home)
    pulled = pull_http_task(home, full_refresh=full_refresh, since=None)
    result = refresh_task(home, pulled)
    for b in result.files:
        logger.info("新到文件 %s %s：%s", b.source, b.file_name, b.status)
    for rid, reasons in result.reasons.items():
        logger.info("%s 受影响：%s", rid, "；".join(reasons))
    logger.info("改写 %d 份报告，用时 %.2f 秒", len(result.rewritten), result.seconds)
    moment = scheduled_moment().astimezone(SHANGHAI)
    create_markdown_artifact(
        markdown=f"# 每日刷新 {moment:%Y-%m-%d %H:%M}\n\n" + refreshing.summary(result),
        key=artifact_key("refresh"),
        description="新到文件与受影响的报告 (new files and the reports they changed)",
    )
    return result.reasons

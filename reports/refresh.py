"""Refresh: ingest what is new, re-render exactly the reports it touches, nothing else.

Why: a clerk's file that arrives after the monthly run, or a correction to an old month, should
fix the reports that print its records by itself, without a fiscal-year rerun rewriting every
report. The reports affected are derived (reports/lineage.py) from what each batch touched
since the last refresh and what each registered report reads. A report not affected is not
rendered at all: same bytes, no new version, file untouched.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.core.periods import Period
from urbanreport.ingest import batches
from urbanreport.ingest.batches import BatchResult
from urbanreport.ingest.http_source import Pull
from urbanreport.reports import build, lineage, registry

STATE_NAME = "refresh.json"


@dataclass
class RefreshResult:
    """What a refresh did: the files it loaded, the reports it rendered and why."""

    files: list[BatchResult] = field(default_factory=list)
    reasons: dict[str, list[str]] = field(default_factory=dict)  # report id → why
    rendered: list[build.ReportEntry] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rewritten(self) -> list[str]:
        """Ids of the reports whose files changed."""
        return [e.id for e in self.rendered if e.changed]


def _state_path(settings: Settings) -> Path:
    return Path(settings.reports_dir) / STATE_NAME


def _state(settings: Settings) -> dict[str, Any]:
    """What the previous refresh accounted for: the last batch id and the calendar's years."""
    try:
        return dict(json.loads(_state_path(settings).read_text("utf-8")))
    except FileNotFoundError:
        return {}


def last_seen(settings: Settings) -> int:
    """The last batch id the previous refresh accounted for (0: never refreshed)."""
    return int(_state(settings).get("last_batch_id", 0))


def _save(settings: Settings, batch_id: int, calendar: dict[str, str]) -> None:
    state = {"last_batch_id": batch_id, "calendar": calendar}
    text = json.dumps(state, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    registry.atomic_write(_state_path(settings), text.encode("utf-8"))


def entries(settings: Settings) -> list[dict[str, Any]]:
    """Every registered report's index entry, oldest fiscal year first."""
    out: list[dict[str, Any]] = []
    for year in sorted(registry.fiscal_years(settings.reports_dir)):
        out += list(registry.load_index(settings.reports_dir, year)["reports"].values())
    return out


def refresh(settings: Settings, pulled: Pull | None = None) -> RefreshResult:
    """Ingest new files (and a saved HTTP pull) and re-render the reports they affect, under
    the write lock; each affected report in every format the builder writes."""
    started = time.perf_counter()
    result = RefreshResult()
    with warehouse.exclusive(settings):
        loaded = batches.ingest_all(settings, pulled)
        result.files = [b for bs in loaded.values() for b in bs if not b.skipped]
        state = _state(settings)
        since = int(state.get("last_batch_id", 0))
        with warehouse.reader(settings) as con:
            newest = lineage.last_batch_id(con)
            touches = lineage.touches_since(con, since) if newest > since else []
            calendar = lineage.calendar_years(con)
        touches += lineage.calendar_touches(state.get("calendar") or {}, calendar)
        known = entries(settings)
        result.reasons = lineage.affected(known, touches) if touches else {}
        for entry in known:
            if entry["id"] in result.reasons:
                result.rendered.append(build.render(settings, Period.parse(entry["period"])))
        if newest != since or calendar != state.get("calendar"):
            _save(settings, newest, calendar)
    result.seconds = time.perf_counter() - started
    return result


def summary(result: RefreshResult) -> str:
    """What changed and why, in Markdown: the new files, then each report rendered again."""
    lines = ["## 新到文件 (new files)", ""]
    lines += [
        f"- {b.source} {b.file_name}：{b.status}，读取 {b.rows_read} 行，入库 {b.rows_loaded} 行，"
        f"拒收 {b.rows_rejected} 行"
        for b in result.files
    ] or ["- 无 (none)"]
    lines += ["", "## 重新生成的报告 (reports rendered again)", ""]
    changed = set(result.rewritten)
    for entry in result.rendered:
        state = "已更新" if entry.id in changed else "内容未变，未改写"
        lines.append(f"- {entry.title}（{state}）：" + "；".join(result.reasons.get(entry.id, [])))
    if not result.rendered:
        lines.append("- 无 (none)：没有报告受影响")
    lines += ["", f"用时 {result.seconds:.2f} 秒"]
    return "\n".join(lines)

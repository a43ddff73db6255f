"""What the pages and the JSON API say about a report, computed in one place for both.

Everything here works on a `ReportView` — the report as the asking principal may see it — so
a viewer's page and a viewer's JSON show the same versions, and neither shows the preview or
headline figures of a version the viewer may not see.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from urbanreport.core import formatting
from urbanreport.core.catalogue import Indicator
from urbanreport.portal import store
from urbanreport.portal.access import Principal, ReportView, view_of
from urbanreport.portal.responses import safe_ascii, safe_name
from urbanreport.portal.store import Report, Version

MONTH_NAMES = [f"{m}月" for m in range(1, 13)]


def visible_reports(reports_dir: Any, fiscal_year: int, who: Principal) -> list[ReportView]:
    """The fiscal year's reports this principal may see, annual first, months in order."""
    views = (view_of(r, who) for r in store.reports_of(reports_dir, fiscal_year))
    return [v for v in views if v is not None]


def find_view(
    reports_dir: Any, fiscal_year: int, report_id: str, who: Principal
) -> ReportView | None:
    report = store.find_report(reports_dir, fiscal_year, report_id)
    return view_of(report, who) if report is not None else None


#: How a card names each format.
FORMAT_LABELS = {"pdf": "PDF", "docx": "Word", "xlsx": "Excel"}


def download_path(report: Report, number: int | None = None, fmt: str = "pdf") -> str:
    path = f"/download/{report.fiscal_year}/{quote(report.id, safe='')}"
    path = path if number is None else f"{path}/versions/{number}"
    return path if fmt == "pdf" else f"{path}?format={fmt}"


def downloads(report: Report, version: Version, current: bool) -> list[dict[str, Any]]:
    """One link per file of a version (PDF · Word · Excel), for a card or the versions page."""
    number = None if current else version.number
    return [
        {
            "format": ref.format,
            "label": FORMAT_LABELS.get(ref.format, ref.format),
            "href": download_path(report, number, ref.format),
            "file_name": file_names(report, version, ref.format)[0],
            "sha256": ref.sha256,
            "size": ref.size,
        }
        for ref in version.files
    ]


def preview_path(report: Report) -> str:
    return f"/preview/{report.fiscal_year}/{quote(report.id, safe='')}"


def versions_path(report: Report) -> str:
    return f"/reports/{report.fiscal_year}/{quote(report.id, safe='')}/versions"


def file_names(report: Report, version: Version | None, fmt: str = "pdf") -> tuple[str, str]:
    """(Chinese, ASCII) download names; an older version says when it was made."""
    title = safe_name(report.title, report.id)
    ascii_stem = safe_ascii(
        report.ascii_name.removesuffix(".pdf") or f"urbanreport-{report.id}", "report"
    )
    if version is None or version.number == report.current_version:
        return f"{title}.{fmt}", f"{ascii_stem}.{fmt}"
    moment = store.parse_time(version.generated_at)
    stamp = moment.strftime("%Y%m%d-%H%M") if moment else f"v{version.number}"
    return f"{title}（{stamp}版）.{fmt}", f"{ascii_stem}-v{version.number}.{fmt}"


def figure_text(indicator: Indicator | None, value: Any) -> str:
    """A headline figure as the PDF prints it (the one formatter: ``936宗``, ``78.02%``, a null
    is 数据缺失); a key the catalogue does not know, or a value that is no number, as registered."""
    if value is None or value == "":
        return formatting.MISSING
    if indicator is None:
        return str(value)
    try:
        return formatting.figure(indicator, value)
    except (ValueError, TypeError, ArithmeticError):
        return f"{value}{indicator.unit}"


def headline_rows(report: Report, catalogue: dict[str, Indicator]) -> list[dict[str, Any]]:
    rows = []
    for key, value in report.headline.items():
        indicator = catalogue.get(key)
        rows.append(
            {
                "key": key,
                "name": indicator.name if indicator else key,
                "unit": indicator.unit if indicator else "",
                "value": value,
                "text": figure_text(indicator, value),
            }
        )
    return rows


def has_preview(reports_dir: Any, view: ReportView) -> bool:
    """Only the current file has a preview; a viewer shown an older version sees none."""
    report = view.report
    if not view.is_current or not report.preview:
        return False
    return store.resolve_registered(reports_dir, report.fiscal_year, report.preview) is not None


def state_label(version: Version) -> str:
    if version.published:
        return "已发布"
    return "已撤回发布" if version.publication is not None else "内部（未发布）"


def card(view: ReportView, reports_dir: Any, catalogue: dict[str, Indicator]) -> dict[str, Any]:
    """One report's card on a fiscal-year page."""
    report, shown = view.report, view.shown
    published_older = [v for v in report.versions if v.published]
    return {
        "title": report.title,
        "download": download_path(report),
        "downloads": downloads(report, shown, True),  # /download/… sends the shown version
        "versions": versions_path(report),
        "preview": preview_path(report) if has_preview(reports_dir, view) else None,
        "headline": headline_rows(report, catalogue) if view.is_current else [],
        "generated_at": shown.generated_at,
        "data_cutoff": report.data_cutoff if view.is_current else "",
        "size": shown.size,
        "older_count": len(view.older),
        "shown": shown,
        "state": state_label(shown),
        "published_older": published_older[0] if not shown.published and published_older else None,
    }


def version_rows(view: ReportView) -> list[dict[str, Any]]:
    """The versions page: the version shown first, then the older ones, newest first."""
    rows = []
    for version in (view.shown, *view.older):
        current = version is view.shown
        label = f"第{version.number}版"
        if current:
            label = f"{'当前版本' if view.is_current else '最新发布版本'}（{label}）"
        rows.append(
            {
                "version": version,
                "label": label,
                "current": current,
                "download": download_path(view.report, None if current else version.number),
                "downloads": downloads(view.report, version, current),
                "state": state_label(version),
            }
        )
    return rows


def report_json(view: ReportView, base: str, catalogue: dict[str, Indicator]) -> dict[str, Any]:
    report, shown = view.report, view.shown
    unicode_name, ascii_name = file_names(report, shown)
    return {
        "id": report.id,
        "fiscal_year": report.fiscal_year,
        "kind": report.kind,
        "period": report.period,
        "title": report.title,
        "state": store.PUBLISHED if shown.published else store.INTERNAL,
        "published_at": shown.publication.at if shown.published and shown.publication else None,
        "version": shown.number,
        "file_name": unicode_name,
        "ascii_name": ascii_name,
        "generated_at": shown.generated_at,
        "data_cutoff": report.data_cutoff if view.is_current else None,
        "data_updated_at": report.data_updated_at if view.is_current else None,
        "size": shown.size,
        "sha256": shown.sha256,
        "download_url": base + download_path(report),
        "files": _files_json(report, shown, base, True),
        "preview_url": base + preview_path(report) if view.is_current and report.preview else None,
        "versions_url": base + versions_path(report),
        "headline": [
            {k: row[k] for k in ("key", "name", "unit", "value", "text")}
            for row in (headline_rows(report, catalogue) if view.is_current else [])
        ],
        "versions": [
            {
                "version": v.number,
                "state": store.PUBLISHED if v.published else store.INTERNAL,
                "generated_at": v.generated_at,
                "size": v.size,
                "sha256": v.sha256,
                "download_url": base + download_path(report, v.number),
                "files": _files_json(report, v, base, False),
            }
            for v in view.older
        ],
    }


def _files_json(report: Report, version: Version, base: str, current: bool) -> list[dict]:
    """Every format of a version with its file name, sha256, size and absolute URL."""
    return [
        {
            "format": d["format"],
            "file_name": d["file_name"],
            "sha256": d["sha256"],
            "size": d["size"],
            "download_url": base + d["href"],
        }
        for d in downloads(report, version, current)
    ]

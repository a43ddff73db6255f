"""Deterministic sample extracts for every source, in the formats of the bureau's systems.

Why a sample at all: the pipeline, the reports and their tests need data that looks and misbehaves
like the bureau's real monthly extracts (GB18030 CSV from the penalty system, spreadsheets from
the permit system, a hand-kept Excel log, mixed date formats, Traditional street names, a
correction file arriving later, a few broken rows), while the district whose report the sample
reproduces gets its published figures exactly (see `calibration.toml`), so that a reader can
hold the sample report next to the original.

How it is built, and why:

* Streets, categories, items and every other dictionary come from the configuration, so the
  sample of another district carries that district's streets and names.
* Records are drawn per source and per "universe" year from a seed derived from
  (seed, source, year[, month]), so the bytes are the same on every run and adding a year to the
  request never changes the records of another year.
* A record is written into the monthly file of every month in which something happened to it,
  as it stood at that month's export (02:00 Asia/Shanghai on the 1st of the next month, which is
  also the file's mtime). Later files therefore carry later versions, which is what the
  contract's newest-file-wins rule expects.
* Only months of the requested years get files; records of neighbouring years that touch those
  months (a case filed in December and decided in January) are drawn from their own year's
  seed and appear in them.
* The deliberately bad rows (one per kind of refusal the contract names) are extra rows with keys
  of their own, so they never replace a good record and never count in a figure.

One module per source (`enforcement`, `permits`, `demolition`, `demolition_targets`,
`dcm_cases`, `legal_activities`); `common` holds the calendar, random and text helpers,
`workbook` the .xlsx writer, `run` the request and the file writer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from urbanreport.core.config import SOURCES, Settings
from urbanreport.sample import (
    dcm_cases,
    demolition,
    demolition_targets,
    enforcement,
    legal_activities,
    permits,
)
from urbanreport.sample.common import WorkCalendar
from urbanreport.sample.run import Run, Universe

__all__ = ["SOURCES", "write_sample"]

_MANIFEST = ".sample-manifest.json"

_UNIVERSES: dict[str, Universe] = {
    "enforcement": enforcement.universe,
    "permits": permits.universe,
    "demolition": demolition.universe,
    "legal_activities": legal_activities.universe,
}
#: In this order: a writer's records are dropped before the next one draws its own.
_WRITERS: tuple[Callable[[Run], None], ...] = (
    permits.write,
    enforcement.write,
    demolition.write,
    demolition_targets.write,
    dcm_cases.write,
    legal_activities.write,
)


def _planned_paths(run: Run) -> list[Path]:
    """Every file the run will write, known before writing any, to refuse a clash up front."""
    paths = [run.path(demolition_targets.SOURCE, demolition_targets.FILE_NAME)]
    monthly = {"permits": "xlsx", "enforcement": "csv", "demolition": "csv", "dcm_cases": "csv"}
    for source, ext in monthly.items():
        paths += [run.monthly_path(source, mi, ext) for mi in run.months]
    for year in run.years:
        paths.append(run.path(enforcement.SOURCE, enforcement.corrections_name(year)))
        paths.append(run.path(legal_activities.SOURCE, legal_activities.file_name(run, year)))
    return paths


def _previous_files(settings: Settings) -> list[Path]:
    """The files an earlier sample run wrote that are still exactly as written.

    Why size and mtime: the sample sets a fixed mtime, so a file replaced or edited since (by a
    clerk, or a real extract of the same name) no longer matches and is not the sample's to
    delete. Files the manifest does not list are never considered.
    """
    manifest = settings.inbox / _MANIFEST
    if not manifest.is_file():
        return []
    inbox = settings.inbox.resolve()
    ours = []
    for entry in json.loads(manifest.read_text(encoding="utf-8")).get("files", []):
        path = (inbox / entry["path"]).resolve()
        if path.parent.parent != inbox or path.parent.name not in SOURCES:
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if stat.st_size == entry["size"] and stat.st_mtime_ns == entry["mtime_ns"]:
            ours.append(path)
    return ours


def _save_manifest(run: Run) -> None:
    inbox = run.settings.inbox
    files = []
    for path in run.written:
        stat = path.stat()
        rel = path.relative_to(inbox).as_posix()
        files.append({"path": rel, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    doc = {
        "note": "urbanreport sample data: `urbanreport sample` deletes the files listed here",
        "years": run.years,
        "scale": run.scale,
        "seed": run.seed,
        "files": files,
    }
    inbox.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    (inbox / _MANIFEST).write_text(text + "\n", encoding="utf-8")


def _check_request(years: list[int], scale: int, seed: int) -> list[int]:
    wanted = sorted({int(y) for y in years})
    if not wanted:
        raise ValueError("请至少指定一个年份")
    if scale < 1:
        raise ValueError(f"规模必须是正整数：{scale}")
    if seed < 0:
        raise ValueError(f"随机种子不能为负数：{seed}")
    return wanted


def write_sample(
    settings: Settings, years: list[int], scale: int = 1, seed: int = 20231231
) -> list[Path]:
    """Write sample extracts of every source into `settings.inbox/<source>/`; return the paths.

    The same (configuration, years, scale, seed) always gives the same bytes and mtimes. At
    scale 1 the published district's calibrated year reproduces its published figures once
    corrections are applied and bad rows refused. Files written by an earlier run are removed
    first; any other file in the way is an error, never overwritten.
    """
    wanted = _check_request(years, scale, seed)
    calendar = WorkCalendar(wanted[0] - 2, wanted[-1] + 2)
    run = Run(settings, wanted, scale, seed, calendar, _UNIVERSES)
    previous = _previous_files(settings)
    ours = set(previous)
    clash = [p for p in _planned_paths(run) if p.exists() and p.resolve() not in ours]
    if clash:
        listed = "、".join(str(p.relative_to(settings.home)) for p in clash[:3])
        raise RuntimeError(
            f"收件箱中已有 {len(clash)} 个同名文件不是示例程序写入的（如 {listed}），"
            "示例数据不会覆盖它们：请先移走这些文件。"
        )
    for path in previous:
        path.unlink()
    (settings.inbox / _MANIFEST).unlink(missing_ok=True)
    try:
        for writer in _WRITERS:
            writer(run)
            run.forget()  # a source's records are not needed once its files are written
    finally:
        _save_manifest(run)
    return run.written

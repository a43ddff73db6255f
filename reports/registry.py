"""Report files on disk and their index: ``reports/<fy>/index.json``.

Why it is careful:

* The portal may be sending a PDF to a browser at the very moment a rerun replaces it, so every
  file (PDF, preview, index) is written to a temporary file in the same folder, fsynced and
  moved into place with ``os.replace``: a reader sees the old file or the new one, never half.
* A published report is a public record: when a rerun changes its bytes the previous file is kept
  under ``versions/`` (newest first in the index) instead of being overwritten.
* Identical bytes write nothing: rerunning an unchanged month leaves files, times and the index
  alone, so "changed" means something to the operator and the portal.

Index shape (the portal reads it; keep it exactly so)::

    {"fiscal_year": 2023,
     "reports": {"2023": {entry}, "2023-07": {entry}, ...}}

    entry = {"id", "kind", "period", "title", "file", "ascii_name", "sha256", "size",
             "generated_at", "data_cutoff", "data_updated_at", "headline", "reads", "preview",
             "formats": {"docx": {"file", "ascii_name", "sha256", "size"}, "xlsx": {...}},
             "versions": [{"file", "sha256", "size", "generated_at",
                           "formats": {"docx": {"file", "sha256", "size"}, ...}}, ...]}

The top-level file is the PDF; ``formats`` holds the Word and Excel files of the same render.
``reads`` is what the report was made from: per source, the date ranges of each column
(``{"enforcement": {"period": [start, end], "year_to_date": [...], ...}}``), so a refresh knows
which new data touches it (reports/lineage.py).

Paths in the index are relative to ``reports/<fy>/``.

Publication (written by the portal, see `set_publication`) sits beside ``reports`` and is keyed
by report id and file hash, so each version keeps its own state whatever happens to the entry;
a version without a record is internal::

    "publication": {"2023-annual": {"<sha256>": {"state": "published", "by", "at"}}}
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
INDEX_NAME = "index.json"
VERSIONS_DIR = "versions"
PREVIEWS_DIR = "previews"


# --- reading (the portal's side) ----------------------------------------------------------


def fiscal_years(reports_dir: Path) -> list[int]:
    """Fiscal years that have an index, newest first."""
    if not Path(reports_dir).is_dir():
        return []
    years = [
        int(p.name)
        for p in Path(reports_dir).iterdir()
        if p.is_dir() and p.name.isdigit() and (p / INDEX_NAME).is_file()
    ]
    return sorted(years, reverse=True)


def load_index(reports_dir: Path, fiscal_year: int) -> dict[str, Any]:
    """The index of one fiscal year; an empty one if nothing was rendered yet."""
    path = Path(reports_dir) / str(fiscal_year) / INDEX_NAME
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return {"fiscal_year": fiscal_year, "reports": {}}
    data.setdefault("fiscal_year", fiscal_year)
    data.setdefault("reports", {})
    return data


# --- writing ------------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def now_shanghai() -> datetime:
    return datetime.now(SHANGHAI).replace(microsecond=0)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers never see a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (a power cut must not resurrect the old index)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_index(reports_dir: Path, fiscal_year: int, index: Mapping[str, Any]) -> None:
    text = json.dumps(index, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
    atomic_write(Path(reports_dir) / str(fiscal_year) / INDEX_NAME, text.encode("utf-8"))


@contextlib.contextmanager
def year_lock(reports_dir: Path, fiscal_year: int) -> Iterator[None]:
    """Serialise writers of one fiscal year's folder (an annual and a monthly render at once)."""
    folder = Path(reports_dir) / str(fiscal_year)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _stamp(moment: str | None, fallback: Path) -> str:
    """``20240102T020000`` from an ISO time (or the file's mtime): names a kept version."""
    when: datetime | None = None
    if moment:
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(moment).astimezone(SHANGHAI)
    if when is None:
        when = datetime.fromtimestamp(fallback.stat().st_mtime, SHANGHAI)
    return when.strftime("%Y%m%dT%H%M%S")


def _file_sha(path: Path) -> str | None:
    try:
        return sha256_bytes(path.read_bytes())
    except FileNotFoundError:
        return None


def _keep_version(folder: Path, latest: Path, old: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keep the current latest file under versions/ (hard link when possible, else copy)."""
    generated = (old or {}).get("generated_at")
    stamp = _stamp(generated, latest)
    versions = folder / VERSIONS_DIR
    versions.mkdir(parents=True, exist_ok=True)
    target = versions / f"{latest.stem}_{stamp}{latest.suffix}"
    n = 1
    while target.exists():
        n += 1
        target = versions / f"{latest.stem}_{stamp}-{n}{latest.suffix}"
    data = latest.read_bytes()
    try:
        os.link(latest, target)
    except OSError:
        atomic_write(target, data)
    return {
        "file": target.relative_to(folder).as_posix(),
        "sha256": sha256_bytes(data),
        "size": len(data),
        "generated_at": generated
        or datetime.fromtimestamp(latest.stat().st_mtime, SHANGHAI)
        .replace(microsecond=0)
        .isoformat(),
    }


def _kept_formats(
    folder: Path, old: Mapping[str, Any] | None, generated: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Keep the old bundle's Word and Excel files under versions/ beside its PDF."""
    kept: dict[str, Any] = {}
    for fmt, info in ((old or {}).get("formats") or {}).items():
        path = folder / str(info.get("file", ""))
        if info.get("file") and path.is_file():
            version = _keep_version(folder, path, generated)
            kept[fmt] = {k: version[k] for k in ("file", "sha256", "size")}
    return kept


def _same_bundle(folder: Path, old: Mapping[str, Any] | None, shas: Mapping[str, str]) -> bool:
    """True when the index and the disk already hold exactly these bytes for every format."""
    if not old or old.get("sha256") != shas["pdf"]:
        return False
    if _file_sha(folder / str(old.get("file", ""))) != shas["pdf"]:
        return False
    registered = old.get("formats") or {}
    if set(registered) != set(shas) - {"pdf"}:
        return False
    return all(
        info.get("sha256") == shas[fmt] and _file_sha(folder / str(info.get("file"))) == shas[fmt]
        for fmt, info in registered.items()
    )


def publish(
    reports_dir: Path,
    fiscal_year: int,
    meta: Mapping[str, Any],
    pdf_bytes: bytes,
    make_preview: Callable[[bytes], bytes],
    generated_at: datetime | None = None,
    others: Mapping[str, bytes] | None = None,
) -> tuple[dict[str, Any], bool]:
    """Register one rendered report (its PDF and any other formats): ``(entry, changed)``.

    ``meta`` carries id, kind, period, title, file name, ascii_name, data_cutoff,
    data_updated_at and headline. ``others`` maps a format (``docx``, ``xlsx``) to its bytes;
    each is stored beside the PDF under the PDF's name with its own suffix.

    One render is one version: the files of a report change together. Same bytes for every
    format → nothing is written and ``changed`` is False. Any difference → the old files move to
    ``versions/`` as one version (the PDF's hash keys its publication state, and the version
    lists its other files under ``formats``), the new files become latest, the preview and the
    index are rewritten.
    """
    folder = Path(reports_dir) / str(fiscal_year)
    others = dict(others or {})
    shas = {"pdf": sha256_bytes(pdf_bytes)} | {f: sha256_bytes(b) for f, b in others.items()}
    sha = shas["pdf"]
    with year_lock(reports_dir, fiscal_year):
        index = load_index(reports_dir, fiscal_year)
        period = str(meta["period"])
        old = index["reports"].get(period)
        latest = folder / str(meta["file"])
        preview = folder / PREVIEWS_DIR / (Path(str(meta["ascii_name"])).stem + ".png")
        if _same_bundle(folder, old, shas):
            if not preview.is_file():
                atomic_write(preview, make_preview(pdf_bytes))
            if old and meta.get("reads") and old.get("reads") != meta["reads"]:
                index["reports"][period] = old = {**old, "reads": meta["reads"]}
                write_index(reports_dir, fiscal_year, index)
            return dict(old or {}), False

        versions = list((old or {}).get("versions") or [])
        on_disk = _file_sha(latest)
        old_formats = (old or {}).get("formats") or {}
        replaced = any(shas.get(f) != i.get("sha256") for f, i in old_formats.items())
        if on_disk is not None and (on_disk != sha or replaced):
            kept = _keep_version(folder, latest, old)
            formats = _kept_formats(folder, old, old)
            versions.insert(0, kept | ({"formats": formats} if formats else {}))
        if on_disk != sha:
            atomic_write(latest, pdf_bytes)
        files: dict[str, Any] = {}
        for fmt, data in sorted(others.items()):
            path = latest.with_suffix(f".{fmt}")
            if _file_sha(path) != shas[fmt]:
                atomic_write(path, data)
            files[fmt] = {
                "file": path.relative_to(folder).as_posix(),
                "ascii_name": str(Path(str(meta["ascii_name"])).with_suffix(f".{fmt}")),
                "sha256": shas[fmt],
                "size": len(data),
            }
        atomic_write(preview, make_preview(pdf_bytes))
        moment = (generated_at or now_shanghai()).astimezone(SHANGHAI).replace(microsecond=0)
        entry = {
            "id": meta["id"],
            "kind": meta["kind"],
            "period": period,
            "title": meta["title"],
            "file": latest.relative_to(folder).as_posix(),
            "ascii_name": meta["ascii_name"],
            "sha256": sha,
            "size": len(pdf_bytes),
            "generated_at": moment.isoformat(),
            "data_cutoff": meta["data_cutoff"],
            "data_updated_at": meta.get("data_updated_at"),
            "headline": meta.get("headline") or {},
            "reads": meta.get("reads") or {},
            "preview": preview.relative_to(folder).as_posix(),
            "versions": versions,
        }
        if files:
            entry["formats"] = files
        index["fiscal_year"] = fiscal_year
        index["reports"][period] = entry
        # Annual first, then months in calendar order: the portal lists them as they are.
        index["reports"] = dict(
            sorted(index["reports"].items(), key=lambda kv: (len(kv[0]), kv[0]))
        )
        write_index(reports_dir, fiscal_year, index)
        return entry, True


# --- publication state (written by the portal) ----------------------------------------------

PUBLICATION = "publication"


def publication_record(
    index: Mapping[str, Any], report_id: str, sha256: str
) -> Mapping[str, Any] | None:
    """The publication record of one version (by its file hash), or None: internal."""
    record = (index.get(PUBLICATION) or {}).get(report_id, {}).get(sha256)
    return record if isinstance(record, Mapping) else None


def set_publication(
    reports_dir: Path, fiscal_year: int, report_id: str, sha256: str, record: Mapping[str, Any]
) -> bool:
    """Record a version's state (``{"state": "published"|"internal", "by", "at"}``).

    False when no registered version of that report has this hash. Keyed by hash, so a rerun
    that changes the bytes starts internal, and `publish` above needs no change to keep it.
    """
    with year_lock(reports_dir, fiscal_year):
        index = load_index(reports_dir, fiscal_year)
        entry = next((e for e in index["reports"].values() if e.get("id") == report_id), None)
        hashes = {(entry or {}).get("sha256")}
        hashes |= {v.get("sha256") for v in (entry or {}).get("versions") or []}
        if entry is None or not sha256 or sha256 not in hashes:
            return False
        index.setdefault(PUBLICATION, {}).setdefault(report_id, {})[sha256] = dict(record)
        write_index(reports_dir, fiscal_year, index)
        return True

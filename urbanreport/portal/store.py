"""The portal's view of the report registry, and the only way it opens a file.

It reads the registry, and writes one thing to it: the publishing state of a version.

Why this module exists: a download portal that turns URLs into paths is one typo away from
serving ``/etc/passwd``. Here a URL never becomes a path. A report is looked up by fiscal year
and id in ``reports/<fy>/index.json`` (written by the report builder); only the path *registered*
there is used, and only after it has been resolved (symlinks included) and found to be a regular
file inside the reports folder. The file is then opened once, and everything the client is told
about it (size, hash, date) comes from that open descriptor, so a report regenerated while
someone downloads it (the builder writes a temp file and renames it over the old one) reaches
them whole, old or new, never mixed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from urbanreport.core.clock import SHANGHAI
from urbanreport.reports import registry

log = logging.getLogger(__name__)


# --- the registry --------------------------------------------------------------------------


def load_index(reports_dir: Path, fiscal_year: int) -> dict[str, Any]:
    """The raw index of one fiscal year, or ``{}`` when it is absent or unreadable.

    Read through the builder's registry, the one definition of the index format. A broken
    index is logged, not raised: one bad year must not take the whole portal down.
    """
    try:
        data = registry.load_index(reports_dir, fiscal_year)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError):
        log.exception("无法读取 %s 年度的报告索引", fiscal_year)
        return {}
    return data if isinstance(data, dict) else {}


def fiscal_years(reports_dir: Path) -> list[int]:
    """Fiscal years that have an index, newest first."""
    try:
        years = [int(y) for y in registry.fiscal_years(reports_dir)]
    except (OSError, ValueError, TypeError):
        log.exception("无法列出报告目录 %s", reports_dir)
        return []
    return sorted(set(years), reverse=True)


PUBLISHED = "published"
INTERNAL = "internal"


@dataclass(frozen=True)
class Publication:
    """The last publishing decision on one version: who set which state, and when."""

    state: str  # PUBLISHED | INTERNAL (withdrawn)
    by: str
    at: str


#: The formats of a report, in the order a card offers them, with their media types.
FORMATS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class FileRef:
    """One file of a version: its format, registered path, hash and size."""

    format: str
    file: str
    sha256: str
    size: int


def _file_refs(raw: Any) -> tuple[FileRef, ...]:
    """The Word and Excel files of an index entry or version (``formats``), in card order."""
    if not isinstance(raw, dict):
        return ()
    refs = [
        FileRef(fmt, _str(info.get("file")), _str(info.get("sha256")), _int(info.get("size")))
        for fmt in FORMATS
        if fmt != "pdf" and isinstance(info := raw.get(fmt), dict) and info.get("file")
    ]
    return tuple(refs)


@dataclass(frozen=True)
class Version:
    """One version of a report: the current file or an older one.

    ``number`` counts from the oldest retained version (1), so a version's URL does not change
    when a newer one is added in front of it. Without a publication record it is internal.
    """

    number: int
    file: str
    sha256: str
    size: int
    generated_at: str
    publication: Publication | None = None
    others: tuple[FileRef, ...] = ()  # the Word and Excel files made with this PDF

    @property
    def published(self) -> bool:
        return self.publication is not None and self.publication.state == PUBLISHED

    @property
    def files(self) -> tuple[FileRef, ...]:
        """Every file of this version, the PDF first (its hash keys the publication state)."""
        return (FileRef("pdf", self.file, self.sha256, self.size), *self.others)

    def file_of(self, fmt: str) -> FileRef | None:
        return next((f for f in self.files if f.format == fmt), None)


@dataclass(frozen=True)
class Report:
    """One registered report, as the portal shows it."""

    fiscal_year: int
    id: str
    kind: str
    period: str
    title: str
    file: str
    ascii_name: str
    sha256: str
    size: int
    generated_at: str
    data_cutoff: str
    data_updated_at: str
    headline: dict[str, Any] = field(default_factory=dict)
    preview: str | None = None
    versions: tuple[Version, ...] = ()  # older ones, newest first, as registered
    publication: Publication | None = None  # of the current file
    others: tuple[FileRef, ...] = ()  # the current Word and Excel files

    @property
    def month(self) -> int | None:
        """The month of a monthly brief (``2023-07`` → 7), else None."""
        _, _, month = self.period.partition("-")
        return int(month) if month.isdigit() else None

    @property
    def current_version(self) -> int:
        """The number the current file would have in the version list."""
        return len(self.versions) + 1

    @property
    def current(self) -> Version:
        return Version(
            self.current_version,
            self.file,
            self.sha256,
            self.size,
            self.generated_at,
            self.publication,
            self.others,
        )

    def version(self, number: int) -> Version | None:
        """An older version by number (the current file is reached without a number)."""
        for version in self.versions:
            if version.number == number:
                return version
        return None


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _publication(index: dict[str, Any], report_id: str, sha256: str) -> Publication | None:
    record = registry.publication_record(index, report_id, sha256) if sha256 else None
    if record is None:
        return None
    state = PUBLISHED if record.get("state") == PUBLISHED else INTERNAL
    return Publication(state, _str(record.get("by")), _str(record.get("at")))


def _versions(index: dict[str, Any], report_id: str, raw: dict[str, Any]) -> tuple[Version, ...]:
    raw_versions = raw.get("versions") or []
    if not isinstance(raw_versions, list):
        raw_versions = []
    usable = [v for v in raw_versions if isinstance(v, dict) and v.get("file")]
    total = len(usable)
    return tuple(
        Version(
            number=total - i,
            file=_str(v["file"]),
            sha256=_str(v.get("sha256")),
            size=_int(v.get("size")),
            generated_at=_str(v.get("generated_at")),
            publication=_publication(index, report_id, _str(v.get("sha256"))),
            others=_file_refs(v.get("formats")),
        )
        for i, v in enumerate(usable)
    )


def _parse_report(index: dict[str, Any], fiscal_year: int, key: str, raw: Any) -> Report | None:
    """A `Report` from one index entry, or None (logged) if it lacks what serving needs."""
    if not isinstance(raw, dict) or not raw.get("id") or not raw.get("file"):
        log.warning("%s 年度索引中的条目 %r 缺少 id 或 file，已忽略", fiscal_year, key)
        return None
    report_id = _str(raw["id"])
    headline = raw.get("headline")
    period = _str(raw.get("period") or key)
    kind = _str(raw.get("kind") or ("monthly" if "-" in period else "annual"))
    return Report(
        fiscal_year=fiscal_year,
        id=report_id,
        kind=kind,
        period=period,
        title=_str(raw.get("title") or raw["id"]),
        file=_str(raw["file"]),
        ascii_name=_str(raw.get("ascii_name")),
        sha256=_str(raw.get("sha256")),
        size=_int(raw.get("size")),
        generated_at=_str(raw.get("generated_at")),
        data_cutoff=_str(raw.get("data_cutoff")),
        data_updated_at=_str(raw.get("data_updated_at")),
        headline=dict(headline) if isinstance(headline, dict) else {},
        preview=_str(raw.get("preview")) or None,
        versions=_versions(index, report_id, raw),
        publication=_publication(index, report_id, _str(raw.get("sha256"))),
        others=_file_refs(raw.get("formats")),
    )


def reports_of(reports_dir: Path, fiscal_year: int) -> list[Report]:
    """The fiscal year's registered reports: the annual report first, then months in order."""
    index = load_index(reports_dir, fiscal_year)
    entries = index.get("reports") or {}
    if not isinstance(entries, dict):
        return []
    reports = [
        r for key, raw in entries.items() if (r := _parse_report(index, fiscal_year, str(key), raw))
    ]
    return sorted(reports, key=lambda r: (r.kind != "annual", r.month or 0, r.period))


def find_report(reports_dir: Path, fiscal_year: int, report_id: str) -> Report | None:
    """The report with this id in this fiscal year's index (exact match), or None."""
    for report in reports_of(reports_dir, fiscal_year):
        if report.id == report_id:
            return report
    return None


def record_publication(
    reports_dir: Path, report: Report, version: Version, publication: Publication
) -> bool:
    """Write a version's state to the registry; False if that version is no longer there."""
    record = {"state": publication.state, "by": publication.by, "at": publication.at}
    return registry.set_publication(
        reports_dir, report.fiscal_year, report.id, version.sha256, record
    )


# --- opening registered files safely ---------------------------------------------------------


def resolve_registered(reports_dir: Path, fiscal_year: int, relative: str) -> Path | None:
    """The real path of a file registered in ``reports/<fy>/index.json``, or None.

    None when the path escapes the reports folder once symlinks are resolved (``../``, an
    absolute path, a symlink to elsewhere), when it does not exist, or when it is not a regular
    file. The check is done on the registered value, never on anything taken from a URL.
    """
    if not relative or "\x00" in relative:
        return None
    try:
        root = reports_dir.resolve(strict=True)
        resolved = (reports_dir / str(fiscal_year) / relative).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root) or resolved == root:
        return None
    try:
        if not stat.S_ISREG(resolved.stat().st_mode):
            return None
    except OSError:
        return None
    return resolved


@dataclass
class OpenFile:
    """A registered file opened once; whoever holds it must `close` it (or hand it on)."""

    fd: int
    size: int
    mtime: float
    sha256: str
    path: Path

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)


_HASH_CACHE: OrderedDict[tuple[int, int, int, int], str] = OrderedDict()
_HASH_CACHE_LOCK = threading.Lock()
_HASH_CACHE_SIZE = 512
_READ_BLOCK = 1 << 20


def _sha256_of(fd: int, st: os.stat_result) -> str:
    """SHA-256 of the open file, cached per inode and modification time.

    Hashing what is actually sent (instead of trusting the index) keeps the ETag honest in the
    moment between the builder renaming a new PDF into place and rewriting the index. The
    builder never rewrites a file in place, so (device, inode, size, mtime) identifies content.
    """
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    with _HASH_CACHE_LOCK:
        cached = _HASH_CACHE.get(key)
        if cached is not None:
            _HASH_CACHE.move_to_end(key)
            return cached
    digest = hashlib.sha256()
    offset = 0
    while offset < st.st_size:
        block = os.pread(fd, min(_READ_BLOCK, st.st_size - offset), offset)
        if not block:
            raise OSError(f"文件在读取时变短：{offset}/{st.st_size} 字节")
        digest.update(block)
        offset += len(block)
    value = digest.hexdigest()
    with _HASH_CACHE_LOCK:
        _HASH_CACHE[key] = value
        while len(_HASH_CACHE) > _HASH_CACHE_SIZE:
            _HASH_CACHE.popitem(last=False)
    return value


def open_file(path: Path) -> OpenFile | None:
    """Open a trusted or already-resolved path read-only; None unless it is a regular file.

    ``O_NONBLOCK`` keeps a FIFO planted in the folder from hanging the request in ``open``;
    ``O_NOFOLLOW`` refuses a final component swapped for a symlink since it was resolved.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            return None
        sha = _sha256_of(fd, st)
    except OSError:
        os.close(fd)
        return None
    return OpenFile(fd=fd, size=st.st_size, mtime=st.st_mtime, sha256=sha, path=path)


def open_registered(reports_dir: Path, fiscal_year: int, relative: str) -> OpenFile | None:
    """Resolve, check and open a registered file; None means "answer 404"."""
    path = resolve_registered(reports_dir, fiscal_year, relative)
    if path is None:
        return None
    return open_file(path)


# --- times and sizes as the pages show them ---------------------------------------------------


def parse_time(text: str) -> datetime | None:
    """An ISO timestamp as Beijing time (naive values are taken to be Beijing time already)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(SHANGHAI)


def format_time(text: str) -> str:
    moment = parse_time(text)
    return moment.strftime("%Y-%m-%d %H:%M") if moment else (text or "—")


def format_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"

"""Which files of an inbox folder are extracts: all of them, except what office programs and
file managers leave behind.

Why "all": a file the clerk dropped that is not loaded must be named, never ignored, so every
file, in every subfolder, becomes a batch (refused with its reason when it is no extract).
Only temporary and hidden files are skipped quietly: Office's `~$name.xlsx` owner files and
`~WRL….tmp` copies, LibreOffice's `.~lock.name#`, hidden files and folders (`.DS_Store`,
macOS's `__MACOSX/` in archives) and Windows' `Thumbs.db` / `desktop.ini`.
"""

from __future__ import annotations

from pathlib import Path

from urbanreport.core.config import SOURCES, Settings

_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})


def quietly_skipped(relative: str) -> bool:
    """A temporary, hidden or system file (`relative` may hold folders, `/` or `\\`)."""
    parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    if not parts:
        return True
    return (
        any(p.startswith((".", "~")) or p == "__MACOSX" for p in parts)
        or parts[-1].lower() in _SYSTEM_FILES
    )


def inbox_name(settings: Settings, source: str, path: Path) -> str:
    """How a batch names an inbox file: its path below the source's folder."""
    try:
        return path.relative_to(settings.source_inbox(source)).as_posix()
    except ValueError:
        return path.name


def discover_files(settings: Settings, source: str) -> list[Path]:
    """Inbox files of a source in load order: modification time, then name."""
    folder = settings.source_inbox(source)
    if not folder.is_dir():
        return []
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not quietly_skipped(p.relative_to(folder).as_posix())
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, inbox_name(settings, source, p)))


def discover_sources(settings: Settings) -> list[str]:
    """Sources with an inbox folder (all of them once `urbanreport sample` ran)."""
    return [s for s in SOURCES if settings.source_inbox(s).is_dir()]

"""The draft check (核对文稿) as the portal runs it: periods offered, the check itself, the
annotated copy's name, and what the audit log may say about an upload.

An upload is checked in memory and dropped when the answer is sent; nothing of it is written
by the portal. Why the annotated copy is made by a second upload of the same file rather than
kept for a later download: the copy holds the whole draft (names, parties, case details), and
keeping it on the server, even in memory for minutes, is keeping the upload. The page runs no
script, so the browser cannot resend the file by itself; the editor picks it once more, and the
check runs again on what is sent. A hash of the checked file travels in the page's form, so a
different file picked by mistake is refused instead of silently annotated.

While the form is parsed, Starlette holds a file part over 1 MB in an unnamed temporary file
(no directory entry; gone when closed); the route closes the form as soon as it has the bytes.

Never logged or audited: the draft's text, its figures, its file name. The audit entry names
the file by a keyed hash of its name (the same name gives the same hash, but the hash cannot
be guessed back from a list of likely names without the portal's key) and its size.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath

import duckdb

from urbanreport.check import CheckResult, DraftRefused, Limits, check_bytes
from urbanreport.check.annotate import annotated_bytes
from urbanreport.check.compare import VERDICT_NAMES
from urbanreport.core import clock
from urbanreport.core.config import Settings
from urbanreport.core.periods import Period
from urbanreport.core.warehouse import CatalogUnavailable, CommitConflict, WarehouseBusy
from urbanreport.portal import store
from urbanreport.portal.responses import safe_ascii, safe_name

log = logging.getLogger(__name__)

#: What the file picker offers; the content decides what a file is (`check.readers`).
ACCEPT = ".docx,.docm,.txt,.pdf"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

NO_FILE = "请选择要核对的文稿文件（.docx、.txt 或 .pdf）。 (Choose a draft to check.)"
NO_WAREHOUSE = (
    "数据仓库尚未建立，暂时无法核对。请管理员先导入数据（urbanreport ingest）。"
    " (There is no warehouse yet.)"
)
WAREHOUSE_UNAVAILABLE = (
    "数据仓库暂时无法读取（可能正在更新），请稍后重试。 (The warehouse is busy; try again later.)"
)
FAILED = (
    "核对未能完成（内部错误），请稍后重试或联系管理员。文稿内容未被保存。"
    " (The check failed; nothing of the draft was kept.)"
)
NOT_WORD = (
    "批注副本只能为 Word（.docx）文稿生成；此文稿的核对结果见下表。"
    " (Annotated copies are for Word drafts.)"
)
NOTHING_TO_MARK = (
    "文稿中没有与库内数值不一致的数字，无需批注副本。 (No mismatches: nothing to annotate.)"
)
OTHER_FILE = (
    "所选文件与刚才核对的不是同一份。请选择同一文件，或重新核对。 (Not the file that was checked.)"
)


class CheckFailed(Exception):
    """A check that cannot give a result, with the page's message and the audit's reason."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason


# --- periods --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodGroup:
    label: str
    options: tuple[tuple[str, str], ...]  # (value for Period.parse, label)


def report_years(reports_dir: Path, now: datetime) -> list[int]:
    """Fiscal years with at least one registered report, newest first; with none yet, the
    fiscal year of last month (in January, the year just ended)."""
    years = [y for y in store.fiscal_years(reports_dir) if store.reports_of(reports_dir, y)]
    return years or [int(clock.previous_month(now)[:4])]


def period_choices(years: list[int]) -> list[PeriodGroup]:
    """Each year as a whole, then each year's months: a draft speaks of one or the other."""
    groups = [PeriodGroup("年度", tuple((str(y), f"{y}年度") for y in years))]
    for y in years:
        months = tuple((f"{y}-{m:02d}", f"{y}年{m}月") for m in range(1, 13))
        groups.append(PeriodGroup(f"{y}年月度", months))
    return groups


def parse_period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise CheckFailed(400, f"统计期无效：{exc} (invalid period)", "统计期无效") from None


# --- the check --------------------------------------------------------------------------------


def run_check(settings: Settings, data: bytes, name: str, period: Period) -> CheckResult:
    """The check of an upload, or `CheckFailed` with words for the page (never a traceback)."""
    if not data:
        raise CheckFailed(400, NO_FILE, "未选择文件")
    try:
        return check_bytes(settings, data, name, period)
    except DraftRefused as exc:
        raise CheckFailed(400, str(exc), exc.reason) from None
    except FileNotFoundError:
        log.warning("文稿核对：数据仓库不存在")
        raise CheckFailed(503, NO_WAREHOUSE, "数据仓库不存在") from None
    except (WarehouseBusy, CatalogUnavailable, CommitConflict, duckdb.IOException) as exc:
        # IOException: the file is locked by a writer (an ingest running right now).
        log.warning("文稿核对：数据仓库不可读（%s）", type(exc).__name__)
        raise CheckFailed(503, WAREHOUSE_UNAVAILABLE, "数据仓库不可读") from None
    except Exception as exc:  # noqa: BLE001 - the page says so; the log keeps the place
        _log_failure(exc)
        raise CheckFailed(500, FAILED, "内部错误") from None


def annotated(settings: Settings, data: bytes, result: CheckResult) -> bytes:
    """The Word draft with each mismatch marked (`check.annotate`); the upload is not changed."""
    if result.draft.format != "docx":
        raise CheckFailed(400, NOT_WORD, "不是 Word 文稿")
    try:
        return annotated_bytes(data, result, Limits.from_settings(settings))
    except DraftRefused as exc:
        raise CheckFailed(400, str(exc), exc.reason) from None
    except Exception as exc:  # noqa: BLE001
        _log_failure(exc)
        raise CheckFailed(500, FAILED, "内部错误") from None


def _log_failure(exc: BaseException) -> None:
    """Where the check broke: the exception's type and the code's frames, not its message,
    which could quote a piece of the draft."""
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("文稿核对出错：%s（文稿内容不记录）\n%s", type(exc).__name__, frames)


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- names, for the download and for the audit log --------------------------------------------


def base_name(filename: str | None) -> str:
    """The file's own name, whatever path a browser or a script sent with it."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    return name.strip() or "文稿"


def annotated_names(filename: str) -> tuple[str, str]:
    """(Chinese, ASCII) names of the annotated copy: 原名（核对批注）.docx (a .docm's copy has
    no macros, so it is a .docx too)."""
    name = base_name(filename)
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    chinese = safe_name(f"{stem}（核对批注）", "文稿（核对批注）")
    return f"{chinese}.docx", f"{safe_ascii(stem, 'draft')}-annotated.docx"


def audit_object(key: bytes, filename: str, size: int) -> str:
    """文稿 名称散列 3f9a1c2b7d4e（24 KB）: which upload, without its name or content."""
    digest = hmac.new(key, base_name(filename).encode(), hashlib.sha256).hexdigest()[:12]
    return f"文稿 名称散列 {digest}（{store.format_size(size)}）"


def audit_detail(result: CheckResult, *, copy: bool = False) -> str:
    counts = "，".join(f"{VERDICT_NAMES[k]} {n}" for k, n in result.summary.items())
    what = "批注副本" if copy else "核对"
    return f"{what}：{result.draft.format}，统计期 {result.period.label}；{counts}"

"""The HTTP pull of the digital city-management platform (数字城管平台): watermark, paging, retries.

Why the pull writes a file instead of inserting rows itself: there is one load path for every
source. The pull saves exactly what the platform sent as a JSON Lines file under
`<home>/pulls/dcm_cases/` (an audit trail the bureau can show when a figure is questioned) and
hands that file to the same loader the inbox files use, so HTTP records are validated, rejected
and merged by the same SQL. The loader advances the watermark in the transaction that merges
the batch, so a failed or interrupted pull never moves it: the next pull simply asks again.

Why the pull touches no warehouse: it can take minutes (paging, retries with back-off), and the
warehouse has one writer. The caller reads the watermark, pulls with the write lock released,
then loads the saved file under the lock (`urbanreport.ingest.batches.ingest_pull`).

The bearer token never appears in logs or exception messages; errors name the URL instead.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import duckdb

from urbanreport.core import clock
from urbanreport.core.clock import SHANGHAI, local_naive
from urbanreport.core.config import Settings

if TYPE_CHECKING:  # imported where a pull runs: an ingest of files never loads it (18 MB)
    import httpx

log = logging.getLogger(__name__)

SOURCE = "dcm_cases"

# What "everything" means when there is no watermark: the parameter is always sent, because the
# platform's interface documents it as part of every request.
EARLIEST = datetime(1970, 1, 1)

# Back-off doubles per attempt; the cap keeps a long retry series from stalling a monthly run.
MAX_BACKOFF_SECONDS = 60.0

# 429 is a 4xx, but it means "come back later", not "your request is wrong": retry it like a 5xx.
RETRY_STATUSES = frozenset({429})

BODY_EXCERPT_CHARS = 200


class HttpSourceError(RuntimeError):
    """The platform could not be read (bad answer, or still failing after all retries).

    A RuntimeError so the command line prints it as a message rather than a traceback.
    """

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class HttpSourceAuthError(HttpSourceError):
    """401/403: retrying cannot help, the operator must fix the token."""


# --- time helpers ---------------------------------------------------------------------------


def format_since(value: datetime) -> str:
    """ISO 8601 with the +08:00 offset, so the platform cannot misread local time as UTC.

    Microseconds are kept when present: truncating them would make a strict "newer than" query
    return the watermark record again on every pull.
    """
    return local_naive(value).replace(tzinfo=SHANGHAI).isoformat()


def parse_updated_at(value: Any) -> datetime | None:
    """An item's `updated_at` as naive local time, or None when absent or unreadable.

    Accepts what `datetime.fromisoformat` reads (offsets, `Z`, a space instead of `T`); a value
    without offset is already local time. Unreadable values are left for the loader to reject.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return local_naive(datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


# --- HTTP -----------------------------------------------------------------------------------


def _display_url(base_url: str, params: dict[str, Any]) -> str:
    """The request URL for messages, without any user:password a base URL might carry."""
    import httpx

    url = httpx.URL(base_url.rstrip("/") + "/cases")
    if url.userinfo:
        url = url.copy_with(userinfo=b"")
    return f"{url}?{urlencode(params)}"


def _excerpt(text: str, token: str) -> str:
    """A short single-line piece of a response body; the token is masked should a server echo it."""
    short = " ".join(text.split())[:BODY_EXCERPT_CHARS]
    return short.replace(token, "***") if token else short


def _get_page(
    client: httpx.Client,
    base_url: str,
    token: str,
    params: dict[str, Any],
    *,
    max_retries: int,
    backoff_seconds: float,
    sleep: Callable[[float], None],
) -> dict[str, Any]:
    """One page as parsed JSON, retrying what may be transient (timeouts, network, 5xx, 429)."""
    import httpx

    url = base_url.rstrip("/") + "/cases"
    shown = _display_url(base_url, params)
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    attempts = max(0, int(max_retries)) + 1
    last_problem = ""
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            delay = min(float(backoff_seconds) * 2 ** (attempt - 2), MAX_BACKOFF_SECONDS)
            log.warning(
                "数字城管平台请求失败，%.1f 秒后重试（第 %d/%d 次）：%s — retrying %s",
                delay,
                attempt,
                attempts,
                last_problem,
                shown,
            )
            sleep(delay)
        try:
            response = client.get(url, params=params, headers=headers)
        except httpx.TimeoutException:
            last_problem = "timeout"
            continue
        except httpx.TransportError as exc:
            # The class name says enough (ConnectError, ReadError, ...) and carries no secrets.
            last_problem = f"network error ({type(exc).__name__})"
            continue
        status = response.status_code
        if status in (401, 403):
            hint = (
                "the platform refused the configured token"
                if token
                else "no token is configured (set URBANREPORT_DCM_TOKEN or [http] token)"
            )
            raise HttpSourceAuthError(
                f"数字城管平台拒绝访问（HTTP {status}），请检查访问令牌（URBANREPORT_DCM_TOKEN"
                f" 或配置 [http] token）。 HTTP {status} from {shown}: {hint}; "
                "check the bearer token. Not retried.",
                url=shown,
                status=status,
            )
        if status >= 500 or status in RETRY_STATUSES:
            last_problem = f"HTTP {status}"
            continue
        if status >= 400:
            raise HttpSourceError(
                f"数字城管平台返回错误 HTTP {status}。 HTTP {status} from {shown}: "
                f"{_excerpt(response.text, token)!r}",
                url=shown,
                status=status,
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise HttpSourceError(
                "数字城管平台的应答不是预期的 JSON（应含 items 列表）。 Unexpected answer from "
                f'{shown} (HTTP {status}), expected {{"items": [...], "next_page": ...}}: '
                f"{_excerpt(response.text, token)!r}",
                url=shown,
                status=status,
            )
        return body
    raise HttpSourceError(
        f"数字城管平台请求 {attempts} 次均失败（最后一次：{last_problem}）。 Gave up on {shown} "
        f"after {attempts} attempts; last problem: {last_problem}.",
        url=shown,
    )


def fetch_pages(
    client: httpx.Client,
    base_url: str,
    token: str,
    since: datetime,
    page_size: int,
    *,
    max_retries: int,
    backoff_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, Any]]:
    """Yield every item updated after `since`, page by page, starting at page 1.

    Each page is retried on its own (up to `max_retries` retries after the first attempt, with
    back-off `backoff_seconds * 2**k`), so one glitch late in a long pull does not restart it.
    A `next_page` that does not move forward is refused rather than followed for ever.
    """
    since_text = format_since(since)
    page = 1
    while True:
        params = {"updated_since": since_text, "page": page, "page_size": page_size}
        body = _get_page(
            client,
            base_url,
            token,
            params,
            max_retries=max_retries,
            backoff_seconds=backoff_seconds,
            sleep=sleep,
        )
        items = body["items"]
        log.info(
            "数字城管平台第 %d 页：%d 条 (page %d: %d items)", page, len(items), page, len(items)
        )
        for item in items:
            if not isinstance(item, dict):
                raise HttpSourceError(
                    f"数字城管平台第 {page} 页含有非对象条目。 Page {page} from "
                    f"{_display_url(base_url, params)} holds an item that is not a JSON object.",
                    url=_display_url(base_url, params),
                )
            yield item
        next_page = body.get("next_page")
        if next_page is None:
            return
        if isinstance(next_page, bool) or not isinstance(next_page, int) or next_page <= page:
            raise HttpSourceError(
                f"数字城管平台的分页无效（next_page={next_page!r}）。 Page {page} from "
                f"{_display_url(base_url, params)} names next_page={next_page!r}, which does not "
                "move forward.",
                url=_display_url(base_url, params),
            )
        page = next_page


# --- watermark and the pull -----------------------------------------------------------------


def current_watermark(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The highest `updated_at` loaded so far for the writer's district (naive Asia/Shanghai
    time), None before any pull."""
    row = con.execute(
        "SELECT updated_at FROM http_watermarks"
        " WHERE district = getvariable('ur_district') AND source = ?",
        [SOURCE],
    ).fetchone()
    return row[0] if row else None


def _pull_path(directory: Path, started: datetime, count: int) -> Path:
    """`<YYYYmmddTHHMMSS>-<n>.jsonl`; a `-2`, `-3`… suffix only so an audit file is never lost."""
    stem = f"{started:%Y%m%dT%H%M%S}-{count}"
    path = directory / f"{stem}.jsonl"
    k = 2
    while path.exists():
        path = directory / f"{stem}-{k}.jsonl"
        k += 1
    return path


@dataclass(frozen=True)
class Pull:
    """A saved pull: the audit file, and the watermark its batch moves to once it commits."""

    path: Path
    watermark: datetime | None


def pull(
    settings: Settings,
    watermark: datetime | None,
    *,
    full_refresh: bool = False,
    since: datetime | None = None,
) -> Pull | None:
    """Pull what changed on the platform since `watermark` and save it under pulls/.

    Returns None when the HTTP source is not configured (empty base URL) or nothing newer
    arrived; no file is written then. Without a watermark (first pull) the start is `since`,
    else everything. `full_refresh` ignores the watermark: it pulls from `since` if given, else
    everything. The watermark never moves backwards (the loader keeps the greater of the stored
    and the new value), so re-pulling old records cannot make the next pull ask for them again.
    """
    base_url = settings.http_base_url
    if not base_url:
        log.info("数字城管平台未配置，跳过HTTP拉取 (HTTP source not configured)")
        return None
    http = settings["http"]
    start = (None if full_refresh else watermark) or since or EARLIEST
    log.info(
        "数字城管平台拉取开始：updated_since=%s%s (pull started)",
        format_since(start),
        "（全量）" if full_refresh else "",
    )

    import httpx

    started = local_naive(clock.now())
    directory = settings.home / "pulls" / SOURCE
    directory.mkdir(parents=True, exist_ok=True)
    # Hidden temp name in the same directory: the rename is atomic, and nothing that lists
    # `*.jsonl` ever sees a half-written pull.
    tmp = directory / f".{started:%Y%m%dT%H%M%S}-{os.getpid()}.jsonl.tmp"
    count = 0
    max_seen: datetime | None = None
    try:
        with (
            httpx.Client(timeout=http["timeout_seconds"]) as client,
            tmp.open("w", encoding="utf-8", newline="\n") as fh,
        ):
            for item in fetch_pages(
                client,
                base_url,
                settings.http_token,
                start,
                int(http["page_size"]),
                max_retries=int(http["max_retries"]),
                backoff_seconds=float(http["backoff_seconds"]),
            ):
                fh.write(json.dumps(item, ensure_ascii=False) + "\n")
                count += 1
                seen = parse_updated_at(item.get("updated_at"))
                if seen is not None and (max_seen is None or seen > max_seen):
                    max_seen = seen
            fh.flush()
            os.fsync(fh.fileno())
        if count == 0:
            tmp.unlink()
            log.info("数字城管平台没有新数据 (nothing newer than the watermark)")
            return None
        path = _pull_path(directory, started, count)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

    if max_seen is None:
        log.warning(
            "拉取的 %d 条数据均无可读的 updated_at，水位线不变 (no readable updated_at: "
            "watermark unchanged)",
            count,
        )
    if max_seen is not None and max_seen > started + timedelta(days=1):
        log.warning(
            "updated_at %s 晚于当前时间，水位线将随之前移，之后更早的更新不会再被拉取；"
            "如需重置请删除 http_watermarks 中 dcm_cases 一行 (updated_at lies in the future: "
            "later pulls will miss earlier updates until that watermark row is deleted)",
            max_seen.isoformat(),
        )
    log.info(
        "数字城管平台拉取完成：%d 条，保存为 %s，水位线 %s (pull saved)",
        count,
        path.name,
        max_seen.isoformat() if max_seen else "不变",
    )
    return Pull(path, max_seen)

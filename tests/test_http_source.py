"""The HTTP pull against a fake platform on 127.0.0.1: paging, watermark, retries, auth.

Why a real HTTP server rather than a mocked client: timeouts, closed connections and headers are
exactly what the pull must survive, and only a socket produces them faithfully.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from urbanreport.core.config import Settings, load_settings
from urbanreport.ingest.batches import BatchResult, ingest_pull
from urbanreport.ingest.http_source import (
    HttpSourceAuthError,
    HttpSourceError,
    current_watermark,
    fetch_pages,
    format_since,
    parse_updated_at,
    pull,
)

TOKEN = "s3cret-token-Zq9"
EARLY = datetime(2000, 1, 1)


def dcm_item(n: int, updated_at: str, **changes: Any) -> dict[str, Any]:
    """A valid dcm_cases item; `n` makes the case id, `updated_at` drives the watermark."""
    item: dict[str, Any] = {
        "case_id": f"DCM202307{n:06d}",
        "source": "12345热线",
        "case_class": "事件",
        "category": "街面秩序",
        "subcategory": "占道经营",
        "street": "金霞街道",
        "reported_at": "2023-07-05 09:12:00",
        "registered_at": "2023-07-05 09:40:00",
        "dispatched_at": "2023-07-05 10:00:00",
        "deadline_at": "2023-07-05 18:00:00",
        "disposed_at": "2023-07-05 15:00:00",
        "closed_at": "2023-07-05 16:00:00",
        "rework_count": 0,
        "updated_at": updated_at,
    }
    item.update(changes)
    return item


# --- the fake platform ----------------------------------------------------------------------


@dataclass
class FakePlatform:
    """State shared with the request handler: records, scripted failures, requests seen."""

    items: list[dict[str, Any]] = field(default_factory=list)
    token: str = TOKEN
    # Consumed one per request: an int status to answer with, "slow" (sleep, then answer) or
    # None (answer normally).
    script: list[int | str | None] = field(default_factory=list)
    slow_seconds: float = 1.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def since_seen(self) -> list[str]:
        return [r["query"].get("updated_since", "") for r in self.requests]


def _make_handler(platform: FakePlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test): nothing to answer

        def do_GET(self) -> None:
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query).items()}
            with platform.lock:
                platform.requests.append(
                    {
                        "path": split.path,
                        "query": query,
                        "authorization": self.headers.get("Authorization"),
                    }
                )
                step = platform.script.pop(0) if platform.script else None
            if self.headers.get("Authorization") != f"Bearer {platform.token}":
                self._send(401, {"error": "unauthorized"})
                return
            if isinstance(step, int):
                self._send(step, {"error": f"scripted {step}"})
                return
            if step == "slow":
                time.sleep(platform.slow_seconds)
            if split.path != "/api/cases":
                self._send(404, {"error": "no such endpoint"})
                return
            since = datetime.fromisoformat(query["updated_since"])
            page = int(query.get("page", "1"))
            size = int(query.get("page_size", "100"))
            newer = sorted(
                (i for i in platform.items if datetime.fromisoformat(i["updated_at"]) > since),
                key=lambda i: datetime.fromisoformat(i["updated_at"]),
            )
            chunk = newer[(page - 1) * size : page * size]
            more = page * size < len(newer)
            self._send(200, {"items": chunk, "next_page": page + 1 if more else None})

    return Handler


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    state = FakePlatform()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    host, port = server.server_address[:2]
    state.url = f"http://{host}:{port}/api"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's own configuration must not leak into the tests."""
    for name in ("URBANREPORT_CONFIG", "URBANREPORT_DCM_URL", "URBANREPORT_DCM_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _fetch(
    platform: FakePlatform, *, since: datetime = EARLY, page_size: int = 2, **kw: Any
) -> tuple[list[dict[str, Any]], list[float]]:
    """Run fetch_pages to the end with a recording sleep; return (items, sleeps)."""
    sleeps: list[float] = []
    timeout = kw.pop("timeout", 5.0)
    token = kw.pop("token", TOKEN)
    with httpx.Client(timeout=timeout) as client:
        items = list(
            fetch_pages(
                client,
                platform.url,
                token,
                since,
                page_size,
                max_retries=kw.pop("max_retries", 3),
                backoff_seconds=kw.pop("backoff_seconds", 0.5),
                sleep=sleeps.append,
            )
        )
    return items, sleeps


# --- fetch_pages ----------------------------------------------------------------------------


def test_fetch_pages_follows_next_page_across_pages(platform: FakePlatform) -> None:
    platform.items = [dcm_item(n, f"2023-07-0{n}T10:00:00+08:00") for n in range(1, 8)]

    items, sleeps = _fetch(platform, page_size=3)

    assert [i["case_id"] for i in items] == [f"DCM202307{n:06d}" for n in range(1, 8)]
    assert [r["query"]["page"] for r in platform.requests] == ["1", "2", "3"]
    assert {r["query"]["page_size"] for r in platform.requests} == {"3"}
    assert {r["authorization"] for r in platform.requests} == {f"Bearer {TOKEN}"}
    assert {r["path"] for r in platform.requests} == {"/api/cases"}
    assert sleeps == []


def test_fetch_pages_sends_since_with_shanghai_offset(platform: FakePlatform) -> None:
    _fetch(platform, since=datetime(2023, 7, 5, 16, 0, 0))
    assert platform.since_seen() == ["2023-07-05T16:00:00+08:00"]


def test_fetch_pages_retries_503_and_timeout_with_backoff(platform: FakePlatform) -> None:
    platform.items = [dcm_item(1, "2023-07-01T10:00:00+08:00")]
    platform.script = [503, 503, "slow"]
    platform.slow_seconds = 1.0

    items, sleeps = _fetch(platform, timeout=0.2, max_retries=3, backoff_seconds=0.5)

    assert [i["case_id"] for i in items] == ["DCM202307000001"]
    assert len(platform.requests) == 4  # 503, 503, timed out, success
    assert sleeps == [0.5, 1.0, 2.0]  # exponential back-off before each retry


def test_fetch_pages_gives_up_after_max_retries(platform: FakePlatform) -> None:
    platform.script = [500] * 10

    with pytest.raises(HttpSourceError) as info:
        _fetch(platform, max_retries=2, backoff_seconds=0.1)

    message = str(info.value)
    assert len(platform.requests) == 3
    assert "3 attempts" in message and "3 次" in message
    assert "HTTP 500" in message
    assert TOKEN not in message


def test_fetch_pages_retries_connection_errors_then_gives_up() -> None:
    # A port that was free a moment ago and has no listener: connection refused.
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = server.server_address[1]
    server.server_close()
    sleeps: list[float] = []
    with httpx.Client(timeout=2.0) as client, pytest.raises(HttpSourceError) as info:
        list(
            fetch_pages(
                client,
                f"http://127.0.0.1:{port}",
                TOKEN,
                EARLY,
                10,
                max_retries=2,
                backoff_seconds=0.25,
                sleep=sleeps.append,
            )
        )
    assert sleeps == [0.25, 0.5]
    assert "3 attempts" in str(info.value)
    assert "ConnectError" in str(info.value)
    assert TOKEN not in str(info.value)


def test_fetch_pages_401_fails_at_once_without_token_in_message(
    platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    with pytest.raises(HttpSourceAuthError) as info:
        _fetch(platform, token="wrong-" + TOKEN)

    message = str(info.value)
    assert len(platform.requests) == 1
    assert info.value.status == 401
    assert "401" in message
    assert "令牌" in message and "token" in message
    assert f"{platform.url}/cases" in message
    assert TOKEN not in message
    assert TOKEN not in caplog.text


def test_fetch_pages_403_is_an_auth_error_too(platform: FakePlatform) -> None:
    platform.script = [403]
    with pytest.raises(HttpSourceAuthError) as info:
        _fetch(platform)
    assert info.value.status == 403
    assert len(platform.requests) == 1


def test_fetch_pages_other_4xx_names_status_and_body(platform: FakePlatform) -> None:
    platform.script = [400]
    with pytest.raises(HttpSourceError) as info:
        _fetch(platform)
    assert not isinstance(info.value, HttpSourceAuthError)
    assert "HTTP 400" in str(info.value)
    assert "scripted 400" in str(info.value)
    assert len(platform.requests) == 1


def test_fetch_pages_refuses_a_next_page_that_does_not_advance() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [], "next_page": 1})

    with (
        httpx.Client(transport=httpx.MockTransport(answer)) as client,
        pytest.raises(HttpSourceError, match="next_page"),
    ):
        list(
            fetch_pages(
                client, "http://127.0.0.1:9", TOKEN, EARLY, 10, max_retries=0, backoff_seconds=0
            )
        )


def test_time_helpers_use_shanghai_wall_time() -> None:
    assert format_since(datetime(2023, 7, 5, 16, 0)) == "2023-07-05T16:00:00+08:00"
    assert format_since(datetime(2023, 7, 5, 16, 0, 0, 500000)).endswith(".500000+08:00")
    assert format_since(datetime.fromisoformat("2023-07-05T08:00:00Z")) == (
        "2023-07-05T16:00:00+08:00"
    )
    assert parse_updated_at("2023-07-05T08:00:00Z") == datetime(2023, 7, 5, 16, 0)
    assert parse_updated_at("2023-07-05T16:00:00+08:00") == datetime(2023, 7, 5, 16, 0)
    assert parse_updated_at("2023-07-05 16:00:00") == datetime(2023, 7, 5, 16, 0)
    assert parse_updated_at("not a time") is None
    assert parse_updated_at(None) is None


# --- pulls loaded into the warehouse ----------------------------------------------------------


def pull_dcm_cases(con: Any, settings: Settings, **options: Any) -> BatchResult | None:
    """Pull from the connection's watermark and load the saved file, as `ingest_all` does."""
    return ingest_pull(con, settings, pull(settings, current_watermark(con), **options))


def _settings(tmp_path: Path, base_url: str, **http: Any) -> Settings:
    """Settings for a data directory whose override file points at the fake platform."""
    values = {
        "base_url": base_url,
        "token": TOKEN,
        "page_size": 2,
        "timeout_seconds": 5,
        "max_retries": 3,
        "backoff_seconds": 0.01,
    }
    values.update(http)
    lines = ["[http]"] + [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    (tmp_path / "urbanreport.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_settings(home=tmp_path)


def _pull_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "pulls" / "dcm_cases").glob("*"))


def test_not_configured_returns_none(tmp_path: Path) -> None:
    from urbanreport.core.warehouse import writer

    settings = _settings(tmp_path, "")
    with writer(settings) as con:
        assert pull_dcm_cases(con, settings) is None
    assert not (tmp_path / "pulls").exists()


def test_pull_reads_url_and_token_from_environment(
    tmp_path: Path, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urbanreport.core.warehouse import writer

    platform.items = [dcm_item(1, "2023-07-01T10:00:00+08:00")]
    settings = _settings(tmp_path, "", token="")
    monkeypatch.setenv("URBANREPORT_DCM_URL", platform.url + "/")  # a trailing slash is fine
    monkeypatch.setenv("URBANREPORT_DCM_TOKEN", TOKEN)
    with writer(settings) as con:
        result = pull_dcm_cases(con, settings)
    assert result is not None and result.rows_loaded == 1
    assert platform.requests[0]["path"] == "/api/cases"


def test_pull_loads_pages_and_sets_watermark(
    tmp_path: Path, platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    from urbanreport.core.warehouse import writer

    caplog.set_level(logging.DEBUG)
    platform.items = [dcm_item(n, f"2023-07-0{n}T10:00:00+08:00") for n in range(1, 8)]
    settings = _settings(tmp_path, platform.url)

    with writer(settings) as con:
        result = pull_dcm_cases(con, settings)
        assert result is not None
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (7, 7, 0)
        assert con.execute("SELECT count(*) FROM dcm_cases").fetchone() == (7,)
        assert current_watermark(con) == datetime(2023, 7, 7, 10, 0)

    assert len(platform.requests) == 4  # 7 items at 2 a page
    assert platform.since_seen()[0] == "1970-01-01T00:00:00+08:00"
    files = _pull_files(tmp_path)
    assert len(files) == 1 and files[0].name.endswith("-7.jsonl")  # no temp file left behind
    lines = files[0].read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == platform.items
    assert TOKEN not in caplog.text


def test_second_pull_asks_only_for_newer_items(tmp_path: Path, platform: FakePlatform) -> None:
    from urbanreport.core.warehouse import writer

    platform.items = [dcm_item(n, f"2023-07-0{n}T10:00:00+08:00") for n in range(1, 6)]
    settings = _settings(tmp_path, platform.url)
    with writer(settings) as con:
        pull_dcm_cases(con, settings)

        platform.requests.clear()
        platform.items += [
            dcm_item(6, "2023-07-08T09:00:00+08:00"),
            dcm_item(2, "2023-07-08T11:30:00+08:00", rework_count=1),  # a corrected case
        ]
        result = pull_dcm_cases(con, settings)

        assert platform.since_seen()[0] == "2023-07-05T10:00:00+08:00"
        assert result is not None
        assert (result.rows_read, result.rows_loaded) == (2, 2)
        assert con.execute("SELECT count(*) FROM dcm_cases").fetchone() == (6,)
        assert con.execute(
            "SELECT rework_count FROM dcm_cases WHERE case_id = 'DCM202307000002'"
        ).fetchall() == [(1,)]
        assert current_watermark(con) == datetime(2023, 7, 8, 11, 30)

        # Nothing newer: no file, no batch, watermark unchanged.
        files_before = _pull_files(tmp_path)
        assert pull_dcm_cases(con, settings) is None
        assert _pull_files(tmp_path) == files_before
        assert platform.since_seen()[-1] == "2023-07-08T11:30:00+08:00"
        assert current_watermark(con) == datetime(2023, 7, 8, 11, 30)


def test_full_refresh_ignores_the_watermark(tmp_path: Path, platform: FakePlatform) -> None:
    from urbanreport.core.warehouse import writer

    platform.items = [dcm_item(n, f"2023-07-0{n}T10:00:00+08:00") for n in range(1, 5)]
    settings = _settings(tmp_path, platform.url)
    with writer(settings) as con:
        pull_dcm_cases(con, settings)
        platform.requests.clear()

        result = pull_dcm_cases(con, settings, full_refresh=True)
        assert platform.since_seen()[0] == "1970-01-01T00:00:00+08:00"
        # Everything came again, byte for byte what the first pull saved: the loader skips it,
        # but the audit trail still shows the full answer.
        assert result is not None and result.skipped
        files = [f for f in _pull_files(tmp_path) if f.name != result.file_name]
        assert len(files) == 1
        assert (tmp_path / "pulls" / "dcm_cases" / result.file_name).read_bytes() == (
            files[0].read_bytes()
        )

        platform.requests.clear()
        result = pull_dcm_cases(con, settings, full_refresh=True, since=datetime(2023, 7, 2, 12, 0))
        assert platform.since_seen()[0] == "2023-07-02T12:00:00+08:00"
        assert result is not None and result.rows_read == 2
        assert con.execute("SELECT count(*) FROM dcm_cases").fetchone() == (4,)
        assert current_watermark(con) == datetime(2023, 7, 4, 10, 0)


def test_pull_retries_then_loads(tmp_path: Path, platform: FakePlatform) -> None:
    from urbanreport.core.warehouse import writer

    platform.items = [dcm_item(n, f"2023-07-0{n}T10:00:00+08:00") for n in range(1, 4)]
    platform.script = [503, 503]
    settings = _settings(tmp_path, platform.url)
    with writer(settings) as con:
        result = pull_dcm_cases(con, settings)
        assert result is not None and result.rows_loaded == 3
    assert len(platform.requests) == 4  # 2 failures + 2 pages


def test_failed_pull_writes_nothing_and_keeps_the_watermark(
    tmp_path: Path, platform: FakePlatform
) -> None:
    from urbanreport.core.warehouse import writer

    platform.items = [dcm_item(n, f"2023-07-0{n}T10:00:00+08:00") for n in range(1, 4)]
    settings = _settings(tmp_path, platform.url, max_retries=1)
    with writer(settings) as con:
        pull_dcm_cases(con, settings)
        files_before = _pull_files(tmp_path)

        platform.items += [dcm_item(n, f"2023-07-1{n}T10:00:00+08:00") for n in range(4, 8)]
        platform.script = [None, 500, 500]  # page 1 fine, page 2 fails twice
        with pytest.raises(HttpSourceError, match="2 attempts"):
            pull_dcm_cases(con, settings)

        assert _pull_files(tmp_path) == files_before  # neither a new file nor a temp file
        assert current_watermark(con) == datetime(2023, 7, 3, 10, 0)
        assert con.execute("SELECT count(*) FROM dcm_cases").fetchone() == (3,)


def test_pull_401_fails_at_once(tmp_path: Path, platform: FakePlatform) -> None:
    from urbanreport.core.warehouse import writer

    platform.items = [dcm_item(1, "2023-07-01T10:00:00+08:00")]
    platform.token = "the-platform-expects-another-token"
    settings = _settings(tmp_path, platform.url)
    with writer(settings) as con, pytest.raises(HttpSourceAuthError) as info:
        pull_dcm_cases(con, settings)
    assert len(platform.requests) == 1
    assert TOKEN not in str(info.value)
    assert _pull_files(tmp_path) == []


def test_pull_rejects_bad_rows_and_moves_past_them(tmp_path: Path, platform: FakePlatform) -> None:
    """A rejected row is recorded (not lost) and does not hold the watermark back."""
    from urbanreport.core.warehouse import writer

    platform.items = [
        dcm_item(1, "2023-07-02T02:00:00Z"),  # UTC: 10:00 in Shanghai
        dcm_item(2, "2023-07-03T10:00:00+08:00", street="不存在街道"),
    ]
    settings = _settings(tmp_path, platform.url)
    with writer(settings) as con:
        result = pull_dcm_cases(con, settings)
        assert result is not None
        assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
        assert con.execute("SELECT case_id, updated_at FROM dcm_cases").fetchall() == [
            ("DCM202307000001", datetime(2023, 7, 2, 10, 0))
        ]
        assert con.execute(
            "SELECT row_number, column_name FROM rejects WHERE source = 'dcm_cases'"
        ).fetchall() == [(2, "street")]
        assert current_watermark(con) == datetime(2023, 7, 3, 10, 0)

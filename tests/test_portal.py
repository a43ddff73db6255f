"""The report portal: pages, downloads, revalidation, the JSON API, and what it refuses to serve.

These run in the open demo mode (no account yet, a loopback client), where the portal behaves
as it always did; `test_portal_access.py` runs the same routes behind sign-in, role by role.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from fastapi.testclient import TestClient

from tests.portal_helpers import (
    ANNUAL_TITLE,
    DEJAVU,
    LOOPBACK,
    TEST_ACTOR,
    Site,
    add_staff,
    build_site,
    fixed_fonts,
    live_server,
    make_app,
    make_pdf,
    raw_get,
    report_entry,
    security_for,
    security_of,
    sha256,
)
from urbanreport.core import catalogue, formatting
from urbanreport.core.config import Settings
from urbanreport.portal import server, store, views
from urbanreport.portal.app import create_app

# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _no_portal_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("URBANREPORT_PORTAL_TOKEN", "URBANREPORT_PORTAL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path)


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(make_app(site), client=LOOPBACK) as c:
        yield c


# --- pages --------------------------------------------------------------------------------------


def test_index_lists_fiscal_years(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    body = r.text
    assert body.index("2023年度") < body.index("2022年度"), "newest year first"
    assert 'href="/reports/2023"' in body
    assert "<b>7</b> / 12" in body
    assert "汕头市龙湖区城市管理和综合执法局" in body
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_fiscal_year_page(client: TestClient) -> None:
    r = client.get("/reports/2023")
    assert r.status_code == 200
    body = r.text
    assert ANNUAL_TITLE in body
    assert body.count("尚未生成") == 5  # August to December
    assert "2023年7月城市管理执法数据简报" in body
    # headline figures by their catalogue names, printed as the PDF prints them
    assert "处罚案件数" in body and "936宗" in body
    assert "罚款金额" in body and "3009408元" in body
    assert "重大执法决定法制审核率" in body and "100%" in body
    assert "95.12%" in body
    assert "数据缺失" in body  # a null figure
    assert "not.in.catalogue" in body and ">0.5<" in body
    assert 'href="/download/2023/2023-annual"' in body
    assert 'src="/preview/2023/2023-annual"' in body
    assert 'href="/reports/2023/2023-annual/versions"' in body
    assert "历史版本（2）" in body
    assert "2024-01-05 10:30" in body  # generated_at, Beijing time
    assert "2023-12-31" in body  # data cut-off


def test_unknown_fiscal_year_is_404(client: TestClient) -> None:
    r = client.get("/reports/2019")
    assert r.status_code == 404
    assert "没有 2019 年度的报告" in r.text
    assert client.get("/reports/abc").status_code == 404


def test_versions_page(client: TestClient) -> None:
    r = client.get("/reports/2023/2023-annual/versions")
    assert r.status_code == 200
    assert "当前版本（第3版）" in r.text
    assert 'href="/download/2023/2023-annual/versions/2"' in r.text
    assert 'href="/download/2023/2023-annual/versions/1"' in r.text
    assert client.get("/reports/2023/2099-annual/versions").status_code == 404


def test_broken_index_does_not_break_the_portal(site: Site, client: TestClient) -> None:
    (site.reports / "2022" / "index.json").write_text("{not json", "utf-8")
    assert client.get("/").status_code == 200
    assert client.get("/reports/2023").status_code == 200
    assert client.get("/download/2022/2022-annual").status_code == 404


# --- downloads ----------------------------------------------------------------------------------


def test_download_headers_and_body(site: Site, client: TestClient) -> None:
    pdf = site.files["2023/2023-annual.pdf"]
    r = client.get("/download/2023/2023-annual")
    assert r.status_code == 200
    assert r.content == pdf
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-length"] == str(len(pdf))
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="urbanreport-2023-annual.pdf"' in disposition
    assert f"filename*=UTF-8''{quote(ANNUAL_TITLE + '.pdf', safe='')}" in disposition
    disposition.encode("ascii")  # a header must be ASCII: the Chinese name is percent-encoded
    assert r.headers["etag"] == f'"{sha256(pdf)}"'
    mtime = (site.reports / "2023" / "2023-annual.pdf").stat().st_mtime
    assert parsedate_to_datetime(r.headers["last-modified"]).timestamp() == int(mtime)
    digest = base64.b64encode(hashlib.sha256(pdf).digest()).decode()
    assert r.headers["repr-digest"] == f"sha-256=:{digest}:"


def test_download_older_version(site: Site, client: TestClient) -> None:
    r = client.get("/download/2023/2023-annual/versions/1")
    assert r.status_code == 200
    assert r.content == site.files["2023/versions/2023-annual-v1.pdf"]
    disposition = r.headers["content-disposition"]
    assert 'filename="urbanreport-2023-annual-v1.pdf"' in disposition
    assert quote(f"{ANNUAL_TITLE}（20240101-0900版）.pdf", safe="") in disposition
    for number in ("0", "3", "99", "-1", "x"):
        assert client.get(f"/download/2023/2023-annual/versions/{number}").status_code == 404


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ],
)
def test_word_and_excel_download_with_their_chinese_names(
    site: Site, client: TestClient, fmt: str, media_type: str
) -> None:
    r = client.get("/download/2023/2023-annual", params={"format": fmt})
    assert r.status_code == 200
    assert r.content == site.files[f"2023/2023-annual.{fmt}"]
    assert r.headers["content-type"] == media_type
    disposition = r.headers["content-disposition"]
    assert f'filename="urbanreport-2023-annual.{fmt}"' in disposition
    assert f"filename*=UTF-8''{quote(f'{ANNUAL_TITLE}.{fmt}', safe='')}" in disposition
    old = client.get("/download/2023/2023-annual/versions/1", params={"format": fmt})
    assert old.content == site.files[f"2023/versions/2023-annual-v1.{fmt}"]
    assert (
        quote(f"{ANNUAL_TITLE}（20240101-0900版）.{fmt}", safe="")
        in (old.headers["content-disposition"])
    )


def test_card_and_versions_page_offer_every_format(client: TestClient) -> None:
    page = client.get("/reports/2023").text
    for fmt, label in (("pdf", "PDF"), ("docx", "Word"), ("xlsx", "Excel")):
        assert f'data-format="{fmt}">下载 {label}</a>' in page
    assert 'href="/download/2023/2023-annual?format=docx"' in page
    versions = client.get("/reports/2023/2023-annual/versions").text
    assert versions.count('data-format="xlsx"') == 3  # current and two older versions
    assert 'href="/download/2023/2023-annual/versions/1?format=docx"' in versions


def test_head_sends_headers_only(site: Site, client: TestClient) -> None:
    r = client.head("/download/2023/2023-annual")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == str(len(site.files["2023/2023-annual.pdf"]))
    for path in ("/", "/reports/2023", "/api/reports", "/healthz"):  # monitors use HEAD
        assert client.head(path).status_code == 200, path


def test_revalidation_answers_304(client: TestClient) -> None:
    first = client.get("/download/2023/2023-annual")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    url = "/download/2023/2023-annual"
    for headers in (
        {"if-none-match": etag},
        {"if-none-match": f"W/{etag}"},
        {"if-none-match": f'"other", {etag}'},
        {"if-none-match": "*"},
        {"if-modified-since": last_modified},
        {"if-modified-since": formatdate(time.time() + 3600, usegmt=True)},
    ):
        r = client.get(url, headers=headers)
        assert r.status_code == 304, headers
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert r.headers["last-modified"] == last_modified
    for headers in (
        {"if-none-match": '"stale"'},
        {"if-modified-since": "Thu, 01 Jan 2015 00:00:00 GMT"},
        {"if-modified-since": "not a date"},
        # If-None-Match decides when both are present (RFC 9110 §13.2.2)
        {"if-none-match": '"stale"', "if-modified-since": last_modified},
    ):
        r = client.get(url, headers=headers)
        assert r.status_code == 200, headers
        assert r.content.startswith(b"%PDF")


def test_preview_is_served_as_png(site: Site, client: TestClient) -> None:
    r = client.get("/preview/2023/2023-annual")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.content == site.files["2023/previews/2023-annual.png"]


def test_missing_report_is_404(site: Site, client: TestClient) -> None:
    for path in (
        "/download/2023/2023-09-monthly",  # not generated yet
        "/download/2021/2021-annual",  # no such fiscal year
        "/download/2023/2022-annual",  # another year's report
        "/download/2023/2023-annual.pdf",  # ids are not file names
        "/preview/2023/2023-09-monthly",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "未找到" in r.text
    # registered, but the file has gone
    (site.reports / "2023" / "2023-07-monthly.pdf").unlink()
    assert client.get("/download/2023/2023-07-monthly").status_code == 404


def test_fonts_and_stylesheet(client: TestClient) -> None:
    css = client.get("/static/portal.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "@font-face" in css.text and 'url("../fonts/sans.ttf")' in css.text
    again = client.get("/static/portal.css", headers={"if-none-match": css.headers["etag"]})
    assert again.status_code == 304
    font = client.get("/fonts/sans.ttf")
    assert font.status_code == 200
    assert font.headers["content-type"] == "font/ttf"
    assert font.content == DEJAVU.read_bytes()
    assert client.get("/fonts/serif.ttf").status_code == 200
    assert client.get("/fonts/mono.ttf").status_code == 404
    assert client.get("/static/app.py").status_code == 404


def test_no_font_means_404_not_error(site: Site) -> None:
    with TestClient(
        create_app(site.settings(), font_resolver=fixed_fonts(None)), client=LOOPBACK
    ) as c:
        assert c.get("/fonts/sans.ttf").status_code == 404
        assert c.get("/reports/2023").status_code == 200


def test_server_error_shows_no_traceback(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("secret internal detail /srv/whatever")

    monkeypatch.setattr(store, "reports_of", boom)
    app = create_app(site.settings(), font_resolver=fixed_fonts())
    with TestClient(app, raise_server_exceptions=False, client=LOOPBACK) as c:
        for path, json_api in (("/reports/2023", False), ("/api/reports?fiscal_year=2023", True)):
            r = c.get(path)
            assert r.status_code == 500
            assert "secret internal detail" not in r.text
            assert "Traceback" not in r.text
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
            if json_api:
                assert r.json() == {"detail": "服务器内部错误，请稍后重试或联系管理员。"}
            else:
                assert "服务器内部错误" in r.text


# --- JSON API -----------------------------------------------------------------------------------


def test_api_lists_reports_with_absolute_urls(site: Site, client: TestClient) -> None:
    r = client.get("/api/reports", params={"fiscal_year": 2023})
    assert r.status_code == 200
    body = r.json()
    assert body["fiscal_year"] == 2023
    assert body["fiscal_years"] == [2023, 2022]
    ids = [item["id"] for item in body["reports"]]
    assert ids == ["2023-annual"] + [f"2023-{m:02d}-monthly" for m in range(1, 8)]
    assert body["missing_periods"] == [f"2023-{m:02d}" for m in range(8, 13)]
    annual = body["reports"][0]
    assert annual["download_url"] == "http://testserver/download/2023/2023-annual"
    assert annual["preview_url"] == "http://testserver/preview/2023/2023-annual"
    assert annual["file_name"] == ANNUAL_TITLE + ".pdf"
    assert annual["sha256"] == sha256(site.files["2023/2023-annual.pdf"])
    assert annual["data_cutoff"] == "2023-12-31"
    assert annual["headline"][0] == {
        "key": "enforcement.penalty_cases",
        "name": "处罚案件数",
        "unit": "宗",
        "value": 936,
        "text": "936宗",
    }
    assert [v["version"] for v in annual["versions"]] == [2, 1]
    assert annual["versions"][1]["download_url"].endswith("/download/2023/2023-annual/versions/1")
    assert [f["format"] for f in annual["files"]] == ["pdf", "docx", "xlsx"]
    for item in annual["files"]:
        data = site.files[f"2023/2023-annual.{item['format']}"]
        assert item["sha256"] == sha256(data)
        assert item["file_name"] == f"{ANNUAL_TITLE}.{item['format']}"
        assert client.get(item["download_url"]).content == data
    assert [f["format"] for f in annual["versions"][1]["files"]] == ["pdf", "docx", "xlsx"]
    # the URLs work
    assert client.get(annual["download_url"]).content == site.files["2023/2023-annual.pdf"]
    assert client.get(annual["versions"][0]["download_url"]).status_code == 200


def test_api_uses_configured_base_url(site: Site) -> None:
    settings = site.settings(base_url="https://reports.longhu.example/portal/")
    with TestClient(create_app(settings, font_resolver=fixed_fonts()), client=LOOPBACK) as c:
        item = c.get("/api/reports?fiscal_year=2022").json()["reports"][0]
    assert item["download_url"] == "https://reports.longhu.example/portal/download/2022/2022-annual"


def test_api_all_years_unknown_year_and_bad_input(client: TestClient) -> None:
    everything = client.get("/api/reports").json()
    assert len(everything["reports"]) == 9
    assert client.get("/api/reports?fiscal_year=1999").json()["reports"] == []
    bad = client.get("/api/reports?fiscal_year=abc")
    assert bad.status_code == 422
    assert bad.json() == {"detail": "请求参数无效。"}


# --- what must never be served ------------------------------------------------------------------


TRAVERSALS = [
    "/download/2023/../../../etc/passwd",
    "/download/2023/..%2F..%2F..%2Fetc%2Fpasswd",
    "/download/2023/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/download/2023/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/download/2023/%25252e%25252e%25252fetc%25252fpasswd",
    "/download/2023//etc/passwd",
    "/download/2023/%2Fetc%2Fpasswd",
    "/download/2023/2023-annual/../../../outside/secret.pdf",
    "/download/2023/2023-annual/versions/..%2f..%2f..%2foutside%2fsecret.pdf",
    "/download/2023/2023-annual/versions/%2e%2e",
    "/download/..%2f..%2foutside/secret.pdf",
    "/download/%2e%2e/secret",
    "/preview/2023/..%2f..%2f..%2fetc%2fpasswd",
    "/preview/2023/%2e%2e%2f2023-annual.pdf",
    "/static/..%2fapp.py",
    "/static/../app.py",
    "/static/%2e%2e%2fstore.py",
    "/fonts/..%2f..%2f..%2fetc%2fpasswd",
    "/fonts/sans.ttf%00../../etc/passwd",
    "/../../../etc/passwd",
    "/reports/2023/..%2f..%2f..%2foutside/versions",
]


@pytest.mark.parametrize("signed_in", [False, True], ids=["open-mode", "behind-sign-in"])
def test_traversal_attempts_answer_404(site: Site, signed_in: bool) -> None:
    """Also behind sign-in, as an admin with an API token: a signed-in user gets no further."""
    (site.reports / "2023" / "escape.pdf").symlink_to(site.outside / "secret.pdf")
    app = create_app(site.settings(), font_resolver=fixed_fonts())
    headers: dict[str, str] = {}
    if signed_in:
        security = security_of(app)
        add_staff(security, ("admin",))
        _, token = security.create_token(TEST_ACTOR, "admin")
        headers["authorization"] = f"Bearer {token}"
    with live_server(app) as base:
        for path in TRAVERSALS:
            status, body = raw_get(base, path, headers)
            assert status == 404, path
            assert b"root:" not in body and b"secret outside" not in body, path
        status, _ = raw_get(base, "/download/2023/2023-annual", headers)
        assert status == 200
        if signed_in:
            assert raw_get(base, "/download/2023/2023-annual")[0] == 303


def test_registered_paths_outside_the_folder_answer_404(site: Site) -> None:
    reports_2023 = site.reports / "2023"
    (reports_2023 / "escape.pdf").symlink_to(site.outside / "secret.pdf")
    (reports_2023 / "linked-dir").symlink_to(site.outside, target_is_directory=True)
    (reports_2023 / "a-directory.pdf").mkdir()
    os.mkfifo(reports_2023 / "fifo.pdf")
    # a symlink that stays inside the reports folder is fine
    (reports_2023 / "latest.pdf").symlink_to(reports_2023 / "2023-annual.pdf")
    base = report_entry(site, 2023, "2023-12", pdf=make_pdf("december"), preview=False)
    bad_files = {
        "up": "../../outside/secret.pdf",
        "up-encoded": "..%2f..%2foutside%2fsecret.pdf",
        "absolute": str(site.outside / "secret.pdf"),
        "etc": "/etc/passwd",
        "symlink": "escape.pdf",
        "symlinked-dir": "linked-dir/secret.pdf",
        "directory": "a-directory.pdf",
        "fifo": "fifo.pdf",
        "nul": "2023-annual.pdf\x00.png",
        "missing": "nope.pdf",
        "root": ".",
        "reports-root": "..",
    }
    for name, relative in bad_files.items():
        site.register(2023, f"bad-{name}", {**base, "id": f"bad-{name}", "file": relative})
    annual = site.index(2023)["reports"]["2023"]
    site.register(2023, "2023", {**annual, "preview": "../../outside/secret.pdf"})
    site.register(
        2023,
        "bad-version",
        {
            **base,
            "id": "bad-version",
            "versions": [{"file": "escape.pdf", "sha256": "", "size": 1}],
        },
    )
    site.register(2023, "inside-link", {**base, "id": "inside-link", "file": "latest.pdf"})
    with TestClient(create_app(site.settings(), font_resolver=fixed_fonts()), client=LOOPBACK) as c:
        for name in bad_files:
            r = c.get(f"/download/2023/bad-{name}")
            assert r.status_code == 404, name
            assert b"secret outside" not in r.content
        assert c.get("/preview/2023/2023-annual").status_code == 404
        assert c.get("/download/2023/bad-version/versions/1").status_code == 404
        inside = c.get("/download/2023/inside-link")
        assert inside.status_code == 200
        assert inside.content == site.files["2023/2023-annual.pdf"]
        # the page still renders, without a preview for the bad one
        page = c.get("/reports/2023")
        assert page.status_code == 200
        assert 'src="/preview/2023/2023-annual"' not in page.text


def test_reports_folder_may_itself_be_a_symlink(tmp_path: Path) -> None:
    site = build_site(tmp_path / "real")
    linked_home = tmp_path / "linked-home"
    linked_home.mkdir()
    (linked_home / "reports").symlink_to(site.reports, target_is_directory=True)
    settings = Settings(home=linked_home, data=site.settings().data)
    with TestClient(create_app(settings, font_resolver=fixed_fonts()), client=LOOPBACK) as c:
        assert c.get("/download/2023/2023-annual").status_code == 200


# --- open mode and its limits -------------------------------------------------------------------


def test_open_portal_needs_no_credentials(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/download/2023/2023-annual").status_code == 200


def test_open_mode_is_for_loopback_clients_only(site: Site) -> None:
    with TestClient(make_app(site), client=("192.168.1.20", 50000)) as c:
        for path in ("/", "/download/2023/2023-annual", "/api/reports"):
            r = c.get(path)
            assert r.status_code == 403, path
            assert b"%PDF" not in r.content
        assert c.get("/healthz").status_code == 200


def test_open_mode_ends_when_the_first_account_exists(site: Site) -> None:
    app = make_app(site)
    with TestClient(app, client=LOOPBACK) as c:
        assert c.get("/reports/2023").status_code == 200
        add_staff(security_of(app), ("admin",))  # e.g. `urbanreport user add` meanwhile
        r = c.get("/reports/2023", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        assert c.get("/download/2023/2023-annual", follow_redirects=False).status_code == 303
        assert c.get("/api/reports").status_code == 401


def test_public_paths_do_not_bypass_sign_in(site: Site) -> None:
    app = make_app(site)
    add_staff(security_of(app), ("viewer",))
    with live_server(app) as base:
        for path in (
            "/static/../download/2023/2023-annual",
            "/static/%2e%2e/download/2023/2023-annual",
            "/static/..%2fdownload%2f2023%2f2023-annual",
            "/fonts/../download/2023/2023-annual",
            "/fonts/..%2f..%2freports%2f2023",
            "/healthz/../download/2023/2023-annual",
            "/login/../download/2023/2023-annual",
            "/login%2f..%2fdownload%2f2023%2f2023-annual",
        ):
            status, body = raw_get(base, path)
            assert status in (303, 401, 404), path
            assert not body.startswith(b"%PDF"), path
        assert raw_get(base, "/download/2023/2023-annual")[0] == 303
        for path in ("/healthz", "/static/portal.css", "/fonts/sans.ttf", "/login"):
            assert raw_get(base, path)[0] == 200, path


@pytest.mark.parametrize(
    ("portal", "env"),
    [
        ({"token": "s3cret-token"}, {}),
        ({"basic_user": "fazhi", "basic_password": "龙湖-密码"}, {}),
        ({}, {"URBANREPORT_PORTAL_TOKEN": "from-env"}),
        ({}, {"URBANREPORT_PORTAL_PASSWORD": "from-env"}),
    ],
)
def test_shared_secrets_of_the_old_portal_are_refused(
    site: Site, monkeypatch: pytest.MonkeyPatch, portal: dict[str, str], env: dict[str, str]
) -> None:
    """A shared token would make nobody accountable; silently ignoring it would open the portal."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="urbanreport user add") as refused:
        create_app(site.settings(**portal), font_resolver=fixed_fonts())
    assert "s3cret-token" not in str(refused.value) and "from-env" not in str(refused.value)


# --- helpers and the command --------------------------------------------------------------------


FIGURES = [  # (value, kind, unit, as printed in the PDF)
    (936, "count", "宗", "936宗"),
    (3009408, "money", "元", "3009408元"),
    ("3009408.00", "money", "元", "3009408元"),
    (1250.5, "money", "元", "1250.5元"),
    (1.0, "rate", "%", "100%"),
    (0.7802, "rate", "%", "78.02%"),
    (0.79375, "rate", "%", "79.38%"),  # half-up on Decimal, not through a binary float
    (0, "rate", "%", "0%"),
    (936292.39, "area", "平方米", "936292.39平方米"),
    (3.46, "days", "工作日", "3.5个工作日"),
    (4.0, "hours", "小时", "4小时"),
    (None, "count", "宗", "数据缺失"),
    ("n/a", "count", "宗", "n/a宗"),  # not a number: shown as registered, not an error
]


def test_figures_print_as_in_the_pdf() -> None:
    """Headline figures go through the one formatter the PDF uses."""
    base = catalogue.indicator("enforcement.penalty_cases")
    for value, kind, unit, expected in FIGURES:
        indicator = dataclasses.replace(base, kind=kind, unit=unit)
        assert views.figure_text(indicator, value) == expected, (value, kind)
        if value is not None and expected != "n/a宗":
            assert formatting.figure(indicator, value) == expected
    assert views.figure_text(None, 0.5) == "0.5"  # a key not in the catalogue
    assert views.figure_text(None, None) == "数据缺失"


def test_time_and_size_formats() -> None:
    assert store.format_time("2024-01-05T02:30:00+00:00") == "2024-01-05 10:30"
    assert store.format_time("2024-01-05T10:30:00") == "2024-01-05 10:30"
    assert store.format_time("") == "—"
    assert store.format_size(356_000) == "348 KB"
    assert store.format_size(3 * 1024 * 1024) == "3.0 MB"


def test_serve_binds_to_loopback_by_default(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake_run(self: uvicorn.Server, *args: Any, **kwargs: Any) -> None:
        seen["host"], seen["port"] = self.config.host, self.config.port

    monkeypatch.setattr(uvicorn.Server, "run", fake_run)
    monkeypatch.setattr(server, "install_audit_log", lambda: None)  # see its own test
    server.serve(site.settings())
    assert seen == {"host": "127.0.0.1", "port": 8000}


def test_serve_refuses_other_addresses_without_accounts(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: seen.update(host=self.config.host))
    monkeypatch.setattr(server, "install_audit_log", lambda: None)
    with pytest.raises(ValueError, match="尚未创建任何账户") as refused:
        server.serve(site.settings(), host="0.0.0.0", port=9001)
    assert "urbanreport user add" in str(refused.value)
    assert seen == {}
    add_staff(security_for(site.settings()), ("admin",))
    server.serve(site.settings(), host="0.0.0.0", port=9001)
    assert seen == {"host": "0.0.0.0"}


def test_cli_serve_passes_none_for_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from urbanreport import cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        server, "serve", lambda settings, host, port: seen.update(host=host, port=port)
    )
    assert cli.main(["serve"]) == 0
    assert seen == {"host": None, "port": None}
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8080"]) == 0
    assert seen == {"host": "0.0.0.0", "port": 8080}


def test_serve_writes_audit_entries_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    audit = logging.getLogger("urbanreport.audit")
    before, level = list(audit.handlers), audit.level
    try:
        server.install_audit_log()
        server.install_audit_log()  # once only
        assert len(audit.handlers) == len(before) + 1
        audit.info('{"seq": 1, "action": "login"}')
        assert 'urbanreport.audit {"seq": 1, "action": "login"}' in capfd.readouterr().err
    finally:
        for handler in audit.handlers[len(before) :]:
            audit.removeHandler(handler)
        audit.setLevel(level)


def test_access_log_hides_credentials_in_urls() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "GET",
            "/download/2023/2023-annual?x=1&token=s3cret&Password=hunter2&monkey=ok",
            "1.1",
            400,
        ),
        None,
    )
    assert server.RedactSecrets().filter(record)
    message = record.getMessage()
    assert "s3cret" not in message and "hunter2" not in message
    assert "token=***" in message and "Password=***" in message and "monkey=ok" in message

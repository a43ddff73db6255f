"""The report portal: pages, downloads, revalidation, the JSON API, and what it refuses to serve.

The helpers at the top (`build_site`, `live_server`, `make_pdf`) are shared with the browser
and concurrency tests in ``test_portal_*.py``.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import os
import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from urbanreport.core.config import DEFAULTS_FILE, Settings
from urbanreport.portal import app as portal_app
from urbanreport.portal import store
from urbanreport.portal.app import create_app

ANNUAL_TITLE = "2023年度法治政府建设数据报告"
SECRET = b"%PDF-1.4 secret outside the reports folder\n%%EOF\n"


# --- building a reports folder ----------------------------------------------------------------


def make_pdf(label: str, *, noise_bytes: int = 0, font: Path | None = None) -> bytes:
    """A small valid PDF; ``noise_bytes`` of incompressible image data make it larger."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    font_name = "Helvetica"
    if font is not None:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.ttfonts import TTFont

        font_name = "PortalTestSans"
        pdfmetrics.registerFont(TTFont(font_name, str(font)))
    pdf.setFont(font_name, 20)
    pdf.drawString(72, 760, label)
    pdf.setFont(font_name, 11)
    pdf.drawString(72, 730, "汕头市龙湖区城市管理和综合执法局" if font else "urbanreport test")
    if noise_bytes:
        from PIL import Image
        from reportlab.lib.utils import ImageReader

        side = int(noise_bytes**0.5)
        image = Image.frombytes("L", (side, side), os.urandom(side * side))
        pdf.drawImage(ImageReader(image), 72, 200, width=400, height=400)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_png(width: int = 212, height: int = 300, shade: int = 235) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width - 1, 36), fill=(shade - 120, shade - 90, shade - 40))
    for y in range(60, height - 20, 14):
        draw.line((18, y, width - 18, y), fill=(shade - 40,) * 3, width=3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def atomic_write(path: Path, data: bytes) -> None:
    """Write like the report builder does: a temp file renamed over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}-{threading.get_ident()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


HEADLINE_ANNUAL = {  # as the report builder registers them: rates are fractions
    "enforcement.penalty_cases": 936,
    "enforcement.fines_yuan": 3009408,
    "enforcement.major_legal_review_rate": 1.0,
    "dcm.on_time_disposal_rate": 0.9512,
    "enforcement.no_penalty_cases": None,
    "not.in.catalogue": 0.5,
}


@dataclass
class Site:
    """A temporary ``$URBANREPORT_HOME`` with registered reports."""

    home: Path
    outside: Path
    files: dict[str, bytes] = field(default_factory=dict)  # relative to reports/<fy>/

    @property
    def reports(self) -> Path:
        return self.home / "reports"

    def settings(self, **portal: Any) -> Settings:
        with DEFAULTS_FILE.open("rb") as fh:
            data = tomllib.load(fh)
        data["portal"] = {**data["portal"], **portal}
        return Settings(home=self.home, data=data)

    def index(self, fiscal_year: int) -> dict[str, Any]:
        return json.loads((self.reports / str(fiscal_year) / "index.json").read_text("utf-8"))

    def write_index(self, fiscal_year: int, index: dict[str, Any]) -> None:
        atomic_write(
            self.reports / str(fiscal_year) / "index.json",
            json.dumps(index, ensure_ascii=False, indent=2).encode("utf-8"),
        )

    def add_file(self, fiscal_year: int, relative: str, data: bytes) -> dict[str, Any]:
        atomic_write(self.reports / str(fiscal_year) / relative, data)
        self.files[f"{fiscal_year}/{relative}"] = data
        return {"file": relative, "sha256": sha256(data), "size": len(data)}

    def register(self, fiscal_year: int, key: str, entry: dict[str, Any]) -> None:
        index = self.index(fiscal_year)
        index["reports"][key] = entry
        self.write_index(fiscal_year, index)


def report_entry(
    site: Site,
    fiscal_year: int,
    period: str,
    *,
    pdf: bytes,
    title: str | None = None,
    headline: dict[str, Any] | None = None,
    versions: int = 0,
    preview: bool = True,
    generated_at: str = "2024-01-05T10:30:00+08:00",
) -> dict[str, Any]:
    """Files and index entry of one report, shaped as the report builder registers it."""
    kind = "monthly" if "-" in period else "annual"
    report_id = f"{period}-{kind}"
    month = period.partition("-")[2]
    title = title or (
        f"{fiscal_year}年度法治政府建设数据报告"
        if kind == "annual"
        else f"{fiscal_year}年{int(month)}月城市管理执法数据简报"
    )
    current = site.add_file(fiscal_year, f"{report_id}.pdf", pdf)
    older = []
    for n in range(versions, 0, -1):  # newest first
        data = make_pdf(f"{report_id} version {n}")
        info = site.add_file(fiscal_year, f"versions/{report_id}-v{n}.pdf", data)
        older.append({**info, "generated_at": f"2024-01-0{n}T09:00:00+08:00"})
    entry: dict[str, Any] = {
        "id": report_id,
        "kind": kind,
        "period": period,
        "title": title,
        "file": current["file"],
        "ascii_name": f"urbanreport-{report_id}.pdf",
        "sha256": current["sha256"],
        "size": current["size"],
        "generated_at": generated_at,
        "data_cutoff": f"{fiscal_year}-12-31" if kind == "annual" else f"{period}-28",
        "data_updated_at": "2024-01-04T18:00:00+08:00",
        "headline": headline if headline is not None else {"enforcement.penalty_cases": 78},
        "versions": older,
    }
    if preview:
        entry["preview"] = site.add_file(fiscal_year, f"previews/{report_id}.png", make_png())[
            "file"
        ]
    return entry


def build_site(
    root: Path,
    *,
    annual_pdf: bytes | None = None,
    months: int = 7,
    preview_of: Callable[[dict[str, Any]], bytes] | None = None,
    monthly_headline: Callable[[int], dict[str, Any]] | None = None,
) -> Site:
    """2023: annual report (2 older versions) and January–``months`` briefs; 2022: annual only."""
    site = Site(home=root / "home", outside=root / "outside")
    site.outside.mkdir(parents=True)
    (site.outside / "secret.pdf").write_bytes(SECRET)
    for year in (2022, 2023):
        site.write_index(year, {"fiscal_year": year, "reports": {}})
    annual = report_entry(
        site,
        2023,
        "2023",
        pdf=annual_pdf or make_pdf("2023 annual report"),
        headline=HEADLINE_ANNUAL,
        versions=2,
    )
    if preview_of is not None:
        annual["preview"] = site.add_file(2023, "previews/2023-annual.png", preview_of(annual))[
            "file"
        ]
    site.register(2023, "2023", annual)
    for m in range(1, months + 1):
        period = f"2023-{m:02d}"
        site.register(
            2023,
            period,
            report_entry(
                site,
                2023,
                period,
                pdf=make_pdf(f"brief {period}"),
                headline=(
                    monthly_headline(m)
                    if monthly_headline
                    else {"enforcement.penalty_cases": 70 + m, "enforcement.fines_yuan": 1250.5}
                ),
                versions=1 if m == 3 else 0,
                generated_at=f"2023-{m + 1:02d}-03T08:15:00+08:00" if m < 12 else "",
            ),
        )
    site.register(
        2022, "2022", report_entry(site, 2022, "2022", pdf=make_pdf("2022 annual report"))
    )
    return site


# --- running the portal -------------------------------------------------------------------------


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread; yields its base URL.

    The socket is bound here and handed to uvicorn, so no other process can take the port in
    between.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def raw_get(base_url: str, raw_path: str) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (no client-side normalisation of ``..``)."""
    host, _, port = base_url.removeprefix("http://").partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", raw_path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


DEJAVU = Path(
    __import__("matplotlib").get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"
)  # any TTF: the portal only passes the file on


def fixed_fonts(path: Path | None = DEJAVU) -> Callable[[str], Path | None]:
    return lambda role: path


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
    with TestClient(create_app(site.settings(), font_resolver=fixed_fonts())) as c:
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
    with TestClient(create_app(site.settings(), font_resolver=fixed_fonts(None))) as c:
        assert c.get("/fonts/sans.ttf").status_code == 404
        assert c.get("/reports/2023").status_code == 200


def test_server_error_shows_no_traceback(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("secret internal detail /srv/whatever")

    monkeypatch.setattr(store, "reports_of", boom)
    app = create_app(site.settings(), font_resolver=fixed_fonts())
    with TestClient(app, raise_server_exceptions=False) as c:
        for path, json_api in (("/reports/2023", False), ("/api/reports?fiscal_year=2023", True)):
            r = c.get(path)
            assert r.status_code == 500
            assert "secret internal detail" not in r.text
            assert "Traceback" not in r.text
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
    # the URLs work
    assert client.get(annual["download_url"]).content == site.files["2023/2023-annual.pdf"]
    assert client.get(annual["versions"][0]["download_url"]).status_code == 200


def test_api_uses_configured_base_url(site: Site) -> None:
    settings = site.settings(base_url="https://reports.longhu.example/portal/")
    with TestClient(create_app(settings, font_resolver=fixed_fonts())) as c:
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


def test_traversal_attempts_answer_404(site: Site) -> None:
    (site.reports / "2023" / "escape.pdf").symlink_to(site.outside / "secret.pdf")
    app = create_app(site.settings(), font_resolver=fixed_fonts())
    with live_server(app) as base:
        for path in TRAVERSALS:
            status, body = raw_get(base, path)
            assert status == 404, path
            assert b"root:" not in body and b"secret outside" not in body, path
        status, _ = raw_get(base, "/download/2023/2023-annual")
        assert status == 200


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
    with TestClient(create_app(site.settings(), font_resolver=fixed_fonts())) as c:
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
    with TestClient(create_app(settings, font_resolver=fixed_fonts())) as c:
        assert c.get("/download/2023/2023-annual").status_code == 200


# --- authentication -----------------------------------------------------------------------------


def test_open_portal_needs_no_credentials(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/download/2023/2023-annual").status_code == 200


def test_token_auth(site: Site) -> None:
    app = create_app(site.settings(token="s3cret-token"), font_resolver=fixed_fonts())
    with TestClient(app) as c:
        for path in (
            "/",
            "/reports/2023",
            "/download/2023/2023-annual",
            "/preview/2023/2023-annual",
        ):
            r = c.get(path)
            assert r.status_code == 401, path
            assert 'Bearer realm="urbanreport"' in r.headers.get_list("www-authenticate")
            assert b"%PDF" not in r.content
        api = c.get("/api/reports")
        assert api.status_code == 401 and "detail" in api.json()
        assert c.get("/", params={"token": "wrong"}).status_code == 401
        assert c.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/", headers={"authorization": "Bearer s3cret-token"}).status_code == 200
        # what the 401 page itself needs is public; none of it is a report
        for path in ("/healthz", "/static/portal.css", "/fonts/sans.ttf"):
            assert c.get(path).status_code == 200, path
        # ?token= works, and sets a cookie so the page's own links work without it
        r = c.get("/download/2023/2023-annual", params={"token": "s3cret-token"})
        assert r.status_code == 200 and r.content.startswith(b"%PDF")
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert "s3cret-token" not in cookie
        assert c.get("/reports/2023").status_code == 200  # the client kept the cookie
        c.cookies.clear()
        assert c.get("/reports/2023").status_code == 401


def test_public_prefixes_do_not_bypass_auth(site: Site) -> None:
    app = create_app(site.settings(token="s3cret-token"), font_resolver=fixed_fonts())
    with live_server(app) as base:
        for path in (
            "/static/../download/2023/2023-annual",
            "/static/%2e%2e/download/2023/2023-annual",
            "/static/..%2fdownload%2f2023%2f2023-annual",
            "/fonts/../download/2023/2023-annual",
            "/fonts/..%2f..%2freports%2f2023",
            "/healthz/../download/2023/2023-annual",
        ):
            status, body = raw_get(base, path)
            assert status in (401, 404), path
            assert not body.startswith(b"%PDF"), path
        assert raw_get(base, "/download/2023/2023-annual")[0] == 401


def test_basic_auth(site: Site) -> None:
    settings = site.settings(basic_user="fazhi", basic_password="龙湖-密码")
    with TestClient(create_app(settings, font_resolver=fixed_fonts())) as c:
        r = c.get("/reports/2023")
        assert r.status_code == 401
        assert 'Basic realm="urbanreport", charset="UTF-8"' in r.headers.get_list(
            "www-authenticate"
        )
        assert "需要身份验证" in r.text

        def basic(user: str, password: str) -> dict[str, str]:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"authorization": f"Basic {token}"}

        assert c.get("/", headers=basic("fazhi", "龙湖-密码")).status_code == 200
        assert c.get("/", headers=basic("fazhi", "wrong")).status_code == 401
        assert c.get("/", headers=basic("other", "龙湖-密码")).status_code == 401
        assert c.get("/", headers={"authorization": "Basic !!notbase64"}).status_code == 401
        no_colon = base64.b64encode(b"fazhi").decode()
        assert c.get("/", headers={"authorization": f"Basic {no_colon}"}).status_code == 401
        assert c.get("/", params={"token": ""}).status_code == 401  # no token configured
        dl = c.get("/download/2023/2023-annual", headers=basic("fazhi", "龙湖-密码"))
        assert dl.status_code == 200 and dl.headers["cache-control"].startswith("private")


def test_token_from_environment(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("URBANREPORT_PORTAL_TOKEN", "from-env")
    with TestClient(create_app(site.settings(), font_resolver=fixed_fonts())) as c:
        assert c.get("/").status_code == 401
        assert c.get("/", headers={"authorization": "Bearer from-env"}).status_code == 200


def test_half_configured_basic_auth_is_refused(site: Site) -> None:
    with pytest.raises(ValueError, match="basic_password"):
        create_app(site.settings(basic_user="fazhi"))


def test_credentials_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = portal_app.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(portal_app.hmac, "compare_digest", spy)
    assert portal_app._same("abc", "abc") and not portal_app._same("abc", "abcd")
    assert len(calls) == 2
    assert all(len(a) == len(b) == 32 for a, b in calls)  # digests: no length leak


# --- helpers and the command --------------------------------------------------------------------


FIGURES = [  # (value, kind, unit, as printed in the PDF)
    (936, "count", "宗", "936宗"),
    (3009408, "money", "元", "3009408元"),
    ("3009408.00", "money", "元", "3009408元"),
    (1250.5, "money", "元", "1250.5元"),
    (1.0, "rate", "%", "100%"),
    (0.7802, "rate", "%", "78.02%"),
    (0, "rate", "%", "0%"),
    (936292.39, "area", "平方米", "936292.39平方米"),
    (3.46, "days", "工作日", "3.5个工作日"),
    (4.0, "hours", "小时", "4小时"),
    (None, "count", "宗", "数据缺失"),
    (0.5, "", "", "0.5"),  # not in the catalogue
]


@pytest.mark.parametrize("with_report_layer", [True, False])
def test_figures_print_as_in_the_pdf(
    with_report_layer: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The portal's fallback formatting agrees with the report layer's."""
    if with_report_layer:
        pytest.importorskip("urbanreport.reports.narrative")
    else:
        monkeypatch.setattr(store, "_narrative", lambda: None)
    for value, kind, unit, expected in FIGURES:
        assert store.format_figure(value, kind, unit) == expected, (value, kind)


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
    portal_app.serve(site.settings())
    assert seen == {"host": "127.0.0.1", "port": 8000}
    portal_app.serve(site.settings(), host="0.0.0.0", port=9001)
    assert seen == {"host": "0.0.0.0", "port": 9001}


def test_cli_serve_passes_none_for_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from urbanreport import cli

    seen: dict[str, Any] = {}
    monkeypatch.setattr(
        portal_app, "serve", lambda settings, host, port: seen.update(host=host, port=port)
    )
    assert cli.main(["serve"]) == 0
    assert seen == {"host": None, "port": None}
    assert cli.main(["serve", "--host", "0.0.0.0", "--port", "8080"]) == 0
    assert seen == {"host": "0.0.0.0", "port": 8080}


def test_access_log_hides_tokens() -> None:
    import logging

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/download/2023/2023-annual?x=1&token=s3cret", "1.1", 200),
        None,
    )
    assert portal_app._RedactTokens().filter(record)
    assert "s3cret" not in record.getMessage()
    assert "token=***" in record.getMessage()

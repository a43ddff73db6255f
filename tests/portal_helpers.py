"""Shared helpers of the portal tests: a reports folder built in code, accounts, a live server.

`build_site` writes a ``$URBANREPORT_HOME`` with registered reports shaped as the report builder
registers them; `Accounts` adds users (with a cheap argon2 setting, so a test signs in within
milliseconds) and signs them in; `live_server` runs an app under uvicorn on a loopback port.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import re
import shutil
import socket
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from argon2 import PasswordHasher
from docx import Document
from fastapi import FastAPI
from fastapi.testclient import TestClient

from urbanreport.core.clock import SHANGHAI
from urbanreport.core.config import DEFAULTS_FILE, Settings
from urbanreport.portal.access import Role
from urbanreport.portal.app import create_app
from urbanreport.portal.config import PortalConfig
from urbanreport.portal.security import Actor, Security
from urbanreport.reports import registry

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


def office_files(site: Site, fiscal_year: int, stem: str) -> dict[str, dict[str, Any]]:
    """A Word and an Excel file beside a PDF (distinct bytes per file, as a render makes)."""
    return {
        fmt: site.add_file(fiscal_year, f"{stem}.{fmt}", f"PK {fmt} {stem}".encode())
        for fmt in ("docx", "xlsx")
    }


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
        formats = office_files(site, fiscal_year, f"versions/{report_id}-v{n}")
        older.append({**info, "generated_at": f"2024-01-0{n}T09:00:00+08:00", "formats": formats})
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
        "formats": {
            fmt: {**info, "ascii_name": f"urbanreport-{report_id}.{fmt}"}
            for fmt, info in office_files(site, fiscal_year, report_id).items()
        },
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


# --- drafts for the draft check (核对文稿) -------------------------------------------------------

#: Two published figures of the seed report, each changed by one digit: the altered draft.
SEED_ALTERATIONS = (("936宗", "937宗"), ("78.02%", "87.02%"))


def with_warehouse(site: Site, warehouse: Path) -> None:
    """Give the site a copy of a warehouse file (the session's ingested sample)."""
    shutil.copyfile(warehouse, site.home / "warehouse.duckdb")


def altered_seed(seed: Path) -> str:
    """The seed report's text with `SEED_ALTERATIONS` made, each exactly once."""
    text = seed.read_text(encoding="utf-8")
    for old, new in SEED_ALTERATIONS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def word_draft(text: str) -> bytes:
    """`text` as a Word draft, one paragraph a line, the way a section pastes it into Word."""
    document = Document()
    for line in text.splitlines():
        if line.strip():
            document.add_paragraph(line.strip())
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- running the portal -------------------------------------------------------------------------


@contextmanager
def live_server(app: FastAPI, log_level: str = "warning") -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread; yields its base URL.

    The socket is bound here and handed to uvicorn, so no other process can take the port in
    between.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=5))
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


def raw_get(
    base_url: str, raw_path: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (no client-side normalisation of ``..``)."""
    host, _, port = base_url.removeprefix("http://").partition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.putrequest("GET", raw_path, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
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


# --- accounts, time, signing in -----------------------------------------------------------------

#: The open demo mode answers loopback clients only; TestClient's default address is not one.
LOOPBACK = ("127.0.0.1", 50000)
#: Argon2 at its cheapest: the tests exercise the rules, not the hash's cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ROLES = ("viewer", "editor", "admin")
PASSWORDS = {
    "viewer": "Jinxia-Street-2024",
    "editor": "Zhuchi-Road-2024",
    "admin": "Xinjin#Bridge24",
}
TEST_ACTOR = Actor("cli:test", "本机命令行")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class FakeClock:
    """An injectable clock (Asia/Shanghai) that only moves when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2024, 1, 8, 9, 0, tzinfo=SHANGHAI)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def make_app(site: Site, *, clock: FakeClock | None = None, **portal: Any) -> FastAPI:
    return create_app(
        site.settings(**portal), font_resolver=fixed_fonts(), clock=clock, hasher=FAST_HASHER
    )


def security_of(app: FastAPI) -> Security:
    return app.state.portal.security


def security_for(settings: Settings, clock: FakeClock | None = None) -> Security:
    """The portal database of a data directory, as the command line opens it."""
    return Security(PortalConfig.from_settings(settings), clock=clock, hasher=FAST_HASHER)


def add_staff(security: Security, roles: tuple[str, ...] = ROLES) -> None:
    """One account per role, named after it (``viewer``, ``editor``, ``admin``)."""
    for role in roles:
        security.add_user(TEST_ACTOR, role, Role.parse(role), PASSWORDS[role])


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str | None = None) -> Any:
    """Sign in through the login form as a browser does; returns the POST's response."""
    page = client.get("/login")
    form = {
        "csrf": csrf_of(page.text),
        "username": name,
        "password": PASSWORDS.get(name, "") if password is None else password,
        "next": "/",
    }
    return client.post("/login", data=form, follow_redirects=False)


def signed_in_client(app: FastAPI, role: str | None) -> TestClient:
    """A client signed in as the account named ``role`` (None: anonymous). Not entered."""
    client = TestClient(app, client=LOOPBACK)
    if role is not None:
        response = sign_in(client, role)
        assert response.status_code == 303, response.text
    return client


def set_state(site: Site, fiscal_year: int, report_id: str, sha: str, state: str) -> None:
    """Publish (or withdraw) a version directly in the registry, as an editor would."""
    record = {"state": state, "by": "editor", "at": "2024-01-08T09:00:00+08:00"}
    assert registry.set_publication(site.reports, fiscal_year, report_id, sha, record)


def publish_everything(site: Site) -> None:
    """Every version of every report published: how a portal in use looks."""
    for year in (2022, 2023):
        for entry in site.index(year)["reports"].values():
            for version in [entry, *entry.get("versions", [])]:
                set_state(site, year, entry["id"], version["sha256"], "published")

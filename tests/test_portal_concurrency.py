"""Downloads during regeneration: every client gets one version whole, never a mix.

The report builder replaces a PDF by writing a temp file and renaming it over the old one; the
portal streams from the descriptor it opened, so a rename in the middle of a download must not
change what that download receives. Clients read slowly here so that renames really do land
mid-download, and the test checks that they did.

Both run behind sign-in, with an editor's API token: every download also verifies the token and
appends an audit entry, so the audit chain is written concurrently too, and must stay whole.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.portal_helpers import (
    TEST_ACTOR,
    add_staff,
    atomic_write,
    build_site,
    live_server,
    make_app,
    make_pdf,
    security_of,
)

pytestmark = pytest.mark.integration

DOWNLOADS = 50
WORKERS = 10
VARIANTS = 4
PDF_NOISE_BYTES = 1_500_000  # ~1.5 MB per PDF: many chunks per download
WRITER_TIME_LIMIT = 60.0


@dataclass
class Result:
    status: int
    headers: httpx.Headers
    body: bytes
    generation_before: int
    generation_after: int


class Regenerator(threading.Thread):
    """Rewrites the annual report (temp + rename) and its index entry until told to stop."""

    def __init__(self, site_reports: Path, site, variants: list[bytes]) -> None:
        super().__init__(daemon=True)
        self.target = site_reports / "2023" / "2023-annual.pdf"
        self.site = site
        self.variants = variants
        self.stop = threading.Event()
        self.generation = 0
        self.lock = threading.Lock()
        self.error: BaseException | None = None

    def current(self) -> int:
        with self.lock:
            return self.generation

    def run(self) -> None:
        deadline = time.monotonic() + WRITER_TIME_LIMIT
        try:
            while not self.stop.is_set() and time.monotonic() < deadline:
                data = self.variants[(self.generation + 1) % len(self.variants)]
                atomic_write(self.target, data)
                with self.lock:
                    self.generation += 1
                index = self.site.index(2023)
                entry = index["reports"]["2023"]
                entry["sha256"], entry["size"] = hashlib.sha256(data).hexdigest(), len(data)
                self.site.write_index(2023, index)
                time.sleep(0.003)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def editor_headers(app: FastAPI) -> dict[str, str]:
    security = security_of(app)
    add_staff(security, ("editor",))
    _, token = security.create_token(TEST_ACTOR, "editor")
    return {"authorization": f"Bearer {token}"}


def test_downloads_during_regeneration_are_whole(tmp_path: Path) -> None:
    variants = [make_pdf(f"variant {i}", noise_bytes=PDF_NOISE_BYTES) for i in range(VARIANTS)]
    hashes = {hashlib.sha256(v).hexdigest() for v in variants}
    assert len(hashes) == VARIANTS
    site = build_site(tmp_path, annual_pdf=variants[0])
    app = make_app(site)
    headers = editor_headers(app)

    with live_server(app) as base:
        writer = Regenerator(site.reports, site, variants)

        def download(_: int) -> Result:
            with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
                before = writer.current()
                with client.stream("GET", "/download/2023/2023-annual") as response:
                    chunks = []
                    for chunk in response.iter_bytes(64 * 1024):
                        chunks.append(chunk)
                        time.sleep(0.002)  # a slow reader keeps the download open
                    after = writer.current()
                    return Result(
                        response.status_code, response.headers, b"".join(chunks), before, after
                    )

        fds_before = open_fds()
        writer.start()
        try:
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                results = list(pool.map(download, range(DOWNLOADS), timeout=120))
        finally:
            writer.stop.set()
            writer.join(10)
        assert writer.error is None
        # Every descriptor the portal opened has been closed again.
        deadline = time.monotonic() + 5
        while open_fds() > fds_before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert open_fds() <= fds_before + 2

    assert len(results) == DOWNLOADS
    for result in results:
        assert result.status == 200
        body = result.body
        assert body.startswith(b"%PDF-")
        assert body.rstrip().endswith(b"%%EOF")
        assert len(body) == int(result.headers["content-length"])
        digest = hashlib.sha256(body).hexdigest()
        assert digest in hashes, "a download mixed two versions"
        assert result.headers["etag"] == f'"{digest}"', "headers describe another version"
    audit = security_of(app).audit
    assert sum(e.action == "download" for e in audit.entries()) == DOWNLOADS
    assert audit.verify().ok
    spanning = sum(r.generation_after > r.generation_before for r in results)
    assert spanning >= DOWNLOADS // 2, f"only {spanning} downloads overlapped a regeneration"
    assert writer.generation >= 10
    assert len({hashlib.sha256(r.body).hexdigest() for r in results}) >= 2


def test_abandoned_downloads_release_their_files(tmp_path: Path) -> None:
    pdf = make_pdf("large", noise_bytes=PDF_NOISE_BYTES)
    site = build_site(tmp_path, annual_pdf=pdf)
    app = make_app(site)
    headers = editor_headers(app)
    with live_server(app) as base:
        fds_before = open_fds()
        for _ in range(20):
            with (
                httpx.Client(base_url=base, timeout=10, headers=headers) as client,
                client.stream("GET", "/download/2023/2023-annual") as response,
            ):
                assert response.status_code == 200
                next(response.iter_raw(16 * 1024))
                # leaving the block closes the connection mid-body
        deadline = time.monotonic() + 5
        while open_fds() > fds_before + 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert open_fds() <= fds_before + 2
        # and the server still answers
        assert httpx.get(base + "/download/2023/2023-annual", headers=headers).content == pdf
        assert httpx.get(base + "/download/2023/2023-annual").status_code == 303

"""Publishing: a new report is internal; a rerun after publication keeps the published version in
front of viewers until an editor publishes the new one; the state is kept per version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.portal_helpers import (
    Site,
    add_staff,
    build_site,
    csrf_of,
    make_app,
    make_pdf,
    make_png,
    security_of,
    signed_in_client,
)
from urbanreport.reports import registry

RERUN_PDF = make_pdf("2023 annual report, rerun with corrected data")


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return build_site(tmp_path, months=1)


@pytest.fixture
def app(site: Site) -> FastAPI:
    app = make_app(site)
    add_staff(security_of(app))
    return app


@pytest.fixture
def editor(app: FastAPI) -> Iterator[TestClient]:
    with signed_in_client(app, "editor") as client:
        yield client


@pytest.fixture
def viewer(app: FastAPI) -> Iterator[TestClient]:
    with signed_in_client(app, "viewer") as client:
        yield client


def publish(client: TestClient, sha: str, action: str = "publish", back: str = "") -> int:
    csrf = csrf_of(client.get("/").text)
    form = {"csrf": csrf, "sha256": sha, "action": action, "back": back}
    url = "/reports/2023/2023-annual/publish"
    return client.post(url, data=form, follow_redirects=False).status_code


def rerun(site: Site) -> str:
    """Register a changed annual report as the builder does after a rerun; its hash."""
    old = site.index(2023)["reports"]["2023"]
    meta = {k: old[k] for k in ("id", "kind", "period", "title", "file", "ascii_name")}
    meta |= {"data_cutoff": "2023-12-31", "data_updated_at": None, "headline": {"x": 1}}
    entry, changed = registry.publish(site.reports, 2023, meta, RERUN_PDF, lambda _: make_png())
    assert changed
    return entry["sha256"]


def test_publishing_the_current_version(site: Site, editor: TestClient, viewer: TestClient) -> None:
    sha = site.index(2023)["reports"]["2023"]["sha256"]
    assert viewer.get("/download/2023/2023-annual").status_code == 404
    assert publish(editor, sha) == 303
    r = viewer.get("/download/2023/2023-annual")
    assert r.status_code == 200 and r.content == site.files["2023/2023-annual.pdf"]
    assert viewer.get("/preview/2023/2023-annual").status_code == 200
    # only that version: the older ones stay internal
    assert viewer.get("/download/2023/2023-annual/versions/1").status_code == 404
    page = viewer.get("/reports/2023/2023-annual/versions").text
    assert "当前版本（第3版）" in page and "第1版" not in page
    assert "发布状态" not in page  # viewers are not shown the workflow
    record = site.index(2023)["publication"]["2023-annual"][sha]
    assert record["state"] == "published" and record["by"] == "editor"


def test_a_rerun_is_internal_and_viewers_keep_the_published_version(
    site: Site, editor: TestClient, viewer: TestClient
) -> None:
    published = site.index(2023)["reports"]["2023"]["sha256"]
    publish(editor, published)
    new = rerun(site)
    # the viewer still gets the published file (now version 3 of 4), named as an older version
    r = viewer.get("/download/2023/2023-annual")
    assert r.status_code == 200 and r.content == site.files["2023/2023-annual.pdf"]
    assert "urbanreport-2023-annual-v3.pdf" in r.headers["content-disposition"]
    assert viewer.get("/download/2023/2023-annual/versions/3").content == r.content
    # nothing of the internal file: no preview, no headline figures, no hash
    assert viewer.get("/preview/2023/2023-annual").status_code == 404
    item = viewer.get("/api/reports?fiscal_year=2023").json()["reports"][0]
    assert item["sha256"] == published and item["version"] == 3 and item["state"] == "published"
    assert item["headline"] == [] and item["preview_url"] is None
    page = viewer.get("/reports/2023").text
    assert "暂无预览" in page and new not in page and "主要指标" not in page.split("月度简报")[0]
    assert "最新发布版本（第3版）" in viewer.get("/reports/2023/2023-annual/versions").text
    # the editor sees the new file, internal, with the published one named beside it
    page = editor.get("/reports/2023").text
    assert "内部（未发布）" in page and "已发布：第3版" in page and "发布第4版" in page
    assert editor.get("/download/2023/2023-annual").content == RERUN_PDF
    # published, the new one reaches viewers
    assert publish(editor, new) == 303
    assert viewer.get("/download/2023/2023-annual").content == RERUN_PDF
    assert viewer.get("/preview/2023/2023-annual").status_code == 200


def test_withdrawing_a_version(site: Site, editor: TestClient, viewer: TestClient) -> None:
    sha = site.index(2023)["reports"]["2023"]["sha256"]
    publish(editor, sha)
    assert publish(editor, sha, "withdraw", back="versions") == 303
    assert viewer.get("/download/2023/2023-annual").status_code == 404
    page = editor.get("/reports/2023/2023-annual/versions").text
    assert "已撤回发布" in page and "editor" in page


def test_publishing_a_version_that_is_gone(site: Site, editor: TestClient) -> None:
    assert publish(editor, "0" * 64) == 404
    assert publish(editor, "") == 404
    sha = site.index(2023)["reports"]["2023"]["sha256"]
    assert publish(editor, sha, action="delete") == 404
    assert "publication" not in site.index(2023)


def test_publication_survives_the_builder_rewriting_the_index(
    site: Site, editor: TestClient
) -> None:
    sha = site.index(2023)["reports"]["2023"]["sha256"]
    publish(editor, sha)
    rerun(site)  # the builder loads, changes and writes the index: the record stays
    assert site.index(2023)["publication"]["2023-annual"][sha]["state"] == "published"
    assert not registry.set_publication(site.reports, 2023, "2023-annual", "f" * 64, {})
    assert not registry.set_publication(site.reports, 2023, "2099-annual", sha, {})


def test_the_redirect_after_publishing(site: Site, editor: TestClient) -> None:
    sha = site.index(2023)["reports"]["2023"]["sha256"]
    csrf = csrf_of(editor.get("/").text)
    r = editor.post(
        "/reports/2023/2023-annual/publish",
        data={"csrf": csrf, "sha256": sha, "back": "versions"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/reports/2023/2023-annual/versions"

"""The draft check in the portal (核对文稿): upload, the table, the annotated copy, and refusals.

The warehouse is the session's ingested scale-1 sample for 2023 (copied into each test's data
directory), so every expected value comes from the indicator code; the drafts are written here
in the tests' own words. Nothing of an upload may stay behind: not in the data directory, not
in the audit log, not in any log record.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import macro_enabled
from tests.portal_helpers import (
    LOOPBACK,
    FakeClock,
    Site,
    add_staff,
    build_site,
    csrf_of,
    make_app,
    security_of,
    signed_in_client,
    with_warehouse,
    word_draft,
)
from urbanreport.check.readers import docx_paragraphs, paragraph_runs, run_text
from urbanreport.core import formatting, warehouse
from urbanreport.core.catalogue import indicator
from urbanreport.core.periods import Period
from urbanreport.indicators import compute

LIMIT = 10 * 1024 * 1024
PHONE, ID_NUMBER = "13812345678", "440507199001011234"
#: Words only this test's drafts contain: none of them may reach a log or the audit trail.
MARKERS = ("金砂东路违建复查", PHONE, ID_NUMBER)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def site(tmp_path: Path, sample_warehouse: Path) -> Site:
    site = build_site(tmp_path, months=2)
    with_warehouse(site, sample_warehouse)
    return site


@pytest.fixture
def app(site: Site) -> FastAPI:
    app = make_app(site)
    add_staff(security_of(app))
    return app


@pytest.fixture
def said(site: Site) -> dict[str, str]:
    """The 2023 value of each indicator as the project's formatter writes it."""
    settings = site.settings()
    with warehouse.reader(settings) as con:
        values = compute(con, Period.parse("2023"), settings)["indicators"]
    return {key: formatting.figure(indicator(key), v) for key, v in values.items()}


def draft_text(said: dict[str, str], cases: str | None = None) -> str:
    """A draft in the tests' own words; ``cases`` replaces the penalty-case figure."""
    return "\n".join(
        [
            "2023年金砂东路违建复查工作总结",
            f"2023年，全局共办结处罚相关案件{cases or said['enforcement.penalty_cases']}，"
            f"罚款人民币{said['enforcement.fines_yuan']}。",
            f"全年办理审批许可事项{said['permits.received']}，"
            f"办结率{said['permits.completion_rate']}。",
            f"举报人电话{PHONE}，当事人身份证号{ID_NUMBER}。",
        ]
    )


def one_more(text: str) -> str:
    """A count written as 936宗 with its last digit raised by one (9 becomes 0 with a carry)."""
    number, unit = re.fullmatch(r"(\d+)(\D+)", text).groups()  # type: ignore[union-attr]
    return f"{int(number) + 1}{unit}"


def post(
    client: TestClient,
    data: bytes,
    name: str = "核对稿.docx",
    *,
    path: str = "/check",
    csrf: str | None = "",
    **fields: str,
) -> Any:
    token = csrf_of(client.get("/check").text) if csrf == "" else csrf
    form = {"period": "2023", **fields} | ({"csrf": token} if token else {})
    return client.post(path, data=form, files={"file": (name, data, "application/octet-stream")})


def alert(html: str) -> str:
    found = re.search(r'<p class="alert" role="alert">([^<]*)</p>', html)
    return found.group(1) if found else ""


def checked_hash(html: str) -> str:
    found = re.search(r'name="checked" value="([0-9a-f]{64})"', html)
    assert found, "the page offers no annotated copy"
    return found.group(1)


def table_rows(html: str) -> list[list[str]]:
    body = html.split('<table class="versions check-table">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"verdict-\w+\">(.*?)</tr>", body, re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


# --- upload → table → annotated copy ------------------------------------------------------------


def test_upload_shows_the_table_and_the_annotated_copy_downloads(
    app: FastAPI, site: Site, said: dict[str, str], tmp_path: Path
) -> None:
    wrong = one_more(said["enforcement.penalty_cases"])
    original = word_draft(draft_text(said, cases=wrong))
    on_disk = tmp_path / "核对稿.docx"
    on_disk.write_bytes(original)
    before = sorted(p.relative_to(site.home) for p in site.home.rglob("*"))

    with signed_in_client(app, "editor") as editor:
        page = post(editor, on_disk.read_bytes())
        assert page.status_code == 200, alert(page.text)
        assert page.headers["cache-control"] == "no-store"
        rows = table_rows(page.text)
        expected = [
            ("enforcement.penalty_cases", "处罚案件数", "不一致"),
            ("enforcement.fines_yuan", "罚款金额", "一致"),
            ("permits.received", "办理审批许可事项", "一致"),
            ("permits.completion_rate", "办结率", "一致"),
        ]
        assert [(r[2], r[3], r[4], r[5], r[6]) for r in rows] == [
            (wrong if verdict == "不一致" else said[key], "2023年", name, said[key], verdict)
            for key, name, verdict in expected
        ]
        assert rows[0][1].endswith(f"处罚相关案件{wrong}")  # the excerpt: words and figure
        counts = dict(re.findall(r'<span class="count-name">(\S+)</span><b>(\d+)</b>', page.text))
        assert counts == {
            "一致": "3",
            "不一致": "1",
            "数据缺失": "0",
            "无法核对": "0",
            "数字合计": "4",
        }
        assert "按规则不作为数字核对" in page.text and "（11位号码，不显示）" in page.text
        assert PHONE not in page.text and ID_NUMBER not in page.text

        copy = post(editor, on_disk.read_bytes(), path="/check/annotated",
                    checked=checked_hash(page.text))  # fmt: skip
    assert copy.status_code == 200, alert(copy.text)
    assert copy.headers["content-type"] == DOCX
    assert copy.headers["cache-control"] == "no-store"
    assert copy.headers["content-disposition"] == (
        'attachment; filename="draft-annotated.docx"; '
        f"filename*=UTF-8''{quote('核对稿（核对批注）.docx', safe='')}"
    )
    note = f"【核对：库内数值 {said['enforcement.penalty_cases']}】"
    assert _marked_runs(copy.content) == [wrong, note]  # the figure marked, the note after it
    assert on_disk.read_bytes() == original  # the editor's file is never touched
    after = sorted(p.relative_to(site.home) for p in site.home.rglob("*"))
    assert after == before  # nothing of the upload was written into the data directory


def _marked_runs(docx: bytes) -> list[str]:
    """The texts of the runs the annotator highlighted, in document order."""
    document = Document(io.BytesIO(docx))
    return [
        run_text(r)
        for p, _ in docx_paragraphs(document)
        for r in paragraph_runs(p)
        if r.find(".//{*}highlight") is not None
    ]


def test_the_highlight_is_yellow(app: FastAPI, said: dict[str, str]) -> None:
    wrong = one_more(said["enforcement.penalty_cases"])
    data = word_draft(draft_text(said, cases=wrong))
    with signed_in_client(app, "admin") as admin:  # admins may check too
        page = post(admin, data)
        copy = post(admin, data, path="/check/annotated", checked=checked_hash(page.text))
    document = Document(io.BytesIO(copy.content))
    runs = [run for p in document.paragraphs for run in p.runs if run.font.highlight_color]
    assert [r.text for r in runs][0] == wrong and len(runs) == 2  # the figure, then its note
    assert {r.font.highlight_color for r in runs} == {WD_COLOR_INDEX.YELLOW}
    assert runs[1].font.bold and runs[1].font.color.rgb is not None  # the note in red bold


def test_a_macro_enabled_draft_is_checked_and_its_copy_has_no_macros(
    app: FastAPI, said: dict[str, str]
) -> None:
    docm = macro_enabled(
        word_draft(draft_text(said, cases=one_more(said["enforcement.penalty_cases"])))
    )
    with signed_in_client(app, "editor") as editor:
        page = post(editor, docm, "核对稿.docm")
        assert page.status_code == 200 and "不一致" in page.text
        copy = post(
            editor, docm, "核对稿.docm", path="/check/annotated", checked=checked_hash(page.text)
        )
    assert copy.status_code == 200
    assert quote("核对稿（核对批注）.docx", safe="") in copy.headers["content-disposition"]
    names = zipfile.ZipFile(io.BytesIO(copy.content)).namelist()
    assert not [n for n in names if "vba" in n.lower()]


def test_a_text_draft_gets_the_table_and_no_copy(app: FastAPI, said: dict[str, str]) -> None:
    text = draft_text(said, cases=one_more(said["enforcement.penalty_cases"]))
    with signed_in_client(app, "editor") as editor:
        page = post(editor, text.encode("gb18030"), "核对稿.txt")
    assert page.status_code == 200
    assert "文本文件（GB18030）" in page.text
    assert [r[6] for r in table_rows(page.text)] == ["不一致", "一致", "一致", "一致"]
    assert 'name="checked"' not in page.text  # an annotated copy is a Word draft's


def test_a_draft_is_known_by_its_content_not_its_name(app: FastAPI, said: dict[str, str]) -> None:
    with signed_in_client(app, "editor") as editor:
        page = post(editor, word_draft(draft_text(said)), "核对稿.pdf")
    assert page.status_code == 200
    assert "核对稿.pdf（Word 文档）" in page.text
    assert [r[6] for r in table_rows(page.text)] == ["一致"] * 4


def test_a_clean_word_draft_needs_no_copy(app: FastAPI, said: dict[str, str]) -> None:
    data = word_draft(draft_text(said))
    with signed_in_client(app, "editor") as editor:
        page = post(editor, data)
        assert 'name="checked"' not in page.text
        again = post(
            editor, data, path="/check/annotated", checked=hashlib.sha256(data).hexdigest()
        )
    assert again.status_code == 200
    assert "无需批注副本" in again.text and again.headers["content-type"].startswith("text/html")


def test_the_copy_of_another_file_is_refused(app: FastAPI, said: dict[str, str]) -> None:
    checked = word_draft(draft_text(said, cases=one_more(said["enforcement.penalty_cases"])))
    other = word_draft(draft_text(said, cases="1宗"))
    with signed_in_client(app, "editor") as editor:
        page = post(editor, checked)
        copy = post(editor, other, path="/check/annotated", checked=checked_hash(page.text))
    assert copy.status_code == 400
    assert alert(copy.text).startswith("所选文件与刚才核对的不是同一份。请选择同一文件")


# --- periods ------------------------------------------------------------------------------------


def test_the_period_defaults_to_the_latest_fiscal_year_with_reports(app: FastAPI) -> None:
    with signed_in_client(app, "editor") as editor:
        page = editor.get("/check")
    assert page.status_code == 200
    assert re.findall(r'<option value="(\d{4})" selected>', page.text) == ["2023"]
    years = re.findall(r'<option value="(\d{4})"', page.text)
    assert years == ["2023", "2022"]
    assert '<option value="2023-07">2023年7月</option>' in page.text


def test_a_month_is_checked_for_that_month(app: FastAPI, site: Site) -> None:
    settings = site.settings()
    with warehouse.reader(settings) as con:
        july = compute(con, Period.parse("2023-07"), settings)["indicators"]
    cases = formatting.figure(
        indicator("enforcement.penalty_cases"), july["enforcement.penalty_cases"]
    )
    text = f"本月共办结处罚相关案件{cases}。"
    with signed_in_client(app, "editor") as editor:
        page = post(editor, text.encode(), "七月简报.txt", period="2023-07")
    assert page.status_code == 200
    assert [(r[2], r[3], r[6]) for r in table_rows(page.text)] == [(cases, "2023年7月", "一致")]
    assert '<option value="2023-07" selected>' in page.text


def test_an_impossible_period_is_refused_in_words(app: FastAPI, said: dict[str, str]) -> None:
    with signed_in_client(app, "editor") as editor:
        page = post(editor, draft_text(said).encode(), "a.txt", period="2023-13")
    assert page.status_code == 400
    assert alert(page.text).startswith("统计期无效：统计期格式应为 2023 或 2023-07")


# --- refusals -----------------------------------------------------------------------------------


def _zip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return out.getvalue()


def _bomb() -> bytes:
    """A real .docx with one more part of 60 MB of zeros: a few tens of KB as uploaded."""
    document = zipfile.ZipFile(io.BytesIO(word_draft("处罚相关案件936宗。")))
    parts = {i.filename: document.read(i) for i in document.infolist()}
    return _zip(parts | {"word/media/padding.bin": bytes(60 * 2**20)})


OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the container of .doc / .wps (and encrypted .docx)
#: (file name, its bytes (made when needed), words the refusal must contain)
NOT_DRAFTS: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "an image": ("照片.docx", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "空字节"),
    "a program": ("核对稿.docx", lambda: b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "空字节"),
    "a zip of other things": ("核对稿.docx", lambda: _zip({"a.txt": b"x"}), "不是 Word 文档"),
    "a zip bomb": ("核对稿.docx", _bomb, "疑似压缩炸弹"),
    "a legacy Word file": ("核对稿.doc", lambda: OLE + bytes(512), "另存为 .docx"),
    "an empty file": ("核对稿.txt", lambda: b"   \n", "文件是空的"),
    "no file at all": ("", lambda: b"", "请选择要核对的文稿文件"),
}


@pytest.mark.parametrize("case", list(NOT_DRAFTS))
def test_what_is_not_a_draft_is_refused_on_the_page(app: FastAPI, case: str) -> None:
    name, make, reason = NOT_DRAFTS[case]
    with signed_in_client(app, "editor") as editor:
        page = post(editor, make(), name)
    assert page.status_code == 400
    assert reason in alert(page.text)
    assert 'id="draft-file"' in page.text  # the form is there to try again
    assert "Traceback" not in page.text and "Error" not in page.text


def test_a_file_over_the_limit_is_refused_with_413(app: FastAPI) -> None:
    with signed_in_client(app, "editor") as editor:
        page = post(editor, b"d" * (LIMIT + 1))
        assert page.status_code == 413
        assert alert(page.text) == "上传的文件超过 10 MB 的限制。"
        assert 'id="draft-file"' in page.text
        huge = post(editor, b"d" * (2 * LIMIT))  # refused before it is read
        assert huge.status_code == 413 and "超过大小限制" in huge.text


def test_a_form_without_its_token_is_refused(app: FastAPI, said: dict[str, str]) -> None:
    with signed_in_client(app, "editor") as editor:
        refused = post(editor, word_draft(draft_text(said)), csrf=None)
        forged = post(editor, word_draft(draft_text(said)), csrf="0" * 43)
        copy = post(editor, word_draft(draft_text(said)), path="/check/annotated", csrf=None)
    assert (refused.status_code, forged.status_code, copy.status_code) == (403, 403, 403)
    assert "表单已失效" in refused.text
    found = [(e.action, e.actor, e.result, e.object) for e in security_of(app).audit.entries()]
    assert ("csrf", "editor", "refused", "/check") in found
    assert ("csrf", "editor", "refused", "/check/annotated") in found
    assert not [e for e in found if e[0] == "upload"]  # a refused form is not an upload


def test_viewers_and_strangers_cannot_check(app: FastAPI, said: dict[str, str]) -> None:
    with signed_in_client(app, "viewer") as viewer:
        assert viewer.get("/check").status_code == 403
        assert post(viewer, word_draft(draft_text(said))).status_code == 403
        assert "核对文稿" not in viewer.get("/").text  # no link to a page they may not use
    with TestClient(app, client=LOOPBACK) as stranger:
        assert stranger.get("/check", follow_redirects=False).status_code == 303
        response = stranger.post("/check", files={"file": ("a.txt", b"x")})
        assert response.status_code == 401


def test_without_a_warehouse_the_page_says_so(tmp_path: Path, said: dict[str, str]) -> None:
    site = build_site(tmp_path / "empty", months=1)
    app = make_app(site)
    add_staff(security_of(app))
    with signed_in_client(app, "editor") as editor:
        page = post(editor, word_draft(draft_text(said)))
    assert page.status_code == 503
    assert alert(page.text).startswith("数据仓库尚未建立")
    assert str(site.home) not in page.text  # no server path on the page


#: A writer in another process: opens the warehouse read-write and waits for its stdin to close.
HOLD_LOCK = (
    "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
    "sys.stdin.read()"
)


def test_while_an_ingest_holds_the_warehouse_the_page_says_so(
    app: FastAPI, site: Site, said: dict[str, str]
) -> None:
    """Another process writing the warehouse (an ingest) holds its lock: try again later."""
    path = str(site.home / "warehouse.duckdb")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, path], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"ready\n"
        with signed_in_client(app, "editor") as editor:
            page = post(editor, word_draft(draft_text(said)))
    finally:
        holder.communicate(b"")
    assert page.status_code == 503
    assert alert(page.text).startswith("数据仓库暂时无法读取（可能正在更新），请稍后重试。")


def test_in_open_mode_the_operator_may_check(site: Site, said: dict[str, str]) -> None:
    """No account yet: the single person on the server itself acts as an editor."""
    app = make_app(site)
    with TestClient(app, client=LOOPBACK) as local:
        assert '<a href="/check">核对文稿</a>' in local.get("/").text
        page = post(local, word_draft(draft_text(said)))
    assert page.status_code == 200
    assert [r[6] for r in table_rows(page.text)] == ["一致"] * 4


def test_before_any_report_the_period_is_last_months_year(tmp_path: Path) -> None:
    site = build_site(tmp_path)
    for year in (2022, 2023):
        site.write_index(year, {"fiscal_year": year, "reports": {}})
    app = make_app(site, clock=FakeClock())  # 2024-01-08: December 2023 is last month
    add_staff(security_of(app))
    with signed_in_client(app, "editor") as editor:
        page = editor.get("/check")
    assert re.findall(r'<option value="(\d{4})"', page.text) == ["2023"]
    assert '<option value="2023" selected>' in page.text


# --- the audit trail and the logs ---------------------------------------------------------------


def test_the_audit_entry_names_no_content(
    app: FastAPI, said: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = one_more(said["enforcement.penalty_cases"])
    data = word_draft(draft_text(said, cases=wrong))
    with signed_in_client(app, "editor") as editor:
        page = post(editor, data, "张三违建处罚核对稿.docx")
        post(editor, data, "张三违建处罚核对稿.docx", path="/check/annotated",
             checked=checked_hash(page.text))  # fmt: skip
        post(editor, b"\x89PNG\r\n\x1a\n\x00", "张三照片.docx")
    entries = [e for e in security_of(app).audit.entries() if e.action == "upload"]
    size = f"{len(data) / 1024:.0f} KB"
    assert [(e.actor, e.result) for e in entries] == [("editor", "ok")] * 2 + [
        ("editor", "refused")
    ]
    checked, copied, refused = entries
    assert re.fullmatch(rf"文稿 名称散列 [0-9a-f]{{12}}（{size}）", checked.object)
    assert copied.object == checked.object  # the same file, recognisable without its name
    assert checked.detail == "核对：docx，统计期 2023；一致 3，不一致 1，数据缺失 0，无法核对 0"
    assert copied.detail == "批注副本：docx，统计期 2023；一致 3，不一致 1，数据缺失 0，无法核对 0"
    assert refused.object != checked.object and "空字节" in refused.detail
    hashed = hashlib.sha256("张三违建处罚核对稿.docx".encode()).hexdigest()[:12]
    assert hashed not in checked.object  # keyed: a list of likely names does not find it
    stored = " ".join(f"{e.object} {e.detail}" for e in security_of(app).audit.entries())
    for secret in (*MARKERS, "张三", wrong, said["enforcement.fines_yuan"]):
        assert secret not in stored
        assert secret not in caplog.text

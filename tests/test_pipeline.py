"""The Prefect flows: which month a scheduled run reports on, what they refuse, what they leave.

The first tests need no Prefect server. The flow tests share one session-scoped
`prefect_harness` (tests/conftest.py); most replace the plain steps by recorders so they check
the orchestration alone (which periods, which tasks, which artifacts), and the last ones run
the real steps on the scale-1 sample: a repeated rerun changes nothing, and two overlapping
reruns never write at the same time.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from tests.factories import REPO_ROOT
from urbanreport import indicators
from urbanreport.core.clock import previous_month
from urbanreport.core.config import load_settings
from urbanreport.flows import pipeline
from urbanreport.flows.pipeline import (
    completed_months,
    fiscal_year_rerun,
    monthly_run,
    parse_month,
    validate_fiscal_year,
)
from urbanreport.ingest import batches as ingest
from urbanreport.ingest import http_source
from urbanreport.ingest.batches import BatchResult
from urbanreport.reports import build as report_build

SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- the month a run reports on -------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # The schedule's slot: 06:00 on 1 December in Beijing is still 30 November in UTC.
        (datetime(2023, 12, 1, 6, 0, tzinfo=SHANGHAI), "2023-11"),
        (datetime(2023, 11, 30, 22, 0, tzinfo=UTC), "2023-11"),
        # New Year: the December brief and (see the flow tests) the final annual report.
        (datetime(2024, 1, 1, 6, 0, tzinfo=SHANGHAI), "2023-12"),
        (datetime(2023, 12, 31, 22, 0, tzinfo=UTC), "2023-12"),
        # The last minute of November and the first of December in Beijing.
        (datetime(2023, 11, 30, 15, 59, tzinfo=UTC), "2023-10"),
        (datetime(2023, 11, 30, 16, 0, tzinfo=UTC), "2023-11"),
        # Naive times are UTC, as Prefect stores them.
        (datetime(2023, 11, 30, 22, 0), "2023-11"),
        (datetime(2024, 3, 1, 6, 0, tzinfo=SHANGHAI), "2024-02"),
    ],
)
def test_previous_month_is_taken_in_beijing_time(moment: datetime, expected: str) -> None:
    assert previous_month(moment) == expected


def test_fiscal_year_range() -> None:
    today = date(2026, 11, 26)
    assert validate_fiscal_year(2000, today) == 2000
    assert validate_fiscal_year(2027, today) == 2027
    for bad in (1999, 2028, 20233):
        with pytest.raises(ValueError, match="2000") as info:
            validate_fiscal_year(bad, today)
        assert str(bad) in str(info.value)
    for bad in ("2023", 2023.0, True, None):
        with pytest.raises(ValueError, match="财年"):
            validate_fiscal_year(bad, today)


def test_month_parameter() -> None:
    today = date(2026, 11, 26)
    assert parse_month("2023-07", today).label == "2023-07"
    assert parse_month(" 2023-7 ", today).label == "2023-07"
    for bad in ("2023", "2023-13", "2023-00", "23-07", "2023/07", "", None, 202307):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(bad, today)
    with pytest.raises(ValueError, match="1999"):
        parse_month("1999-12", today)


def test_a_rerun_renders_only_months_that_have_ended() -> None:
    today = date(2026, 11, 26)
    assert completed_months(2023, today) == [f"2023-{m:02d}" for m in range(1, 13)]
    assert completed_months(2026, today) == [f"2026-{m:02d}" for m in range(1, 11)]
    assert completed_months(2027, today) == []


@dataclass
class FakeEntry:
    """Shaped like reports.build.ReportEntry, as far as the flows read it."""

    path: Path
    sha256: str
    changed: bool
    generated_at: str
    id: str


def test_report_links_point_at_the_portal_when_it_is_published(tmp_path: Path) -> None:
    entry = FakeEntry(tmp_path / "报告 2023.pdf", "ab" * 32, True, "", "annual-2023-v1")
    settings = load_settings(tmp_path)
    assert pipeline.report_url(settings, entry, 2023) == entry.path.resolve().as_uri()
    settings.data["portal"]["base_url"] = "https://reports.example.gov.cn/"
    assert (
        pipeline.report_url(settings, entry, 2023)
        == "https://reports.example.gov.cn/download/2023/annual-2023-v1"
    )


def test_artifact_keys_are_lowercase_and_dashes() -> None:
    assert pipeline.artifact_key("monthly", "2023-07", "indicators") == "monthly-2023-07-indicators"
    assert pipeline.artifact_key("Report", "2023_01..2023_07") == "report-2023-01-2023-07"


def test_pull_has_one_retry_layer_the_configured_one() -> None:
    """The HTTP client retries the failing page (`[http] max_retries`); the task does not."""
    assert pipeline.pull_http_task.retries == 0


# --- the flows, with the plain steps replaced by recorders ----------------------------------


@dataclass
class Recorder:
    """What the flows asked the plain functions to do."""

    home: Path
    ingested: list[str] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)
    rendered: list[str] = field(default_factory=list)
    pull_errors: list[Exception] = field(default_factory=list)


@pytest.fixture
def steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Point the flows at an empty data directory and record the plain steps they call."""

    home = tmp_path / "home"
    monkeypatch.setenv("URBANREPORT_HOME", str(home))
    monkeypatch.delenv("URBANREPORT_CONFIG", raising=False)
    rec = Recorder(home)

    def ingest_source(con: Any, settings: Any, source: str) -> list[BatchResult]:
        rec.ingested.append(source)
        return [
            BatchResult(source, "2023-11.csv", "loaded", 10, 9, 1, batch_id=1),
            BatchResult(source, "2023-10.csv", "skipped"),
        ]

    def pull(settings: Any, *, full_refresh: bool = False, since: Any = None) -> None:
        rec.pulls.append({"full_refresh": full_refresh, "since": since})
        if rec.pull_errors:
            raise rec.pull_errors.pop(0)
        return None

    def compute(con: Any, period: Any, settings: Any = None) -> dict[str, Any]:
        rec.computed.append(period.label)
        return {
            "indicators": {"enforcement.filed_cases": 60, "enforcement.disclosure_on_time_rate": 1},
            "previous": {"enforcement.filed_cases": 48, "enforcement.disclosure_on_time_rate": 0.9},
            "change": {"enforcement.filed_cases": 12, "enforcement.disclosure_on_time_rate": 0.1},
            "quality": {
                "enforcement": {
                    "rows_read": 100,
                    "rows_loaded": 97,
                    "rows_rejected": 3,
                    "months_without_data": [],
                },
                "permits": {
                    "rows_read": 0,
                    "rows_loaded": 0,
                    "rows_rejected": 0,
                    "months_without_data": [11],
                },
            },
        }

    def render(settings: Any, period: Any, con: Any = None) -> FakeEntry:
        rec.rendered.append(period.label)
        path = settings.reports_dir / str(period.fiscal_year) / f"{period.label}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4 " + period.label.encode())
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return FakeEntry(path, digest, True, "2023-12-01T06:00:05+08:00", f"r-{period.label}")

    monkeypatch.setattr(ingest, "discover_sources", lambda settings: ["enforcement"])
    monkeypatch.setattr(ingest, "ingest_source", ingest_source)
    monkeypatch.setattr(ingest, "pull_http", pull)
    monkeypatch.setattr(indicators, "compute", compute)
    monkeypatch.setattr(report_build, "render", render)
    return rec


def run_scheduled(flow: Any, when: datetime, parameters: dict[str, Any] | None = None) -> UUID:
    """Create a flow run scheduled for `when` and run it here, as a worker would."""
    from prefect.client.orchestration import get_client
    from prefect.flow_engine import run_flow
    from prefect.states import Scheduled

    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(
            flow, parameters=parameters or {}, state=Scheduled(scheduled_time=when)
        )
    run_flow(flow, flow_run=flow_run, parameters=parameters or {})
    return flow_run.id


def artifacts_of(flow_run_id: UUID) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key: a for a in found}


def task_run_names(flow_run_id: UUID, expected: int) -> list[str]:
    """Names of a flow run's task runs, waiting (up to 20 s) until `expected` are recorded.

    Prefect records task runs from events, asynchronously: right after the flow returns the
    last ones may not be in the database yet.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + 20
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            if len(runs) >= expected or time.monotonic() > deadline:
                return sorted(r.name for r in runs)
            time.sleep(0.25)


def test_run_scheduled_on_1_december_beijing_reports_november(
    prefect_harness: None, steps: Recorder
) -> None:
    run_id = run_scheduled(monthly_run, datetime(2023, 12, 1, 6, 0, tzinfo=SHANGHAI))
    assert steps.rendered == ["2023-11", "2023"]
    assert steps.computed == ["2023-11", "2023"]
    assert steps.ingested == ["enforcement"]
    assert steps.pulls == [{"full_refresh": False, "since": None}]
    assert task_run_names(run_id, expected=8) == sorted(
        [
            "ingest-enforcement",
            "pull-dcm-http",
            "load-dcm-http",
            "refresh-calendar",
            "indicators-2023-11",
            "render-2023-11",
            "indicators-2023",
            "render-2023",
        ]
    )


def test_run_scheduled_on_new_year_renders_the_final_annual_report(
    prefect_harness: None, steps: Recorder
) -> None:
    run_scheduled(monthly_run, datetime(2024, 1, 1, 6, 0, tzinfo=SHANGHAI))
    assert steps.rendered == ["2023-12", "2023"]


def test_monthly_run_artifacts(
    prefect_harness: None, steps: Recorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "urbanreport.toml"
    config.write_text('[portal]\nbase_url = "https://reports.example.gov.cn"\n', encoding="utf-8")
    monkeypatch.setenv("URBANREPORT_CONFIG", str(config))

    state = monthly_run(period="2023-07", return_state=True)
    assert state.is_completed()
    assert steps.rendered == ["2023-07", "2023"]
    found = artifacts_of(state.state_details.flow_run_id)
    assert set(found) == {
        "monthly-2023-07-indicators",
        "monthly-2023-07-data-quality",
        "report-2023-07",
        "report-2023",
    }
    markdown = found["monthly-2023-07-indicators"]
    assert markdown.type == "markdown"
    assert "| 行政执法 | 立案数 | 60宗 | 48宗 | +25% |" in markdown.data
    assert "| 行政执法 | 处罚决定按时公示率 | 100% | 90% | +10个百分点 |" in markdown.data
    assert "enforcement：新文件 1 个" in markdown.data

    table = found["monthly-2023-07-data-quality"]
    assert table.type == "table"
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert {"统计期": "2023-07", "数据源": "行政处罚案件（enforcement）", "读取行数": 100,
            "入库行数": 97, "拒绝行数": 3, "无数据月份": "无"} in rows  # fmt: skip
    assert {r["统计期"] for r in rows} == {"2023-07", "2023"}

    link = found["report-2023"]  # Prefect stores a link artifact as markdown `[text](url)`
    assert "https://reports.example.gov.cn/download/2023/r-2023" in link.data


def test_artifact_links_are_file_urls_without_a_portal(
    prefect_harness: None, steps: Recorder
) -> None:
    state = monthly_run(period="2023-07", return_state=True)
    link = artifacts_of(state.state_details.flow_run_id)["report-2023-07"]
    assert (steps.home / "reports" / "2023" / "2023-07.pdf").resolve().as_uri() in link.data


def test_bad_parameters_are_refused_before_anything_is_done(
    prefect_harness: None, steps: Recorder
) -> None:
    next_year = datetime.now(SHANGHAI).year + 1
    with pytest.raises(ValueError, match="超出允许范围"):
        fiscal_year_rerun(fiscal_year=1999)
    with pytest.raises(ValueError, match=str(next_year + 1)):
        fiscal_year_rerun(fiscal_year=next_year + 1)
    for period in ("2023-13", "2023", "July"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            monthly_run(period=period)
    assert steps.ingested == steps.rendered == []
    assert not (steps.home / "warehouse.duckdb").exists()
    assert not (steps.home / "warehouse.lock").exists()


def test_fiscal_year_rerun_with_full_refresh(prefect_harness: None, steps: Recorder) -> None:
    state = fiscal_year_rerun(fiscal_year=2023, full_refresh=True, return_state=True)
    assert state.is_completed()
    assert steps.pulls == [{"full_refresh": True, "since": datetime(2023, 1, 1)}]
    assert steps.rendered == [f"2023-{m:02d}" for m in range(1, 13)] + ["2023"]
    assert state.result() == {
        label: str(steps.home / "reports" / "2023" / f"{label}.pdf") for label in steps.rendered
    }
    found = artifacts_of(state.state_details.flow_run_id)
    assert {"fiscal-year-2023-indicators", "fiscal-year-2023-data-quality"} <= set(found)
    assert {f"report-2023-{m:02d}" for m in range(1, 13)} | {"report-2023"} <= set(found)


def test_rerun_without_full_refresh_keeps_the_watermark(
    prefect_harness: None, steps: Recorder
) -> None:
    fiscal_year_rerun(fiscal_year=2023)
    assert steps.pulls == [{"full_refresh": False, "since": None}]


def test_rerun_of_the_current_year_stops_at_the_last_full_month(
    prefect_harness: None, steps: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "today_in_shanghai", lambda: date(2024, 3, 15))
    fiscal_year_rerun(fiscal_year=2024)
    assert steps.rendered == ["2024-01", "2024-02", "2024"]


def test_rerun_of_next_year_only_ingests(
    prefect_harness: None, steps: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "today_in_shanghai", lambda: date(2024, 12, 20))
    state = fiscal_year_rerun(fiscal_year=2025, return_state=True)
    assert state.is_completed()
    assert steps.ingested == ["enforcement"] and steps.rendered == []
    assert "fiscal-year-2025-indicators" in artifacts_of(state.state_details.flow_run_id)


def test_a_failing_pull_fails_the_run_before_the_lock_is_taken(
    prefect_harness: None, steps: Recorder
) -> None:
    steps.pull_errors.append(http_source.HttpSourceAuthError("401 Unauthorized"))
    with pytest.raises(http_source.HttpSourceAuthError):
        monthly_run(period="2023-11")
    assert len(steps.pulls) == 1
    assert steps.ingested == [] and steps.rendered == []
    assert not (steps.home / "warehouse.lock").exists()


def test_flows_use_the_settings_they_are_given(
    prefect_harness: None, steps: Recorder, tmp_path: Path
) -> None:
    other = load_settings(tmp_path / "other")
    with pipeline.using_settings(other):
        result = monthly_run(period="2023-11")
    assert result["2023"] == str(other.reports_dir / "2023" / "2023.pdf")
    assert (other.home / "warehouse.duckdb").exists()
    assert not (steps.home / "warehouse.duckdb").exists()


def test_demo_reruns_each_year_of_the_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings(tmp_path)
    with pytest.raises(FileNotFoundError, match="urbanreport sample"):
        pipeline.demo(settings)

    settings.inbox.mkdir(parents=True)
    (settings.inbox / pipeline.SAMPLE_MANIFEST).write_text(
        json.dumps({"years": [2024, 2022, 2023], "files": []}), encoding="utf-8"
    )
    seen: list[tuple[int, Path]] = []

    def rerun(fiscal_year: int) -> dict[str, str]:
        seen.append((fiscal_year, pipeline.current_settings().home))
        return {str(fiscal_year): f"/reports/{fiscal_year}/annual.pdf"}

    monkeypatch.setattr(pipeline, "fiscal_year_rerun", rerun)
    pipeline.demo(settings)
    assert seen == [(2022, settings.home), (2023, settings.home), (2024, settings.home)]
    assert "/reports/2023/annual.pdf" in capsys.readouterr().out


# --- the real steps on the scale-1 sample: overlapping reruns ------------------------------


def report_files(home: Path, year: int) -> dict[str, str]:
    """Every file under reports/<year>/ (PDFs, dated older versions, index.json) → sha256."""
    folder = home / "reports" / str(year)
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def _rerun(home: Path, api_url: str, config: Path | None = None) -> subprocess.Popen[str]:
    """`urbanreport rerun --fiscal-year 2023` in its own process, as an operator would type it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANREPORT_")}
    env.update(URBANREPORT_HOME=str(home), PREFECT_API_URL=api_url)
    if config is not None:
        env["URBANREPORT_CONFIG"] = str(config)
    return subprocess.Popen(
        [sys.executable, "-m", "urbanreport.cli", "rerun", "--fiscal-year", "2023"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_lock_holder(lock: Path, proc: subprocess.Popen[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not (lock.exists() and lock.read_text().strip() == f"pid {proc.pid}"):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"pid {proc.pid} never took the warehouse lock"
        time.sleep(0.05)


@dataclass
class Overlap:
    home: Path
    pids: list[int]
    outcomes: list[tuple[int, str, str]]  # (exit code, stdout, stderr) of first, impatient, patient
    after_first: dict[str, str]  # reports/2023 when the patient rerun took over the lock
    after_all: dict[str, str]


@pytest.fixture(scope="module")
def overlap(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Overlap]:
    """Three reruns of 2023 on the same data: one holds the warehouse lock, one started
    meanwhile gives up after 1 s, one started meanwhile waits for its turn.

    The patient one is also a rerun on unchanged data: the reports are captured the moment it
    takes the lock (the first rerun has finished writing then) and again when it is done.
    """
    from prefect.settings import PREFECT_API_URL

    from urbanreport.sample import write_sample

    home = tmp_path_factory.mktemp("overlap")
    write_sample(load_settings(home), years=[2023], scale=1)
    impatient = home / "impatient.toml"
    impatient.write_text("[ingest]\nlock_timeout_seconds = 1\n", encoding="utf-8")
    api_url = PREFECT_API_URL.value()  # the harness's server: no temporary server per process
    lock = home / "warehouse.lock"

    procs: list[subprocess.Popen[str]] = []
    try:
        procs.append(_rerun(home, api_url))
        _wait_for_lock_holder(lock, procs[0], timeout=180)
        procs.append(_rerun(home, api_url, impatient))
        procs.append(_rerun(home, api_url))
        _wait_for_lock_holder(lock, procs[2], timeout=900)
        after_first = report_files(home, 2023)
        outcomes = [(p.wait(timeout=900), *p.communicate()) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    yield Overlap(home, [p.pid for p in procs], outcomes, after_first, report_files(home, 2023))


@pytest.mark.slow
def test_overlapping_reruns_take_turns_at_the_warehouse(overlap: Overlap) -> None:
    (first_rc, _, first_err), (refused_rc, _, refused_err), (waited_rc, _, waited_err) = (
        overlap.outcomes
    )
    assert first_rc == 0, first_err
    assert refused_rc == 2, refused_err
    assert "仓库正被占用" in refused_err and f"pid {overlap.pids[0]}" in refused_err
    assert waited_rc == 0, waited_err

    # Intact: every file ingested exactly once, keys unique, every report registered once.
    import duckdb

    home = overlap.home
    files = sorted(
        p.relative_to(home / "inbox").as_posix()
        for p in (home / "inbox").rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        batches = con.execute(
            "SELECT source || '/' || file_name, count(*) FROM batches GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert [name for name, _ in batches] == files
        assert all(n == 1 for _, n in batches)
        for table, key in (("enforcement", "case_id"), ("permits", "permit_id")):
            total, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT {key}) FROM {table}"
            ).fetchone()
            assert total == distinct > 0
    finally:
        con.close()
    pdfs = [name for name in overlap.after_all if name.endswith(".pdf")]
    assert len(pdfs) == 13
    assert json.loads((home / "reports" / "2023" / "index.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_a_rerun_on_unchanged_data_changes_no_report(overlap: Overlap) -> None:
    """Same bytes for every PDF, the same index.json, no dated older versions."""
    assert overlap.outcomes[2][0] == 0
    assert len([n for n in overlap.after_first if n.endswith(".pdf")]) == 13
    assert overlap.after_all == overlap.after_first

"""prefect.yaml and `make serve` / `make stop`: the scheduled deployments as the bureau runs them.

The static checks read prefect.yaml and the Makefile. The integration test does what an
operator does: start a real Prefect server with its own PREFECT_HOME on a free loopback port
(scripts/serve.sh: work pool, `prefect deploy --all`, a worker), trigger the fiscal-year rerun
of 2023 on the scale-1 sample through the worker, wait for it to complete, and look at the
reports, the artifacts and the monthly schedule. Whatever happens, everything it started is
stopped again (scripts/stop.sh, then the recorded process groups if anything survived).
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.factories import REPO_ROOT
from tests.prefect_server import alive, free_port, log_tails, recorded_pids
from urbanreport.core.config import load_settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
PREFECT_YAML = REPO_ROOT / "prefect.yaml"
SERVE = REPO_ROOT / "scripts" / "serve.sh"
STOP = REPO_ROOT / "scripts" / "stop.sh"


def deployments() -> dict[str, dict[str, Any]]:
    doc = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    return {d["name"]: d for d in doc["deployments"]}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


# --- prefect.yaml and the Makefile ----------------------------------------------------------


def test_monthly_deployment_runs_at_six_on_the_first_in_beijing() -> None:
    monthly = deployments()["monthly"]
    assert monthly["entrypoint"] == "flows/pipeline.py:monthly_run"
    [schedule] = monthly["schedules"]
    assert schedule["cron"] == "0 6 1 * *"
    assert schedule["timezone"] == "Asia/Shanghai"
    assert schedule["slug"] and schedule["active"] is True
    assert monthly["parameters"] == {}


def test_rerun_deployment_has_no_schedule_and_needs_a_year() -> None:
    from urbanreport.flows.pipeline import fiscal_year_rerun

    rerun = deployments()["fiscal-year-rerun"]
    assert rerun["entrypoint"] == "flows/pipeline.py:fiscal_year_rerun"
    assert not rerun.get("schedules")
    assert "fiscal_year" not in rerun["parameters"]
    assert rerun["enforce_parameter_schema"] is True
    schema = fiscal_year_rerun.parameters
    assert schema.required == ["fiscal_year"]
    assert schema.properties["fiscal_year"]["type"] == "integer"


def test_refresh_deployment_runs_daily_at_half_past_six_in_beijing() -> None:
    refresh = deployments()["refresh"]
    assert refresh["entrypoint"] == "flows/refresh.py:refresh"
    [schedule] = refresh["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == ("30 6 * * *", "Asia/Shanghai")
    assert schedule["active"] is True


def test_one_run_at_a_time_on_the_process_pool() -> None:
    for deployment in deployments().values():
        assert deployment["concurrency_limit"]["limit"] == 1
        assert deployment["work_pool"]["name"] == "urbanreport-pool"
        flow_file, _, function = deployment["entrypoint"].partition(":")
        assert (REPO_ROOT / flow_file).is_file()

        module = importlib.import_module(
            "urbanreport." + flow_file.removesuffix(".py").replace("/", ".")
        )
        assert hasattr(getattr(module, function), "deploy")


def test_no_machine_path_is_baked_in() -> None:
    doc = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    assert doc["pull"] == [
        {
            "prefect.deployments.steps.set_working_directory": {
                "directory": "{{ $URBANREPORT_PROJECT_DIR }}"
            }
        }
    ]
    assert not [s for s in strings(doc) if s.startswith(("/", "~")) or ":\\" in s]


def test_make_serve_and_stop_call_the_scripts() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\nserve: install\n\tVENV=$(VENV) scripts/serve.sh\n" in makefile
    assert "\nstop:\n\tVENV=$(VENV) scripts/stop.sh\n" in makefile
    for script in (SERVE, STOP):
        assert os.access(script, os.X_OK)
        subprocess.run(["bash", "-n", str(script)], check=True)


# --- a real server, worker and deployment ---------------------------------------------------


@pytest.mark.integration
@pytest.mark.slow
def test_served_deployment_runs_a_fiscal_year_rerun(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from urbanreport.sample import write_sample

    home = tmp_path / "home"
    write_sample(load_settings(home), years=[2022, 2023], scale=1)
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "URBANREPORT_"))}
    env.update(
        URBANREPORT_HOME=str(home),
        URBANREPORT_PREFECT_PORT=str(port),
        VENV=sys.prefix,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_WORKER_QUERY_SECONDS="2",  # pick the run up quickly; the default is 10 s
    )

    pids: list[int] = []
    try:
        started = time.monotonic()
        serve = subprocess.run(
            [str(SERVE)], env=env, capture_output=True, text=True, timeout=300, check=False
        )
        pids = recorded_pids(home)
        assert serve.returncode == 0, serve.stdout + serve.stderr + log_tails(home)
        assert f"http://127.0.0.1:{port}" in serve.stdout
        serve_seconds = time.monotonic() - started

        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            started = time.monotonic()
            flow_run = run_deployment(
                "fiscal-year-rerun/fiscal-year-rerun",
                parameters={"fiscal_year": 2023},
                timeout=900,
                poll_interval=2,
            )
            run_seconds = time.monotonic() - started
            assert flow_run.state is not None and flow_run.state.is_completed(), (
                f"{flow_run.state}\n{log_tails(home)}"
            )
            print(f"serve.sh {serve_seconds:.1f} s; fiscal-year rerun {run_seconds:.1f} s")

            # The daily refresh, once: nothing new since the rerun, so nothing is rewritten.
            before = {p: p.stat().st_mtime_ns for p in (home / "reports").rglob("*.pdf")}
            refreshed = run_deployment(
                "refresh/refresh", parameters={}, timeout=600, poll_interval=2
            )
            assert refreshed.state is not None and refreshed.state.is_completed(), (
                f"{refreshed.state}\n{log_tails(home)}"
            )
            assert {p: p.stat().st_mtime_ns for p in before} == before

            with get_client(sync_client=True) as client:
                artifacts = client.read_artifacts(
                    artifact_filter=ArtifactFilter(
                        flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id])
                    )
                )
                refresh_artifacts = client.read_artifacts(
                    artifact_filter=ArtifactFilter(
                        flow_run_id=ArtifactFilterFlowRunId(any_=[refreshed.id])
                    )
                )
                daily = client.read_deployment_by_name("refresh/refresh")
                monthly = client.read_deployment_by_name("monthly-run/monthly")
                rerun = client.read_deployment_by_name("fiscal-year-rerun/fiscal-year-rerun")
                deadline = time.monotonic() + 60
                while True:
                    upcoming = client.read_flow_runs(
                        deployment_filter=DeploymentFilter(
                            id=DeploymentFilterId(any_=[monthly.id])
                        ),
                        flow_run_filter=FlowRunFilter(
                            state=FlowRunFilterState(
                                type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])
                            )
                        ),
                        sort=FlowRunSort.EXPECTED_START_TIME_ASC,
                        limit=1,
                    )
                    if upcoming or time.monotonic() > deadline:
                        break
                    time.sleep(1)
    finally:
        subprocess.run([str(STOP)], env=env, capture_output=True, text=True, timeout=120)
        for pid in pids:
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)
    assert pids and not [p for p in pids if alive(p)], "make stop left processes running"

    # The reports of 2023: twelve briefs and the annual report.
    pdfs = sorted((home / "reports" / "2023").glob("*.pdf"))
    assert len(pdfs) >= 13
    assert all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs)

    keys = {a.key for a in artifacts}
    assert {"fiscal-year-2023-indicators", "fiscal-year-2023-data-quality"} <= keys
    assert {f"report-2023-{m:02d}" for m in range(1, 13)} | {"report-2023"} <= keys

    # The monthly schedule: its next run is 06:00 Beijing time on the 1st of a month.
    assert upcoming, "the server scheduled no monthly run"
    nxt = upcoming[0].expected_start_time.astimezone(SHANGHAI)
    assert (nxt.day, nxt.hour, nxt.minute) == (1, 6, 0)
    now = datetime.now(UTC)
    assert now < nxt <= now + timedelta(days=32)
    [schedule] = monthly.schedules
    assert schedule.schedule.cron == "0 6 1 * *"
    assert schedule.schedule.timezone == "Asia/Shanghai"
    assert not rerun.schedules
    assert "refresh" in {a.key for a in refresh_artifacts}
    [daily_schedule] = daily.schedules
    assert (daily_schedule.schedule.cron, daily_schedule.schedule.timezone) == (
        "30 6 * * *",
        "Asia/Shanghai",
    )

    # Deployed as written: the project directory stays a placeholder, one run at a time.
    for deployment in (monthly, rerun):
        assert deployment.pull_steps == [
            {
                "prefect.deployments.steps.set_working_directory": {
                    "directory": "{{ $URBANREPORT_PROJECT_DIR }}"
                }
            }
        ]
        assert deployment.global_concurrency_limit.limit == 1

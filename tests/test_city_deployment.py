"""A city's deployments: one monthly deployment per district of the city file, the city rollup
after them, and a real Prefect server whose two workers run two districts at once on a lake.

The static tests check what `urbanreport city-deployments` generates against the city file. The
integration test does what the city's operator does: a lake on a real PostgreSQL, sample data
for two districts, scripts/serve.sh with two workers, both districts' July runs started at the
same moment, then the city rollup; everything it started is stopped again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.factories import REPO_ROOT
from tests.postgres_cluster import Cluster
from tests.prefect_server import alive, free_port, log_tails, recorded_pids
from urbanreport import cli
from urbanreport.core import deployments
from urbanreport.core.city import SHANTOU_FILE, load_city
from urbanreport.core.config import CATALOG_PASSWORD_ENV
from urbanreport.flows.city import city_rollup
from urbanreport.flows.pipeline import monthly_run

SERVE = REPO_ROOT / "scripts" / "serve.sh"
STOP = REPO_ROOT / "scripts" / "stop.sh"
TWO = {"440507": "龙湖区", "440511": "金平区"}


def shantou_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(SHANTOU_FILE, home / "city.toml")
    return home


def test_every_district_of_the_city_file_gets_its_monthly_deployment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("URBANREPORT_CITY", raising=False)
    city = load_city(shantou_home(tmp_path))
    doc = deployments.city_deployments(city)
    *districts, rollup = doc["deployments"]
    assert [d["parameters"] for d in districts] == [{"district": c} for c in city.codes]
    assert len(city.codes) == 7
    assert len({d["name"] for d in doc["deployments"]}) == 8
    for d in districts:
        assert d["entrypoint"] == "flows/pipeline.py:monthly_run"
        [schedule] = d["schedules"]
        assert (schedule["cron"], schedule["timezone"]) == ("0 6 1 * *", "Asia/Shanghai")
        assert d["work_pool"]["name"] == "urbanreport-pool"
        assert d["parameters"]["district"] in d["description"]
    # The rollup comes an hour after the districts, one at a time.
    assert rollup["entrypoint"] == "flows/city.py:city_rollup"
    [schedule] = rollup["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 7 1 * *", "Asia/Shanghai")
    assert rollup["concurrency_limit"]["limit"] == 1
    # The flows take what the deployments pass them.
    assert "district" in monthly_run.parameters.properties
    assert "period" in city_rollup.parameters.properties
    assert deployments.district_limits(city) == [f"urbanreport-district-{c}" for c in city.codes]
    assert doc["pull"] == yaml.safe_load((REPO_ROOT / "prefect.yaml").read_text())["pull"]


def test_the_command_writes_exactly_the_generated_deployments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = shantou_home(tmp_path)
    monkeypatch.setenv("URBANREPORT_HOME", str(home))
    monkeypatch.delenv("URBANREPORT_CITY", raising=False)
    out = tmp_path / "city.yaml"
    assert cli.main(["city-deployments", "--output", str(out)]) == 0
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert written == deployments.city_deployments(load_city(home))
    assert out.read_text(encoding="utf-8").startswith("# Prefect deployments of 汕头市")


# --- a real server, two workers, two districts at once --------------------------------------


def city_home(root: Path, postgres: Cluster) -> Path:
    """A home for two districts on a fresh lake, each with its own sample data."""
    from urbanreport.sample import write_sample

    home = root / "home"
    home.mkdir()
    lines = ['[city]\ncode = "440500"\nname = "汕头市"\n']
    lines += [f'[districts.{code}]\nname = "{name}"\n' for code, name in TWO.items()]
    (home / "city.toml").write_text("\n".join(lines), encoding="utf-8")
    catalog = postgres.catalog(postgres.new_database())
    config = f'[warehouse]\nbackend = "ducklake"\ncatalog = "{catalog}"\ndata_path = "lake"\n'
    (home / "urbanreport.toml").write_text(config, encoding="utf-8")
    city = load_city(home)
    for code in TWO:
        write_sample(city.settings_for(code), years=[2022, 2023], scale=1)
    return home


def wait_all(client: Any, ids: list[Any], seconds: float) -> list[Any]:
    deadline = time.monotonic() + seconds
    while True:
        runs = [client.read_flow_run(i) for i in ids]
        if all(r.state is not None and r.state.is_final() for r in runs):
            return runs
        assert time.monotonic() < deadline, [str(r.state) for r in runs]
        time.sleep(2)


@pytest.mark.integration
@pytest.mark.slow
def test_two_districts_run_at_once_on_two_workers_then_the_city_rollup(
    tmp_path: Path, postgres: Cluster
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    home = city_home(tmp_path, postgres)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "URBANREPORT_"))}
    env.update(
        URBANREPORT_HOME=str(home),
        URBANREPORT_PREFECT_PORT=str(port),
        URBANREPORT_WORKERS="2",
        URBANREPORT_WORKER_RUNS="1",  # one run per worker: the two districts on two workers
        VENV=sys.prefix,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_WORKER_QUERY_SECONDS="2",
    )
    env[CATALOG_PASSWORD_ENV] = postgres.password
    pids: list[int] = []
    try:
        serve = subprocess.run(
            [str(SERVE)], env=env, capture_output=True, text=True, timeout=400, check=False
        )
        pids = recorded_pids(home)
        assert serve.returncode == 0, serve.stdout + serve.stderr + log_tails(home)
        assert len(pids) == 3  # the server and two workers
        with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{port}/api"}):
            started = [
                run_deployment(
                    f"monthly-run/{deployments.district_deployment(code)}",
                    parameters={"period": "2023-07"},
                    timeout=0,
                )
                for code in TWO
            ]
            with get_client(sync_client=True) as client:
                districts = wait_all(client, [r.id for r in started], 1500)
                for run in districts:
                    assert run.state.is_completed(), f"{run.state}\n{log_tails(home)}"
                limits = [
                    client.read_global_concurrency_limit_by_name(deployments.district_limit(c))
                    for c in TWO
                ]
            rollup = run_deployment(
                f"city-rollup/{deployments.CITY_DEPLOYMENT}",
                parameters={"period": "2023-07"},
                timeout=1500,
                poll_interval=2,
            )
            assert rollup.state.is_completed(), f"{rollup.state}\n{log_tails(home)}"
    finally:
        subprocess.run([str(STOP)], env=env, capture_output=True, text=True, timeout=120)
        for pid in pids:
            if alive(pid):
                os.killpg(pid, signal.SIGKILL)
    assert pids and not [p for p in pids if alive(p)], "make stop left processes running"

    # Both districts' runs were under way at the same time, each on its own worker.
    first, second = districts
    assert first.start_time < second.end_time and second.start_time < first.end_time
    logs = {p.name: p.read_text(errors="replace") for p in (home / "prefect").glob("worker*.log")}
    ran_on = {
        run.id: [name for name, text in logs.items() if str(run.id) in text] for run in districts
    }
    assert all(len(names) == 1 for names in ran_on.values()), ran_on
    assert ran_on[first.id] != ran_on[second.id], ran_on
    assert [limit.limit for limit in limits] == [1, 1]

    # The city reports of the month and of its fiscal year, in every format.
    folder = home / "reports" / "city" / "2023"
    for title in ("2023年7月全市法治政府建设数据月报", "2023年度全市法治政府建设数据报告"):
        for suffix in (".pdf", ".docx", ".xlsx"):
            assert (folder / f"{title}{suffix}").is_file(), sorted(folder.iterdir())

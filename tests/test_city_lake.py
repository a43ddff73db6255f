"""A city on one DuckLake (real PostgreSQL catalog): districts write at once, read apart.

Three districts of 汕头市 each get the sample of their own configuration (their own streets,
so their own volumes: 金平区 has twelve streets, 龙湖区 ten, 南澳县 three towns) in their own
inbox of one home. 龙湖区 and 金平区 ingest into the lake at the same moment, from two
processes; 南澳县 after them. The same files also go into one embedded warehouse per district.
Each district's figures from the lake must equal its own warehouse's, the city's figures the
oracle's recomputation over the districts' records in the lake, and a second ingest of every
district must write nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import indicator_oracle as oracle
from tests.factories import REPO_ROOT, lake_tables_written_since, snapshot
from tests.postgres_cluster import Cluster
from urbanreport.core import catalogue, warehouse
from urbanreport.core.city import City, load_city
from urbanreport.core.config import CATALOG_PASSWORD_ENV, SOURCES, Settings
from urbanreport.indicators import Period, breakdowns, city_to_json, compute, compute_city
from urbanreport.ingest.batches import ingest_all
from urbanreport.sample import write_sample

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CODES = {"440507": "龙湖区", "440511": "金平区", "440523": "南澳县"}
CONCURRENT = ["440507", "440511"]
PERIODS = ["2023", "2023-07"]
KINDS = {key: item.kind for key, item in catalogue.indicators().items()}

# One district's ingest in its own process: waits for the go file, so that both start at once.
WRITER = r"""
import json, sys, time
from pathlib import Path
from urbanreport.core.city import load_city
from urbanreport.ingest.batches import ingest_all
home, go, code = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
settings = load_city(home).settings_for(code)
(home / f"ready-{code}").touch()
while not go.exists():
    time.sleep(0.02)
started = time.time()
results = ingest_all(settings)
print(json.dumps({"started": started, "finished": time.time(),
                  "statuses": sorted({b.status for bs in results.values() for b in bs})}))
"""


def city_file(codes: list[str]) -> str:
    return '[city]\ncode = "440500"\n' + "".join(f"[districts.{c}]\n" for c in codes)


def child_env(password: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("URBANREPORT_")}
    return env | {"PYTHONPATH": str(REPO_ROOT), CATALOG_PASSWORD_ENV: password}


@dataclass
class Lake:
    city: City
    embedded: dict[str, Settings]  # one warehouse per district, the same files
    runs: dict[str, dict[str, Any]]
    password: str


def embedded_home(root: Path, lake: City, code: str) -> Settings:
    home = root / f"embedded-{code}"
    home.mkdir()
    (home / "city.toml").write_text(city_file([code]), encoding="utf-8")
    settings = load_city(home).settings_for(code)
    shutil.copytree(lake.settings_for(code).inbox, settings.inbox)  # mtimes kept
    ingest_all(settings)
    return settings


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, postgres: Cluster) -> Iterator[Lake]:
    root = tmp_path_factory.mktemp("city-lake")
    home = root / "lake-home"
    postgres.lake_settings(home, postgres.new_database(), root / "lake-data")
    (home / "city.toml").write_text(city_file(list(CODES)), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("URBANREPORT_CONFIG", "URBANREPORT_CITY", "URBANREPORT_HOME"):
            mp.delenv(name, raising=False)
        mp.setenv(CATALOG_PASSWORD_ENV, postgres.password)
        city = load_city(home)
        for code in CODES:
            write_sample(city.settings_for(code), [2023])
        go = root / "go"
        procs = {
            code: subprocess.Popen(
                [sys.executable, "-c", WRITER, str(home), str(go), code],
                cwd=REPO_ROOT,
                env=child_env(postgres.password),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for code in CONCURRENT
        }
        deadline = time.monotonic() + 120
        while not all((home / f"ready-{c}").exists() for c in CONCURRENT):
            assert time.monotonic() < deadline, "the writers did not start"
            time.sleep(0.05)
        go.touch()
        runs = {}
        for code, proc in procs.items():
            out, err = proc.communicate(timeout=900)
            assert proc.returncode == 0, f"{code}: {err[-3000:]}"
            runs[code] = json.loads(out.strip().splitlines()[-1])
        ingest_all(city.settings_for("440523"))
        embedded = {code: embedded_home(root, city, code) for code in CODES}
        yield Lake(city, embedded, runs, postgres.password)


def figures(settings: Settings, con: Any, label: str) -> dict[str, Any]:
    result = compute(con, Period.parse(label), settings)
    result["breakdowns"] = breakdowns(con, Period.parse(label), settings)
    return result


def test_two_districts_ingesting_at_once_both_commit(lake: Lake) -> None:
    a, b = (lake.runs[c] for c in CONCURRENT)
    assert a["started"] < b["finished"] and b["started"] < a["finished"]  # they overlapped
    for code in CONCURRENT:
        assert set(lake.runs[code]["statuses"]) <= {"loaded", "refused"}, code
    with warehouse.reader(lake.city.settings_for("440507")) as con:
        ids = [r[0] for r in con.execute("SELECT batch_id FROM batches").fetchall()]
        assert len(ids) == len(set(ids))  # unique across the districts
        per = dict(con.execute("SELECT district, count(*) FROM batches GROUP BY ALL").fetchall())
    for code, settings in lake.embedded.items():
        with warehouse.reader(settings) as emb:
            assert per[code] == emb.execute("SELECT count(*) FROM batches").fetchone()[0], code


@pytest.mark.parametrize("label", PERIODS)
def test_each_districts_figures_from_the_lake_equal_its_own_warehouses(
    lake: Lake, label: str
) -> None:
    volumes = {}
    with warehouse.reader(lake.city.settings_for("440507")) as con:
        for code, own in lake.embedded.items():
            settings = lake.city.settings_for(code)
            shown = figures(settings, con, label)
            with warehouse.reader(own) as emb:
                expected = figures(own, emb, label)
            assert shown == expected, code
            volumes[code] = shown["indicators"]["dcm.reported"]
    assert volumes["440511"] > volumes["440507"] > volumes["440523"] > 0  # their own volumes


@pytest.mark.parametrize("label", PERIODS)
def test_the_city_figures_are_a_recomputation_over_the_districts_records(
    lake: Lake, label: str
) -> None:
    period = Period.parse(label)
    records: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    with warehouse.reader(lake.city.settings_for("440507")) as con:
        result = compute_city(con, period, lake.city)
        for table in SOURCES:
            rows = con.sql(f"SELECT * FROM {table}").to_arrow_table().to_pylist()
            for code in CODES:
                records[code][table] = [r for r in rows if r["district"] == code]
    whole = {c: lake.city.settings_for(c)["district"]["whole_district"] for c in CODES}
    assert whole["440523"] == "全县"
    expected = oracle.city_indicators(records, period.start, period.end, whole)
    for key, want in expected.items():
        got = result.total["indicators"][key]
        assert oracle.same(KINDS[key], want, got), f"{key}: {got!r} ≠ {want!r}"
    assert [d.code for d in result.districts] == list(CODES)
    assert all(d.has_data for d in result.districts)


def test_reingesting_every_district_writes_nothing(lake: Lake) -> None:
    settings = lake.city.settings_for("440507")
    with warehouse.reader(settings) as con:
        before = snapshot(con)
        (snap,) = con.execute("SELECT max(snapshot_id) FROM ducklake_snapshots('lake')").fetchone()
    for code in CODES:
        results = ingest_all(lake.city.settings_for(code))
        assert {b.status for bs in results.values() for b in bs} == {"skipped"}, code
    with warehouse.reader(settings) as con:
        assert snapshot(con) == before
        # Nothing but the districts' write leases (urbanreport/core/lease.py) was committed.
        assert lake_tables_written_since(con, snap) <= {"leases"}


def run_cli(home: Path, password: str, *args: str) -> dict[str, Any]:
    env = child_env(password) | {"URBANREPORT_HOME": str(home)}
    proc = subprocess.run(
        [sys.executable, "-m", "urbanreport.cli", "indicators", "--period", "2023", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_command_line_reads_a_district_and_the_city_from_the_lake(lake: Lake) -> None:
    home = lake.city.home
    jinping = run_cli(home, lake.password, "--district", "440511", "--json")
    own = run_cli(lake.embedded["440511"].home, "", "--district", "440511", "--json")
    assert jinping["indicators"] == own["indicators"]
    city = run_cli(home, lake.password, "--city", "--json")
    assert city["city"] == {"code": "440500", "name": "汕头市"}
    assert [d["code"] for d in city["districts"]] == list(CODES)
    assert city["districts"][1]["indicators"] == own["indicators"]
    with warehouse.reader(lake.city.settings_for("440507")) as con:
        expected = city_to_json(compute_city(con, Period.parse("2023"), lake.city))
    assert city == json.loads(json.dumps(expected, ensure_ascii=False))

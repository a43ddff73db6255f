"""`make bench` (its city rows): districts writing at once to a lake, and the city rollup.

Not a test: nothing here asserts a time. It starts a throwaway PostgreSQL (scripts/postgres.sh;
without PostgreSQL installed it says so and measures nothing) and, at `BENCH_CITY_SCALE`
(default 10), sample fiscal year 2023:

* two districts (龙湖区, 金平区) ingested at the same time into one lake, each by its own
  `urbanreport ingest --district` process, against the same files ingested one district after
  the other into the embedded file;
* the city rollup's indicators (`indicators.compute_city`, every figure of the city and of
  each district) over seven districts on the lake, warm, best of three.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests import postgres_cluster
from urbanreport.core.config import CATALOG_PASSWORD_ENV

SHANTOU = {
    "440507": "龙湖区",
    "440511": "金平区",
    "440512": "濠江区",
    "440513": "潮阳区",
    "440514": "潮南区",
    "440515": "澄海区",
    "440523": "南澳县",
}
TWO = ["440507", "440511"]
URBANREPORT = Path(sys.executable).parent / "urbanreport"

ROLLUP = r"""
import json, sys, time
from urbanreport import indicators
from urbanreport.core import warehouse
from urbanreport.core.city import load_city
from urbanreport.core.periods import Period
city = load_city(sys.argv[1])
times = []
for _ in range(3):
    with warehouse.reader(city.settings_for()) as con:
        t0 = time.perf_counter()
        indicators.compute_city(con, Period.parse("2023"), city)
        times.append(time.perf_counter() - t0)
print(json.dumps({"best": min(times), "runs": [round(t, 2) for t in times]}))
"""


def city_home(home: Path, codes: list[str], warehouse: str) -> Path:
    """A home whose city file lists `codes`, with the given [warehouse] table."""
    home.mkdir(parents=True, exist_ok=True)
    lines = ['[city]\ncode = "440500"\nname = "汕头市"\n']
    lines += [f'[districts.{code}]\nname = "{SHANTOU[code]}"\n' for code in codes]
    (home / "city.toml").write_text("\n".join(lines), encoding="utf-8")
    (home / "urbanreport.toml").write_text(warehouse, encoding="utf-8")
    return home


def lake_table(cluster: postgres_cluster.Cluster, data: Path) -> str:
    catalog = cluster.catalog(cluster.new_database())
    return f'[warehouse]\nbackend = "ducklake"\ncatalog = "{catalog}"\ndata_path = "{data}"\n'


def start(home: Path, *args: str) -> subprocess.Popen:
    env = os.environ | {"URBANREPORT_HOME": str(home)}
    return subprocess.Popen(
        [str(URBANREPORT), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def finish(proc: subprocess.Popen) -> None:
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"{proc.args} failed:\n{err.decode(errors='replace')[-3000:]}")


def ingest(home: Path, codes: list[str], at_once: bool) -> float:
    t0 = time.perf_counter()
    if at_once:
        for proc in [start(home, "ingest", "--district", c) for c in codes]:
            finish(proc)
    else:
        for code in codes:
            finish(start(home, "ingest", "--district", code))
    return time.perf_counter() - t0


def sample(home: Path, codes: list[str], scale: int) -> None:
    for code in codes:
        finish(start(home, "sample", "--district", code, "--years", "2023", "--scale", str(scale)))


def copy_inbox(src: Path, dst: Path) -> None:
    shutil.copytree(src / "inbox", dst / "inbox")  # copies keep their modification times


def bench(cluster: postgres_cluster.Cluster, scale: int, root: Path) -> None:
    print(f"\n== city: sample 2023 at scale {scale} per district")
    lake = city_home(root / "two-lake", TWO, lake_table(cluster, root / "two-data"))
    sample(lake, TWO, scale)
    embedded = city_home(root / "two-file", TWO, "")
    copy_inbox(lake, embedded)
    file_s = ingest(embedded, TWO, at_once=False)
    lake_s = ingest(lake, TWO, at_once=True)
    print(
        f"two districts into the embedded file, one after the other: {file_s:8.2f} s\n"
        f"two districts into DuckLake at the same time:              {lake_s:8.2f} s "
        f"({lake_s / file_s:.2f}x the file's time)"
    )

    codes = list(SHANTOU)
    seven = city_home(root / "seven", codes, lake_table(cluster, root / "seven-data"))
    sample(seven, codes, scale)
    t0 = time.perf_counter()
    for pair in (codes[i : i + 2] for i in range(0, len(codes), 2)):
        for proc in [start(seven, "ingest", "--district", c) for c in pair]:
            finish(proc)
    loaded = time.perf_counter() - t0
    proc = subprocess.run(
        [sys.executable, "-c", ROLLUP, str(seven)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"rollup failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"city rollup indicators, 7 districts on DuckLake: {result['best']:.2f} s best of 3 "
        f"(runs {result['runs']}; the seven districts loaded two at a time in {loaded:.0f} s)"
    )


def main() -> None:
    scale = int(os.environ.get("BENCH_CITY_SCALE", "10"))
    try:
        cluster = postgres_cluster.start()
    except postgres_cluster.PostgresMissing as exc:
        print(f"\n== city: skipped ({exc})")
        return
    os.environ[CATALOG_PASSWORD_ENV] = cluster.password  # the children inherit it
    try:
        with tempfile.TemporaryDirectory(prefix="urbanreport-bench-city-") as tmp:
            bench(cluster, scale, Path(tmp))
    finally:
        postgres_cluster.stop(cluster)


if __name__ == "__main__":
    main()

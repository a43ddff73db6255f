"""`make bench-lake`: the embedded DuckDB file against DuckLake on a local PostgreSQL catalog.

Not a test: nothing here asserts a time. For each scale (`BENCH_SCALES`, default 1) it writes
the sample (fiscal years 2022–2023) once, starts a throwaway PostgreSQL (scripts/postgres.sh),
and measures in separate processes (tests/bench.py's children):

* `ingest` of every source into the embedded file, one writer;
* the same files into a fresh lake, one writer;
* the same files into another fresh lake by two writers at once (three sources each, two
  homes), as two districts or two machines would;
* the indicator catalogue and breakdowns for fiscal 2023 on the file and on the lake.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from tests import postgres_cluster
from tests.bench import NATIVE, OTHERS, run
from urbanreport.core.config import CATALOG_PASSWORD_ENV, load_settings

SOURCES = NATIVE + OTHERS
HALVES = (SOURCES[::2], SOURCES[1::2])


def _copy_inbox(src: Path, dst: Path, sources: list[str]) -> None:
    for source in sources:  # copies keep their modification times
        shutil.copytree(src / "inbox" / source, dst / "inbox" / source)


def _concurrent(homes: list[Path], parts: tuple[list[str], ...]) -> tuple[float, list[dict]]:
    results: list[dict] = [{} for _ in homes]

    def one(i: int) -> None:
        results[i] = run("ingest", homes[i], parts[i])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(homes))]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, results


def bench_scale(scale: int, cluster: postgres_cluster.Cluster) -> None:
    from urbanreport.sample import write_sample

    with tempfile.TemporaryDirectory(prefix=f"urbanreport-bench-lake-{scale}-") as tmp:
        root = Path(tmp)
        embedded = root / "embedded"
        write_sample(load_settings(embedded), years=[2022, 2023], scale=scale)
        print(f"\n== scale {scale}: sample 2022–2023, {len(SOURCES)} sources")

        emb = run("ingest", embedded, SOURCES)
        rows = sum(r["rows"] for r in emb["per_source"].values())
        print(f"embedded file, one writer:         {emb['wall']:8.2f} s  ({rows} rows)")

        one = root / "lake-one"
        cluster.lake_settings(one, cluster.new_database(), root / "data-one")
        _copy_inbox(embedded, one, SOURCES)
        lake = run("ingest", one, SOURCES)
        print(
            f"DuckLake, one writer:              {lake['wall']:8.2f} s  "
            f"({lake['wall'] / emb['wall']:.2f}x the file)"
        )

        dbname, homes = cluster.new_database(), [root / "lake-a", root / "lake-b"]
        for home, part in zip(homes, HALVES, strict=True):
            cluster.lake_settings(home, dbname, root / "data-two")
            _copy_inbox(embedded, home, part)
        wall, parts = _concurrent(homes, HALVES)
        print(
            f"DuckLake, two writers at once:     {wall:8.2f} s  wall "
            f"(each {parts[0]['wall']:.2f} s and {parts[1]['wall']:.2f} s)"
        )

        for label, home in (("embedded file", embedded), ("DuckLake", one)):
            ind = run("indicators", home, [])
            print(f"indicators + breakdowns 2023, {label + ':':<15} {ind['best_seconds']:.3f} s")


def main() -> None:
    scales = [int(s) for s in os.environ.get("BENCH_SCALES", "1").split()]
    cluster = postgres_cluster.start()
    os.environ[CATALOG_PASSWORD_ENV] = cluster.password  # the children inherit it
    try:
        for scale in scales:
            bench_scale(scale, cluster)
    finally:
        postgres_cluster.stop(cluster)


if __name__ == "__main__":
    main()

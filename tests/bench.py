"""`make bench`: ingestion, indicator and report timings, beside DuckDB's own raw load.

Not a test: nothing here asserts a time. For each scale it writes the sample (fiscal years
2022–2023) into a fresh temporary home, then in separate processes (so each peak memory is its
own) measures:

* the floor: DuckDB's `read_csv` / `read_json` of the same inbox files into plain tables;
* `urbanreport ingest` of those files (validation, rejects, upsert, what each batch touched, one
  transaction per file, the last checkpoint included), three times each, alternately, into a
  fresh warehouse each time: medians, their ratio, peak memory and each run;
* the ingest of the other sources (timed, not in the ratio);
* the indicator catalogue and breakdowns for fiscal 2023 (warm, best of three);
* at scale 1, rendering the 2023 annual report (and registering it), the time to lay out
  each of its three formats (PDF, Word draft, Excel) from the same gathered figures, and the
  annual PDF alone as a user's PDF costs (gather + document + PDF), with its charts from the
  chart cache and drawn anew (the cache emptied before each run);
* at scale 100, the daily refresh (reports/refresh.py) with the 2023 reports rendered: with
  nothing new (the work itself, without Prefect's start-up) and with one corrected case.

`python -m tests.bench formats [HOME]` runs only the last part, on a home already ingested (or a
fresh scale-1 sample when HOME is not given); `python -m tests.bench pdf HOME` only the annual
PDF's timing on such a home.

GB18030 CSV and xlsx files have no native DuckDB reader here, so the ratio is computed over the
sources DuckDB reads directly (UTF-8 CSV and JSON Lines); the other sources are timed too.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
mode, home, sources = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
os.environ["URBANREPORT_HOME"] = str(home)
from urbanreport.core.config import load_settings
settings = load_settings(home)
t0 = time.perf_counter()
out = {}
if mode == "floor":
    import duckdb
    (home / "floor.duckdb").unlink(missing_ok=True)
    s0 = time.perf_counter()
    con = duckdb.connect(str(home / "floor.duckdb"))
    rows = 0
    for i, source in enumerate(sources):
        for path in sorted((home / "inbox" / source).iterdir()):
            reader = "read_csv" if path.suffix == ".csv" else "read_json"
            table = f"t{i}_{abs(hash(path.name))}"
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM {reader}(?)", [str(path)])
            rows += con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    con.close()
    out["seconds"] = round(time.perf_counter() - s0, 2)
    out["rows"] = rows
elif mode == "ingest":
    from urbanreport.ingest.batches import ingest_source
    from urbanreport.core import warehouse
    if json.loads(sys.argv[4]):  # a fresh warehouse
        for name in ("warehouse.duckdb", "warehouse.duckdb.wal"):
            (home / name).unlink(missing_ok=True)
    s0 = time.perf_counter()
    with warehouse.writer(settings) as con:  # closing it (the last checkpoint) is counted
        per = {}
        for source in sources:
            s1 = time.perf_counter()
            batches = ingest_source(con, settings, source)
            per[source] = {"seconds": round(time.perf_counter() - s1, 2),
                           "rows": sum(b.rows_read for b in batches)}
    out["seconds"] = round(time.perf_counter() - s0, 2)
    out["per_source"] = per
elif mode == "indicators":
    from urbanreport.indicators import Period, breakdowns, compute
    from urbanreport.core import warehouse
    from urbanreport.core.workdays import refresh_calendar
    with warehouse.writer(settings) as con:
        refresh_calendar(con, settings)
        times = []
        for _ in range(3):
            s0 = time.perf_counter()
            compute(con, Period.parse("2023"), settings)
            breakdowns(con, Period.parse("2023"), settings)
            times.append(time.perf_counter() - s0)
    out["best_seconds"] = round(min(times), 3)
elif mode == "report":
    import statistics
    from urbanreport.indicators import Period
    from urbanreport.reports.build import render
    from urbanreport.reports.fonts import register_fonts
    register_fonts()  # a first use may convert the fonts: not the render's time
    times, cpu = [], []
    for _ in range(5):
        s0, c0 = time.perf_counter(), time.process_time()
        render(settings, Period.parse("2023"))
        times.append(time.perf_counter() - s0)
        cpu.append(time.process_time() - c0)
    out["seconds"] = [round(t, 2) for t in times]
    out["median"] = round(statistics.median(times), 3)
    out["median_cpu"] = round(statistics.median(cpu), 3)
elif mode == "pdf":
    # What a user's PDF costs: gather the figures, build the document, lay out the PDF. With
    # sources == ["cold"] the chart cache is emptied before each run, so every chart is drawn.
    import shutil, statistics
    from urbanreport.core import warehouse
    from urbanreport.indicators import Period
    from urbanreport.reports import build, document, pdf
    from urbanreport.reports.fonts import register_fonts
    register_fonts()
    cold = sources == ["cold"]
    steps = {"gather": [], "document": [], "pdf": [], "total": [], "run_cpu": [], "load": []}
    for i in range(6):  # the first run is a warm-up (and fills the cache)
        if cold:
            shutil.rmtree(build.charts_dir(settings), ignore_errors=True)
        s0, c0 = time.perf_counter(), time.process_time()
        with warehouse.reader(settings) as con:
            data = build.gather(con, Period.parse("2023"), settings)
        s1 = time.perf_counter()
        report = document.build(data)
        s2 = time.perf_counter()
        pdf.render(report)
        s3 = time.perf_counter()
        if i:
            for name, t in (("gather", s1 - s0), ("document", s2 - s1), ("pdf", s3 - s2)):
                steps[name].append(t)
            steps["total"].append(s3 - s0)
            steps["run_cpu"].append(time.process_time() - c0)
            steps["load"].append(os.getloadavg()[0])
    out.update({k: round(statistics.median(v), 3) for k, v in steps.items()})
    out["seconds"] = [round(t, 2) for t in steps["total"]]
elif mode == "refresh":
    import statistics
    from tests.factories import inbox, stored_case, write_rows_csv
    from urbanreport.core.periods import Period
    from urbanreport.reports import build, refresh
    s0 = time.perf_counter()
    for label in ["2023"] + [f"2023-{m:02d}" for m in range(1, 13)]:
        build.render(settings, Period.parse(label))
    refresh.refresh(settings)  # accounts for every batch so far
    out["setup_seconds"] = round(time.perf_counter() - s0, 1)
    idle, corrected, rewritten = [], [], []
    for _ in range(3):
        r = refresh.refresh(settings)
        assert not r.rendered, r.rendered
        idle.append(r.seconds)
    case = stored_case(settings, "2023-05")
    for k in range(1, 4):
        fine = int(float(case["fine_yuan"])) + 1000 * k
        folder = inbox(settings, "enforcement")
        write_rows_csv(folder / f"更正_2023-05_{k}.csv", [case | {"fine_yuan": str(fine)}])
        r = refresh.refresh(settings)
        corrected.append(r.seconds)
        rewritten.append(len(r.rewritten))
    out["idle"] = [round(x, 2) for x in idle]
    out["idle_median"] = round(statistics.median(idle), 3)
    out["corrected"] = [round(x, 2) for x in corrected]
    out["corrected_median"] = round(statistics.median(corrected), 2)
    out["rewritten"] = rewritten
elif mode == "formats":
    import statistics
    from urbanreport.core import warehouse
    from urbanreport.indicators import Period
    from urbanreport.reports import build, docx, document, pdf, xlsx
    from urbanreport.reports.fonts import register_fonts
    register_fonts()
    with warehouse.reader(settings) as con:
        data = build.gather(con, Period.parse("2023"), settings)
    steps = {
        "document": lambda: document.build(data),
        "pdf": lambda: pdf.render(document.build(data)),
        "docx": lambda: docx.render(build.word_document(data, document.build(data))),
        "xlsx": lambda: xlsx.render(document.build(data)),
        "all": lambda: build.render_outputs(data),
    }
    for name, step in steps.items():
        step()  # warm: charts, fonts and templates loaded once
        times = []
        for _ in range(5):
            s0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - s0)
        out[name] = round(statistics.median(times), 3)
out["wall"] = round(time.perf_counter() - t0, 2)
usage = resource.getrusage(resource.RUSAGE_SELF)
out["cpu"] = round(usage.ru_utime + usage.ru_stime, 1)
# The process's own peak (VmHWM): Linux carries ru_maxrss over an exec, so it would also count
# the parent's memory when it started this child, at scale 100 the sample writer's 700 MB.
with open("/proc/self/status") as status:
    hwm = next(line for line in status if line.startswith("VmHWM:"))
out["peak_mb"] = round(int(hwm.split()[1]) / 1024)
print(json.dumps(out))
"""

NATIVE = ["dcm_cases", "demolition", "demolition_targets"]  # UTF-8 CSV: DuckDB reads them as is
OTHERS = ["enforcement", "permits", "legal_activities"]  # GB18030 CSV + JSONL, xlsx


def run(mode: str, home: Path, sources: list[str], fresh: bool = False) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(home), json.dumps(sources), json.dumps(fresh)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_scale(scale: int) -> None:
    from urbanreport.core.config import load_settings
    from urbanreport.sample import write_sample

    with tempfile.TemporaryDirectory(prefix=f"urbanreport-bench-{scale}-") as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        write_sample(load_settings(home), years=[2022, 2023], scale=scale)
        gen = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in (home / "inbox").rglob("*") if p.is_file())
        print(f"\n== scale {scale}: sample 2022–2023 written in {gen:.1f} s, {size / 1e6:.0f} MB")
        bench_ingest(home)
        others = run("ingest", home, OTHERS)
        for source, r in others["per_source"].items():
            print(f"  {source:<20} {r['rows']:>10} rows {r['seconds']:>8.2f} s")
        print(
            f"ingest of the other sources: {others['seconds']:.2f} s, peak {others['peak_mb']} MB"
        )
        ind = run("indicators", home, [])
        print(f"indicators + breakdowns, fiscal 2023: {ind['best_seconds']:.3f} s (best of 3)")
        if scale == 100:
            bench_refresh(home)
        if scale == 1:
            bench_formats(home)
            bench_pdf(home)
            rep = run("report", home, [])
            print(
                f"annual report 2023 render: median {rep['median']} s of 5 "
                f"(CPU {rep['median_cpu']} s; runs {rep['seconds']}), peak {rep['peak_mb']} MB"
            )


def bench_ingest(home: Path, runs: int = 3) -> None:
    """The floor and the ingest of the same files, alternately, `runs` times each (each ingest
    into a fresh warehouse); the medians, their ratio, and each run, with CPU and peak memory.

    Alternating them lets a load on the machine weigh on both alike; the floor moves by some
    20 % from run to run, so the ratio is one of medians."""
    floors, ingests = [], []
    for _ in range(runs):
        floors.append(run("floor", home, NATIVE))
        ingests.append(run("ingest", home, NATIVE, fresh=True))
    floor_s = statistics.median(r["seconds"] for r in floors)
    ingest_s = statistics.median(r["seconds"] for r in ingests)
    floor_mb = statistics.median(r["peak_mb"] for r in floors)
    ingest_mb = statistics.median(r["peak_mb"] for r in ingests)
    print(
        f"DuckDB raw read_csv floor ({', '.join(NATIVE)}), {floors[0]['rows']} rows: "
        f"median {floor_s:.2f} s of {runs}, peak {floor_mb:.0f} MB"
    )
    print(
        f"urbanreport ingest of the same files: median {ingest_s:.2f} s of {runs}, "
        f"ratio {ingest_s / floor_s:.2f}x; peak {ingest_mb:.0f} MB, "
        f"ratio {ingest_mb / floor_mb:.2f}x"
    )
    for i, (f, g) in enumerate(zip(floors, ingests, strict=True), start=1):
        per = ", ".join(f"{s} {r['seconds']:.2f} s" for s, r in g["per_source"].items())
        print(
            f"  run {i}: floor {f['seconds']:.2f} s (CPU {f['cpu']} s, {f['peak_mb']} MB); "
            f"ingest {g['seconds']:.2f} s (CPU {g['cpu']} s, {g['peak_mb']} MB; {per})"
        )


def bench_refresh(home: Path) -> None:
    """The daily refresh on a home with the 2023 annual report and its 12 briefs rendered."""
    r = run("refresh", home, [])
    print(
        f"refresh, nothing new: median {r['idle_median']} s of 3 (runs {r['idle']}); "
        f"one corrected 2023-05 case: median {r['corrected_median']} s of 3 "
        f"(runs {r['corrected']}, reports rewritten {r['rewritten']}); "
        f"13 reports first rendered in {r['setup_seconds']} s, peak {r['peak_mb']} MB"
    )


def bench_formats(home: Path) -> None:
    f = run("formats", home, [])
    print(
        f"annual report 2023, PDF + Word + Excel from one gathering: {f['all']:.3f} s "
        f"(median of 5; document {f['document']:.3f} s, PDF {f['pdf']:.3f} s, "
        f"Word {f['docx']:.3f} s, Excel {f['xlsx']:.3f} s, each with its document; "
        f"target under 3 s), peak {f['peak_mb']} MB"
    )


def bench_pdf(home: Path) -> None:
    """The annual PDF alone (gather + document + PDF), charts from the cache and drawn anew."""
    for label, sources in (("charts from the cache", []), ("charts drawn anew", ["cold"])):
        p = run("pdf", home, sources)
        print(
            f"annual PDF render: median {p['total']:.3f} s of 5 (CPU {p['run_cpu']:.3f} s), "
            f"{label} (gather {p['gather']:.3f} s, document {p['document']:.3f} s, "
            f"PDF {p['pdf']:.3f} s; "
            f"runs {p['seconds']}; load average {p['load']:.2f}; target under 1 s), "
            f"peak {p['peak_mb']} MB"
        )


def formats_only(home: str | None) -> None:
    """Only the three formats' timing (on an ingested home, else a fresh scale-1 sample)."""
    if home:
        bench_formats(Path(home))
        return
    from urbanreport.core.config import load_settings
    from urbanreport.sample import write_sample

    with tempfile.TemporaryDirectory(prefix="urbanreport-bench-formats-") as tmp:
        write_sample(load_settings(Path(tmp)), years=[2022, 2023], scale=1)
        run("ingest", Path(tmp), NATIVE + OTHERS)
        bench_formats(Path(tmp))


def main() -> None:
    if sys.argv[1:2] == ["formats"]:
        formats_only(sys.argv[2] if len(sys.argv) > 2 else None)
        return
    if sys.argv[1:2] == ["pdf"] and len(sys.argv) > 2:
        bench_pdf(Path(sys.argv[2]))
        return
    scales = [int(s) for s in os.environ.get("BENCH_SCALES", "1 10 100").split()]
    for scale in scales:
        bench_scale(scale)


if __name__ == "__main__":
    main()

"""A 2-million-line JSON Lines pull loads in bounded memory.

Measured, not timed: the peak resident memory of a child process that ingests the file,
beside the same child ingesting a small file. JSON Lines is streamed in chunks, and DuckDB is
held to `[ingest] memory_limit` while a batch loads (it spills beyond that), so the large file
needs a few hundred MB more than the small one, not the several GB that reading the lines
into Python objects took (about 5 GB for these 2 million lines).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import REPO_ROOT, enforcement_row, inbox, make_settings, write_rows_csv

CHILD = r"""
import sys
from pathlib import Path
from urbanreport.core import warehouse
from urbanreport.core.config import load_settings
from urbanreport.ingest.batches import ingest_file
settings = load_settings(home=sys.argv[1])
with warehouse.writer(settings) as con:
    con.execute("SET enable_progress_bar = false")
    r = ingest_file(con, settings, "dcm_cases", Path(sys.argv[2]))
# the process's own peak: ru_maxrss would also count the parent's memory carried over the exec
peak_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
peak_mb = peak_kb // 1024
print(r.status, r.rows_read, r.rows_loaded, r.rows_rejected, peak_mb)
"""
LINE = (
    '{"case_id": "DCM%08d", "source": "监督员上报", "case_class": "事件", "category": "街面秩序",'
    ' "street": "龙华街道", "reported_at": "2023-07-05 09:12:00", "rework_count": %d}\n'
)


def write_pull(path: Path, lines: int) -> Path:
    """`lines` valid records, every 1000th line broken (refused on its own), a BOM first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig") as fh:
        for start in range(0, lines, 10_000):
            block = [LINE % (i, i % 3) for i in range(start, min(start + 10_000, lines))]
            block[0] = '{"case_id": broken\n' if start % 1_000_000 == 0 else block[0]
            fh.write("".join(block))
    return path


def peak_of(home: Path, lines: int) -> tuple[list[str], int]:
    pull = write_pull(home / "pull.jsonl", lines)
    env = {"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(home), str(pull)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    *counts, peak = proc.stdout.split()
    pull.unlink()
    return counts, int(peak)


@pytest.mark.slow
def test_two_million_lines_load_in_bounded_memory(tmp_path: Path) -> None:
    small_counts, small_mb = peak_of(tmp_path / "small", 20_000)
    counts, big_mb = peak_of(tmp_path / "big", 2_000_000)
    assert small_counts == ["loaded", "20000", "19999", "1"]
    assert counts == ["loaded", "2000000", "1999998", "2"]  # read = loaded + rejected
    assert big_mb - small_mb < 800, (small_mb, big_mb)


IMPORTS = r"""
import sys
from urbanreport.core.config import load_settings
from urbanreport.ingest.batches import ingest_all
summary = ingest_all(load_settings(home=sys.argv[1]))
statuses = [b.status for bs in summary.values() for b in bs]
print(statuses, "pyarrow" in sys.modules, "httpx" in sys.modules)
"""


def test_an_ingest_of_csv_files_imports_neither_pyarrow_nor_httpx(tmp_path: Path) -> None:
    """Together 60 MB of an ingest's memory: only the Python readers and the HTTP pull need
    them, and load them where they run."""
    settings = make_settings(tmp_path)
    write_rows_csv(inbox(settings, "enforcement") / "e.csv", [enforcement_row()])
    out = subprocess.run(
        [sys.executable, "-c", IMPORTS, str(tmp_path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert out.stdout.split() == ["['loaded']", "False", "False"], out.stdout + out.stderr

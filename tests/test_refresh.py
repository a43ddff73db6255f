"""refresh re-renders exactly the reports whose bytes a full re-render would change.

Each case drops a file into the inbox of a rendered sample (2023–2024, a few months), copies
the data directory, re-renders everything in the copy, and compares: the reports refresh
rewrote must be the reports whose bytes differ in the copy; the others keep their file, its
mtime and their version list.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import enforcement_row, inbox, stored_case, write_rows_csv
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.periods import Period
from urbanreport.ingest.batches import ingest_all
from urbanreport.reports import build, refresh

pytestmark = pytest.mark.slow

PERIODS = ["2023-04", "2023-05", "2023-06", "2023", "2024-04", "2024-05", "2024"]
IDS = {build.report_id(Period.parse(p).kind, p) for p in PERIODS}


def state(settings: Settings) -> dict[str, tuple[bytes, int, int]]:
    """Report id → (bytes, mtime in ns, number of kept versions)."""
    out = {}
    for entry in refresh.entries(settings):
        path = settings.reports_dir / entry["period"][:4] / entry["file"]
        out[entry["id"]] = (path.read_bytes(), path.stat().st_mtime_ns, len(entry["versions"]))
    return out


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    from urbanreport.sample import write_sample

    home = tmp_path_factory.mktemp("refresh-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.setenv("URBANREPORT_HOME", str(home))
        s = load_settings(home=home)
        write_sample(s, years=[2023, 2024])
        ingest_all(s)
        for p in PERIODS:
            build.render(s, Period.parse(p))
        first = refresh.refresh(s)  # accounts for every batch so far: renders, rewrites nothing
        assert first.rewritten == []
        yield s


def full_rerender_differs(settings: Settings, tmp_path: Path) -> set[str]:
    """In a copy of the data directory: ingest, re-render every report; ids whose bytes differ."""
    copy = tmp_path / "copy"
    shutil.copytree(settings.home, copy)
    other = load_settings(home=copy)
    before = state(other)
    ingest_all(other)
    for p in PERIODS:
        build.render(other, Period.parse(p))
    after = state(other)
    return {rid for rid in IDS if after[rid][0] != before[rid][0]}


def check(settings: Settings, tmp_path: Path) -> refresh.RefreshResult:
    """Refresh, and prove it rewrote exactly what a full re-render of a copy changes."""
    expected = full_rerender_differs(settings, tmp_path)
    before = state(settings)
    result = refresh.refresh(settings)
    after = state(settings)
    assert set(result.rewritten) == expected
    assert set(result.reasons) >= expected
    for rid in IDS - expected:
        assert after[rid] == before[rid], rid  # same bytes, same mtime, no new version
    for rid in expected:
        assert after[rid][2] == before[rid][2] + 1, rid
    return result


def test_correction_of_a_may_2023_case(settings: Settings, tmp_path: Path) -> None:
    case = stored_case(settings, "2023-05")
    case["fine_yuan"] = str(int(float(case["fine_yuan"])) + 1000)
    write_rows_csv(inbox(settings, "enforcement") / "更正_2023-05.csv", [case])
    result = check(settings, tmp_path)
    assert set(result.rewritten) == {
        "2023-05-monthly",
        "2023-06-monthly",
        "2023-annual",
        "2024-05-monthly",
        "2024-annual",
    }
    assert any("更正_2023-05.csv" in r for r in result.reasons["2023-05-monthly"])


def test_late_file_of_a_new_month(settings: Settings, tmp_path: Path) -> None:
    row = enforcement_row(
        case_id="LATE202407001",
        filed_date="2024-07-03",
        decided_date="2024-07-15",
        closed_date="2024-07-30",
        disclosed_date="2024-07-18",
    )
    write_rows_csv(inbox(settings, "enforcement") / "补报_2024-07.csv", [row])
    result = check(settings, tmp_path)
    assert "2024-annual" in result.rewritten
    assert "2024-05-monthly" not in result.rewritten


def test_a_file_that_only_adds_rejects(settings: Settings, tmp_path: Path) -> None:
    row = enforcement_row(case_id="BAD0001", filed_date="不详")
    write_rows_csv(inbox(settings, "enforcement") / "错误_2024-08.csv", [row])
    result = check(settings, tmp_path)
    assert result.rewritten  # every report prints the cumulative rejected rows


def test_identical_redrop_rewrites_nothing(settings: Settings, tmp_path: Path) -> None:
    folder = inbox(settings, "enforcement")
    shutil.copyfile(folder / "补报_2024-07.csv", folder / "补报_2024-07(1).csv")
    result = check(settings, tmp_path)
    assert result.rewritten == [] and result.rendered == []


def test_a_corrected_calendar_re_renders_what_its_working_days_change(
    settings: Settings, tmp_path: Path
) -> None:
    """No file at all: the operator declares 2024-05-06 a holiday (the official 2024
    arrangement otherwise). Last in the module: it leaves that calendar configured."""
    import chinese_calendar

    days = [dt.date(2024, 1, 1) + dt.timedelta(n) for n in range(366)]
    holidays = [d for d in days if d.weekday() < 5 and not chinese_calendar.is_workday(d)]
    workdays = [d for d in days if d.weekday() >= 5 and chinese_calendar.is_workday(d)]
    holidays.append(dt.date(2024, 5, 6))
    quoted = ", ".join
    (settings.home / "urbanreport.toml").write_text(
        "[calendar.years.2024]\n"
        f"holidays = [{quoted(repr(d.isoformat()) for d in holidays)}]\n"
        f"workdays = [{quoted(repr(d.isoformat()) for d in workdays)}]\n".replace("'", '"'),
        encoding="utf-8",
    )
    corrected = load_settings(home=settings.home)
    result = check(corrected, tmp_path)
    assert result.files == []
    assert "2024-annual" in result.rewritten  # its deadline figures count 2024-05-06
    assert all(r.startswith("工作日历") for rs in result.reasons.values() for r in rs)

"""What a report reads (Period.read_ranges) and which reports a batch's touches affect."""

from __future__ import annotations

import datetime as dt

from urbanreport.core.periods import Period
from urbanreport.reports import lineage


def entry(period: str) -> dict:
    p = Period.parse(period)
    ranges = p.read_ranges()
    kind = "annual" if p.kind == "year" else "monthly"
    rid = f"{period}-{kind}"
    return {"id": rid, "kind": kind, "period": period, "reads": {"enforcement": ranges}}


def touch(d: str | None, what: str = "record") -> lineage.Touch:
    day = dt.date.fromisoformat(d) if d else None
    return lineage.Touch(7, "enforcement", "更正.csv", day, what)


def test_a_month_reads_its_month_year_to_date_and_the_same_a_year_earlier() -> None:
    assert Period.parse("2024-05").read_ranges() == {
        "period": ["2024-05-01", "2024-05-31"],
        "previous": ["2023-05-01", "2023-05-31"],
        "ytd": ["2024-01-01", "2024-05-31"],
        "ytd_previous": ["2023-01-01", "2023-05-31"],
    }
    assert Period.parse("2023").read_ranges() == {
        "period": ["2023-01-01", "2023-12-31"],
        "previous": ["2022-01-01", "2022-12-31"],
    }


def test_a_may_2023_correction_affects_exactly_the_reports_that_read_may_2023() -> None:
    periods = ["2023-04", "2023-05", "2023-06", "2023", "2024-04", "2024-05", "2024-06", "2024"]
    periods += ["2022", "2022-05", "2025-05"]
    got = lineage.affected([entry(p) for p in periods], [touch("2023-05-20")])
    assert set(got) == {
        "2023-05-monthly",
        "2023-06-monthly",
        "2023-annual",
        "2024-05-monthly",
        "2024-06-monthly",
        "2024-annual",
    }
    assert got["2023-05-monthly"] == ["更正.csv：enforcement 2023-05-20 的记录有变化"]


def test_quality_touches() -> None:
    entries = [entry("2023-05"), entry("2023")]
    assert set(lineage.affected(entries, [touch(None, "rejects")])) == {
        "2023-05-monthly",
        "2023-annual",
    }
    assert set(lineage.affected(entries, [touch(None, "counts")])) == {"2023-annual"}


def test_a_report_that_does_not_say_what_it_reads_is_rendered_again() -> None:
    old = {"id": "2023-05-monthly", "kind": "monthly", "period": "2023-05"}
    assert set(lineage.affected([old], [touch("2019-01-01")])) == {"2023-05-monthly"}
    assert lineage.affected([old], []) == {}

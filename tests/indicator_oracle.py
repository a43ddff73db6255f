"""An independent oracle for the indicator catalogue, and the records the tests check it on.

Why: the indicators are defined once, in SQL (sql/indicators/). A test that re-ran that SQL
would prove nothing, so this module computes every catalogue key a second time in plain Python,
straight from INDICATORS.md, over lists of record dicts (one dict per row, fields as in
SOURCES.md). It shares nothing with the SQL: working days are counted day by day with the
`chinese_calendar` package (Monday–Friday where it has no data, or a holiday list given by the
test), not with the calendar_days table or urbanreport.workdays.

The second half holds what the tests feed both sides: `load` inserts record dicts into the core
tables, and `scenario` is a deterministic data set spread over 2022–2024 that hits the edge
cases (holidays and make-up working days, the 7th/8th working day, day 90/91, a campaign that
starts mid-year and one that spans two years, a month and a year without data for a source).
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

import chinese_calendar
import duckdb
import pyarrow as pa

Record = dict[str, Any]
Data = Mapping[str, Sequence[Record]]

SOURCES = (
    "permits",
    "enforcement",
    "demolition",
    "demolition_targets",
    "dcm_cases",
    "legal_activities",
)
WHOLE_DISTRICT = "全区"
DISTRICT = "440507"  # the default [district] code
STREETS = ["金霞", "珠池", "新津", "龙祥", "鸥汀", "外砂", "新溪", "龙华", "新海", "龙腾"]
NO_PENALTY = "不予处罚"
ZERO = Decimal("0.00")


# --- working days -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkCalendar:
    """The PRC working-day calendar, day by day.

    `configured` maps a year to (holidays, make-up workdays) as an operator would list them;
    such a year replaces the package's data. Other years come from `chinese_calendar`, and a
    year it does not cover is Monday–Friday.
    """

    configured: Mapping[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = field(
        default_factory=dict
    )

    def is_workday(self, day: dt.date) -> bool:
        if day.year in self.configured:
            holidays, workdays = self.configured[day.year]
            if day in workdays:
                return True
            if day in holidays:
                return False
            return day.weekday() < 5
        return _package_workday(day)

    def covers(self, year: int) -> bool:
        """Whether a year's official arrangement is known (configured or in the package)."""
        if year in self.configured:
            return True
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def wd(self, a: dt.date, b: dt.date) -> int:
        """wd(a, b): the number of working days d with a < d ≤ b (0 when b ≤ a)."""
        count = 0
        day = a + dt.timedelta(days=1)
        while day <= b:
            count += self.is_workday(day)
            day += dt.timedelta(days=1)
        return count


OFFICIAL = WorkCalendar()


@cache
def _package_workday(day: dt.date) -> bool:
    """The package's answer, Monday–Friday for a year it does not cover (cached: it is slow)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.weekday() < 5


# --- small helpers ----------------------------------------------------------------------------


def _within(day: dt.date | None, start: dt.date, end: dt.date) -> bool:
    return day is not None and start <= day <= end


def _by_end(ts: dt.datetime | None, end: dt.date) -> bool:
    """A timestamp is ≤ P.end when it falls before midnight after the period's last day."""
    return ts is not None and ts < dt.datetime.combine(end + dt.timedelta(days=1), dt.time())


def _share(part: int, whole: int) -> float | None:
    """A rate: None (never 0) when the denominator is 0."""
    return None if whole == 0 else part / whole


def _mean(values: list[float]) -> float | None:
    return None if not values else sum(values) / len(values)


def _total(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def year_earlier(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same period a year earlier (periods are whole months or whole years)."""
    last = _calendar.monthrange(end.year - 1, end.month)[1]
    return start.replace(year=start.year - 1), dt.date(end.year - 1, end.month, last)


def month_span(year: int, month: int | None = None) -> tuple[dt.date, dt.date]:
    """[start, end] of a fiscal year, or of one month."""
    if month is None:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    return dt.date(year, month, 1), dt.date(year, month, _calendar.monthrange(year, month)[1])


# --- which records place a source in a period -----------------------------------------------


def record_dates(source: str, records: Sequence[Record]) -> list[dt.date]:
    """Every date by which an indicator places one of the source's records in a period."""
    out: list[dt.date] = []
    for r in records:
        if source == "enforcement":
            candidates = [r["filed_date"], r["decided_date"], r["review_date"]]
        elif source == "permits":
            candidates = [r["received_date"], r["decided_date"]]
        elif source == "demolition":
            candidates = [r["demolished_date"]]
        elif source == "dcm_cases":
            candidates = [r["reported_at"].date()]
        elif source == "legal_activities":
            candidates = [r["date"]]
        elif source == "demolition_targets":
            span = (r["end_date"] - r["start_date"]).days
            candidates = [r["start_date"] + dt.timedelta(days=i) for i in range(span + 1)]
        else:
            raise KeyError(source)
        out.extend(d for d in candidates if d is not None)
    return out


def has_data(source: str, records: Sequence[Record], start: dt.date, end: dt.date) -> bool:
    return any(start <= d <= end for d in record_dates(source, records))


def months_without_data(
    source: str, records: Sequence[Record], start: dt.date, end: dt.date
) -> list[str]:
    """`YYYY-MM` of each month of [start, end] in which the source has no record."""
    have = {(d.year, d.month) for d in record_dates(source, records) if start <= d <= end}
    out = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        if (year, month) not in have:
            out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


# --- the catalogue, section by section --------------------------------------------------------


def decided_records(records: Sequence[Record], start: dt.date, end: dt.date) -> list[Record]:
    return [r for r in records if _within(r["decided_date"], start, end)]


def penalty_records(records: Sequence[Record], start: dt.date, end: dt.date) -> list[Record]:
    """处罚案件: decided in P, penalty type set and not 不予处罚."""
    return [
        r
        for r in decided_records(records, start, end)
        if r["penalty_type"] is not None and r["penalty_type"] != NO_PENALTY
    ]


def enforcement(
    records: Sequence[Record], start: dt.date, end: dt.date, cal: WorkCalendar = OFFICIAL
) -> dict[str, Any]:
    keys = (
        "filed_cases",
        "penalty_cases",
        "fines_yuan",
        "no_penalty_cases",
        "major_cases",
        "major_legal_review_rate",
        "major_collective_rate",
        "disclosure_on_time_rate",
        "overdue_decisions",
        "reviews",
        "review_correction_rate",
    )
    if not has_data("enforcement", records, start, end):
        return {f"enforcement.{k}": None for k in keys}
    decided = decided_records(records, start, end)
    penalty = penalty_records(records, start, end)
    major = [r for r in penalty if r["is_major"]]
    disclosed_on_time = [
        r
        for r in penalty
        if r["disclosed_date"] is not None and cal.wd(r["decided_date"], r["disclosed_date"]) <= 7
    ]
    reviews = [
        r
        for r in records
        if _within(r["review_date"], start, end) and r["review_outcome"] is not None
    ]
    values = {
        "filed_cases": sum(_within(r["filed_date"], start, end) for r in records),
        "penalty_cases": len(penalty),
        "fines_yuan": _total(r["fine_yuan"] for r in penalty),
        "no_penalty_cases": sum(r["penalty_type"] == NO_PENALTY for r in decided),
        "major_cases": len(major),
        "major_legal_review_rate": _share(sum(r["legal_review"] for r in major), len(major)),
        "major_collective_rate": _share(sum(r["collective_decision"] for r in major), len(major)),
        "disclosure_on_time_rate": _share(len(disclosed_on_time), len(penalty)),
        "overdue_decisions": sum((r["decided_date"] - r["filed_date"]).days > 90 for r in decided),
        "reviews": len(reviews),
        "review_correction_rate": _share(
            sum(r["review_outcome"] in ("纠错", "败诉") for r in reviews), len(reviews)
        ),
    }
    return {f"enforcement.{k}": values[k] for k in keys}


def received_permits(records: Sequence[Record], start: dt.date, end: dt.date) -> list[Record]:
    return [r for r in records if _within(r["received_date"], start, end)]


def concluded_permits(records: Sequence[Record], start: dt.date, end: dt.date) -> list[Record]:
    """Received in P and decided by P.end."""
    return [
        r
        for r in received_permits(records, start, end)
        if r["decided_date"] is not None and r["decided_date"] <= end
    ]


def permits(
    records: Sequence[Record], start: dt.date, end: dt.date, cal: WorkCalendar = OFFICIAL
) -> dict[str, Any]:
    keys = (
        "received",
        "concluded",
        "completion_rate",
        "on_time_rate",
        "avg_working_days",
        "online_rate",
        "granted",
        "e_license_rate",
        "non_tax_revenue_yuan",
    )
    if not has_data("permits", records, start, end):
        return {f"permits.{k}": None for k in keys}
    received = received_permits(records, start, end)
    concluded = concluded_permits(records, start, end)
    days = [cal.wd(r["received_date"], r["decided_date"]) for r in concluded]
    on_time = [d <= r["promised_days"] for d, r in zip(days, concluded, strict=True)]
    granted = [r for r in concluded if r["status"] == "准予许可"]
    values = {
        "received": len(received),
        "concluded": len(concluded),
        "completion_rate": _share(len(concluded), len(received)),
        "on_time_rate": _share(sum(on_time), len(concluded)),
        "avg_working_days": _mean([float(d) for d in days]),
        "online_rate": _share(sum(r["channel"] == "网上" for r in received), len(received)),
        "granted": len(granted),
        "e_license_rate": _share(sum(r["e_license"] for r in granted), len(granted)),
        "non_tax_revenue_yuan": _total(
            r["fee_yuan"] for r in records if _within(r["decided_date"], start, end)
        ),
    }
    return {f"permits.{k}": values[k] for k in keys}


def campaign(
    targets: Sequence[Record], start: dt.date, end: dt.date, whole: str = WHOLE_DISTRICT
) -> Record | None:
    """The district-wide target overlapping [start, end]; the latest start if several (then
    the campaign name, alphabetically, so the choice is stable)."""
    overlapping = [
        t
        for t in targets
        if t["street"] == whole and t["start_date"] <= end and t["end_date"] >= start
    ]
    if not overlapping:
        return None
    latest = max(t["start_date"] for t in overlapping)
    return min((t for t in overlapping if t["start_date"] == latest), key=lambda t: t["campaign"])


def demolition(
    records: Sequence[Record],
    targets: Sequence[Record],
    start: dt.date,
    end: dt.date,
    whole: str = WHOLE_DISTRICT,
) -> dict[str, Any]:
    chosen = campaign(targets, start, end, whole)
    present = has_data("demolition", records, start, end)
    out: dict[str, Any] = dict.fromkeys(
        (
            "demolition.sites",
            "demolition.area_m2",
            "demolition.campaign_target_m2",
            "demolition.campaign_area_m2",
            "demolition.campaign_progress",
        )
    )
    if chosen is not None:
        out["demolition.campaign_target_m2"] = chosen["target_m2"]
    if not present:
        return out
    in_period = [r for r in records if _within(r["demolished_date"], start, end)]
    out["demolition.sites"] = len(in_period)
    out["demolition.area_m2"] = _total(r["area_m2"] for r in in_period)
    if chosen is not None:
        until = min(chosen["end_date"], end)
        done = _total(
            r["area_m2"]
            for r in records
            if _within(r["demolished_date"], chosen["start_date"], until)
        )
        out["demolition.campaign_area_m2"] = done
        target = chosen["target_m2"]
        out["demolition.campaign_progress"] = None if target == 0 else float(done) / float(target)
    return out


def dcm_cohort(records: Sequence[Record], start: dt.date, end: dt.date) -> list[Record]:
    """Cases reported in P (their state is then read as of P.end)."""
    return [r for r in records if _within(r["reported_at"].date(), start, end)]


def dcm_due(case: Record, end: dt.date) -> bool:
    return _by_end(case["deadline_at"], end) or _by_end(case["disposed_at"], end)


def dcm_on_time(case: Record) -> bool:
    return (
        case["disposed_at"] is not None
        and case["deadline_at"] is not None
        and case["disposed_at"] <= case["deadline_at"]
    )


def dcm(records: Sequence[Record], start: dt.date, end: dt.date) -> dict[str, Any]:
    keys = (
        "reported",
        "registered",
        "registration_rate",
        "disposed",
        "closed",
        "closure_rate",
        "due",
        "on_time_disposal_rate",
        "rework_rate",
        "avg_disposal_hours",
        "hotline_cases",
        "reported_yoy",
    )
    if not has_data("dcm_cases", records, start, end):
        return {f"dcm.{k}": None for k in keys}
    cohort = dcm_cohort(records, start, end)
    registered = [c for c in cohort if _by_end(c["registered_at"], end)]
    closed = [c for c in cohort if _by_end(c["closed_at"], end)]
    due = [c for c in cohort if dcm_due(c, end)]
    disposed = [c for c in cohort if _by_end(c["disposed_at"], end)]
    hours = [
        (c["disposed_at"] - c["dispatched_at"]).total_seconds() / 3600
        for c in disposed
        if c["dispatched_at"] is not None
    ]
    prev_start, prev_end = year_earlier(start, end)
    yoy = None
    # A year-on-year change needs the whole previous period: every one of its months has data.
    if not months_without_data("dcm_cases", records, prev_start, prev_end):
        before = len(dcm_cohort(records, prev_start, prev_end))
        yoy = None if before == 0 else (len(cohort) - before) / before
    values = {
        "reported": len(cohort),
        "registered": len(registered),
        "registration_rate": _share(len(registered), len(cohort)),
        "disposed": len(disposed),
        "closed": len(closed),
        "closure_rate": _share(len(closed), len(registered)),
        "due": len(due),
        "on_time_disposal_rate": _share(sum(dcm_on_time(c) for c in due), len(due)),
        "rework_rate": _share(sum(c["rework_count"] > 0 for c in disposed), len(disposed)),
        "avg_disposal_hours": _mean(hours),
        "hotline_cases": sum(c["source"] == "12345热线" for c in cohort),
        "reported_yoy": yoy,
    }
    return {f"dcm.{k}": values[k] for k in keys}


def legal(records: Sequence[Record], start: dt.date, end: dt.date) -> dict[str, Any]:
    keys = ("study_sessions", "trainings", "publicity_events", "participants")
    if not has_data("legal_activities", records, start, end):
        return {f"legal.{k}": None for k in keys}
    rows = [r for r in records if _within(r["date"], start, end)]
    values = {
        "study_sessions": sum(r["activity_type"] in ("党组学法", "中心组学习") for r in rows),
        "trainings": sum(r["activity_type"] == "执法培训" for r in rows),
        "publicity_events": sum(r["activity_type"] == "普法宣传" for r in rows),
        "participants": sum(r["participants"] or 0 for r in rows),
    }
    return {f"legal.{k}": values[k] for k in keys}


def indicators(
    data: Data, start: dt.date, end: dt.date, cal: WorkCalendar = OFFICIAL
) -> dict[str, Any]:
    """Every catalogue key for the period [start, end], from the records alone."""
    return (
        enforcement(data.get("enforcement", []), start, end, cal)
        | permits(data.get("permits", []), start, end, cal)
        | demolition(data.get("demolition", []), data.get("demolition_targets", []), start, end)
        | dcm(data.get("dcm_cases", []), start, end)
        | legal(data.get("legal_activities", []), start, end)
    )


def city_indicators(
    districts: Mapping[str, Data],
    start: dt.date,
    end: dt.date,
    whole: Mapping[str, str] | None = None,
    cal: WorkCalendar = OFFICIAL,
) -> dict[str, Any]:
    """Every catalogue key over a city's districts (division code → its records), from the
    records alone: counts, sums, rates and means over all the districts' records together;
    each district runs its own campaign (its district-wide target, `whole[code]`), so the
    city's campaign target and completed area add up and its progress is their ratio."""
    union = {s: [r for data in districts.values() for r in data.get(s, [])] for s in SOURCES}
    out = indicators(union, start, end, cal)
    chosen = {
        code: campaign(
            data.get("demolition_targets", []), start, end, (whole or {}).get(code, WHOLE_DISTRICT)
        )
        for code, data in districts.items()
    }
    chosen = {code: c for code, c in chosen.items() if c is not None}
    target = _total(c["target_m2"] for c in chosen.values()) if chosen else None
    out["demolition.campaign_target_m2"] = target
    out["demolition.campaign_area_m2"] = out["demolition.campaign_progress"] = None
    if chosen and has_data("demolition", union["demolition"], start, end):
        done = _total(
            r["area_m2"]
            for code, c in chosen.items()
            for r in districts[code].get("demolition", [])
            if _within(r["demolished_date"], c["start_date"], min(c["end_date"], end))
        )
        out["demolition.campaign_area_m2"] = done
        out["demolition.campaign_progress"] = None if target == 0 else float(done) / float(target)
    return out


def same(key_kind: str, expected: Any, actual: Any) -> bool:
    """Exact for counts and DECIMAL money/areas; rates, hours and days within 1e-9."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if key_kind in ("count", "money", "area"):
        return type(actual) is type(expected) and actual == expected
    return abs(float(actual) - float(expected)) <= 1e-9


# --- records and loading ----------------------------------------------------------------------


def permit(permit_id: str, received: dt.date, decided: dt.date | None, **kw: Any) -> Record:
    row = {
        "permit_id": permit_id,
        "item_name": "临时占用城市道路审批",
        "applicant": None,
        "channel": "窗口",
        "received_date": received,
        "decided_date": decided,
        "status": "准予许可" if decided else "办理中",
        "promised_days": 5,
        "fee_yuan": ZERO,
        "e_license": False,
    }
    return row | kw


def case(case_id: str, filed: dt.date, decided: dt.date | None, **kw: Any) -> Record:
    row = {
        "case_id": case_id,
        "filed_date": filed,
        "decided_date": decided,
        "closed_date": None,
        "street": "金霞",
        "category": "占道经营",
        "party_name": None,
        "party_id": None,
        "penalty_type": "罚款" if decided else None,
        "fine_yuan": ZERO,
        "is_major": False,
        "legal_review": False,
        "collective_decision": False,
        "disclosed_date": None,
        "review_outcome": None,
        "review_date": None,
    }
    return row | kw


def demolished(record_id: str, day: dt.date, area: str, street: str = "鸥汀") -> Record:
    return {
        "record_id": record_id,
        "street": street,
        "address": None,
        "demolished_date": day,
        "area_m2": Decimal(area),
        "building_type": "存量违建",
    }


def target(name: str, street: str, start: dt.date, end: dt.date, area: str) -> Record:
    return {
        "campaign": name,
        "street": street,
        "start_date": start,
        "end_date": end,
        "target_m2": Decimal(area),
    }


def dcm_case(case_id: str, reported: dt.datetime, **kw: Any) -> Record:
    row = {
        "case_id": case_id,
        "source": "监督员上报",
        "case_class": "事件",
        "category": "市容环境",
        "subcategory": None,
        "street": "龙华",
        "reported_at": reported,
        "registered_at": None,
        "dispatched_at": None,
        "deadline_at": None,
        "disposed_at": None,
        "closed_at": None,
        "rework_count": 0,
        "updated_at": None,
    }
    return row | kw


def activity(day: dt.date, kind: str, title: str, participants: int | None) -> Record:
    return {"date": day, "activity_type": kind, "title": title, "participants": participants}


def clear(con: duckdb.DuckDBPyConnection) -> None:
    for table in SOURCES:
        con.execute(f"DELETE FROM {table}")


def load(
    con: duckdb.DuckDBPyConnection, data: Data, batch_id: int = 1, district: str = DISTRICT
) -> None:
    """Insert record dicts into the core tables as they are (plus `batch_id`, and `district`
    where a record does not name its own)."""
    for table, rows in data.items():
        if not rows:
            continue
        schema = con.sql(f"SELECT * FROM {table} LIMIT 0").to_arrow_table().schema
        arrow = pa.Table.from_pylist(  # noqa: F841 - read by name in the SQL below
            [{"district": district} | r | {"batch_id": batch_id} for r in rows], schema=schema
        )
        con.execute(f"INSERT INTO {table} SELECT * FROM arrow")


# --- the edge-case scenario -------------------------------------------------------------------

D = dt.date


def T(text: str) -> dt.datetime:
    """A timestamp, Asia/Shanghai wall time: T("2023-07-31 23:59:59")."""
    return dt.datetime.fromisoformat(text)


CAMPAIGN_2022 = "2022年拆违攻坚行动"  # 2022-04-01..2022-12-31: starts mid-year
CAMPAIGN_2023 = "2023年违法建设专项治理"  # 2023-07-01..2024-06-30: mid-year, spans two years
CAMPAIGN_2024 = "2024年下半年拆违攻坚"  # 2024-09-01..2024-12-31: the later start wins in 2024

#: Months (year, month) in which a source has no record at all.
GAPS = {
    "legal_activities": {(2023, 5)} | {(2024, m) for m in range(1, 13)},
    "dcm_cases": {(2022, 2)},
    "enforcement": {(2023, 8)},  # only a court case concluding (review_date) that month
}


def _months() -> list[tuple[int, int]]:
    return [(y, m) for y in (2022, 2023, 2024) for m in range(1, 13)]


def _day(rng: random.Random, year: int, month: int, lo: int = 1, hi: int = 28) -> dt.date:
    return dt.date(year, month, rng.randint(lo, hi))


def _money(rng: random.Random, hi: int) -> Decimal:
    return Decimal(rng.randint(0, hi * 100)) / 100


def edge_records() -> dict[str, list[Record]]:
    """Hand-made records, one per edge case the definitions must get right."""
    return {
        "enforcement": [
            # disclosed on exactly the 7th / the 8th working day after the decision
            case(
                "E-D7",
                D(2023, 2, 20),
                D(2023, 3, 1),
                disclosed_date=D(2023, 3, 10),
                fine_yuan=Decimal("5000.00"),
            ),
            case(
                "E-D8",
                D(2023, 2, 20),
                D(2023, 3, 1),
                disclosed_date=D(2023, 3, 13),
                penalty_type="警告",
            ),
            case("E-NODISC", D(2023, 2, 22), D(2023, 3, 2), fine_yuan=Decimal("1200.50")),
            # decided on day 90 and day 91 after filing
            case("E-90", D(2023, 1, 10), D(2023, 4, 10), fine_yuan=Decimal("800.00")),
            case("E-91", D(2023, 1, 9), D(2023, 4, 10), penalty_type=NO_PENALTY),
            # disclosure across National Day 2023 (make-up Saturday 10-07 and Sunday 10-08)
            case(
                "E-NAT",
                D(2023, 9, 1),
                D(2023, 9, 27),
                disclosed_date=D(2023, 10, 9),
                fine_yuan=Decimal("2000.00"),
            ),
            # across Dragon Boat 2023 (make-up Sunday 06-25): the 7th working day exactly
            case(
                "E-DRAGON",
                D(2023, 6, 1),
                D(2023, 6, 21),
                disclosed_date=D(2023, 7, 3),
                fine_yuan=Decimal("300.00"),
            ),
            # across Spring Festival 2024
            case(
                "E-SPRING",
                D(2024, 1, 15),
                D(2024, 2, 8),
                disclosed_date=D(2024, 2, 19),
                fine_yuan=Decimal("1500.00"),
            ),
            # major cases: reviewed and discussed, reviewed only; a major 不予处罚 is no penalty
            case(
                "E-MAJ1",
                D(2023, 7, 3),
                D(2023, 7, 20),
                is_major=True,
                legal_review=True,
                collective_decision=True,
                fine_yuan=Decimal("200000.00"),
                disclosed_date=D(2023, 7, 25),
            ),
            case(
                "E-MAJ2",
                D(2023, 7, 4),
                D(2023, 7, 21),
                is_major=True,
                legal_review=True,
                fine_yuan=Decimal("150000.00"),
                disclosed_date=D(2023, 8, 1),
            ),
            case("E-MAJ3", D(2023, 7, 5), D(2023, 7, 24), is_major=True, penalty_type=NO_PENALTY),
            # a major penalty decided without legal review
            case(
                "E-MAJ4",
                D(2023, 10, 9),
                D(2023, 10, 30),
                is_major=True,
                collective_decision=True,
                fine_yuan=Decimal("100000.00"),
            ),
            # a court case lost in August 2023, the only enforcement record dated that month
            case(
                "E-REV",
                D(2023, 3, 15),
                D(2023, 4, 20),
                is_major=True,
                legal_review=True,
                fine_yuan=Decimal("50000.00"),
                review_outcome="败诉",
                review_date=D(2023, 8, 15),
            ),
            case(
                "E-REV2",
                D(2023, 3, 16),
                D(2023, 3, 30),
                fine_yuan=Decimal("600.00"),
                review_outcome="维持",
                review_date=D(2023, 4, 25),
            ),
            # decided, but no penalty type given: neither a penalty nor 不予处罚
            case("E-NOTYPE", D(2023, 4, 3), D(2023, 4, 6), penalty_type=None),
            # filed, not decided
            case("E-OPEN", D(2023, 12, 20), None),
        ],
        "permits": [
            # Spring Festival 2024: off 02-10..02-17, make-up Sundays 02-04 and 02-18
            permit(
                "P-SPRING",
                D(2024, 2, 8),
                D(2024, 2, 19),
                promised_days=3,
                fee_yuan=Decimal("1280.50"),
                e_license=True,
                channel="网上",
            ),
            permit("P-MAKEUP-0204", D(2024, 2, 2), D(2024, 2, 5), promised_days=1),
            permit(
                "P-MAKEUP-0218", D(2024, 2, 9), D(2024, 2, 18), promised_days=1, status="不予许可"
            ),
            # decided on make-up Sunday 2023-04-23 and make-up weekend 2023-10-07/08
            permit(
                "P-LABOUR",
                D(2023, 4, 21),
                D(2023, 4, 23),
                promised_days=1,
                fee_yuan=Decimal("96.00"),
            ),
            permit(
                "P-NATDAY",
                D(2023, 9, 28),
                D(2023, 10, 8),
                promised_days=2,
                channel="网上",
                e_license=True,
            ),
            permit("P-DRAGON", D(2023, 6, 21), D(2023, 6, 25), promised_days=1, status="撤回"),
            # received in December, decided in January: not concluded in 2023, revenue in 2024
            permit("P-CROSS", D(2023, 12, 28), D(2024, 1, 3), fee_yuan=Decimal("300.00")),
            permit("P-PENDING", D(2023, 12, 20), None, channel="网上"),
        ],
        "demolition": [
            demolished("R-0630", D(2023, 6, 30), "111.11"),  # the day before the campaign
            demolished("R-0701", D(2023, 7, 1), "222.22"),  # its first day
            demolished("R-240630", D(2024, 6, 30), "333.33"),  # its last day
            demolished("R-240701", D(2024, 7, 1), "444.44"),  # after it
        ],
        "demolition_targets": [
            target(CAMPAIGN_2022, WHOLE_DISTRICT, D(2022, 4, 1), D(2022, 12, 31), "60000.00"),
            target(CAMPAIGN_2023, WHOLE_DISTRICT, D(2023, 7, 1), D(2024, 6, 30), "1200000.00"),
            *[
                target(CAMPAIGN_2023, s, D(2023, 7, 1), D(2024, 6, 30), "120000.00")
                for s in STREETS
            ],
            target(CAMPAIGN_2024, WHOLE_DISTRICT, D(2024, 9, 1), D(2024, 12, 31), "300000.00"),
        ],
        "dcm_cases": [
            # disposed after the end of July but before its deadline: not due in July
            dcm_case(
                "D-AFTER",
                T("2023-07-30 09:00"),
                registered_at=T("2023-07-30 09:30"),
                dispatched_at=T("2023-07-30 10:00"),
                deadline_at=T("2023-08-02 10:00"),
                disposed_at=T("2023-08-01 15:00"),
                closed_at=T("2023-08-01 18:00"),
                rework_count=1,
            ),
            # deadline in July, disposed late in August: due in July, not on time
            dcm_case(
                "D-LATE",
                T("2023-07-28 08:00"),
                registered_at=T("2023-07-28 08:10"),
                dispatched_at=T("2023-07-28 09:00"),
                deadline_at=T("2023-07-31 09:00"),
                disposed_at=T("2023-08-01 10:00"),
                closed_at=T("2023-08-02 10:00"),
            ),
            # reported and disposed in the last minutes of July
            dcm_case(
                "D-EDGE",
                T("2023-07-31 23:30"),
                registered_at=T("2023-07-31 23:40"),
                dispatched_at=T("2023-07-31 23:45"),
                deadline_at=T("2023-08-01 12:00"),
                disposed_at=T("2023-07-31 23:59:59"),
                source="12345热线",
            ),
            dcm_case("D-AUG", T("2023-08-01 00:00"), registered_at=T("2023-08-01 00:10")),
            # disposed without dispatch or deadline: due, never on time, no disposal hours
            dcm_case(
                "D-NODISPATCH",
                T("2023-07-10 10:00"),
                registered_at=T("2023-07-10 11:00"),
                disposed_at=T("2023-07-11 10:00"),
                closed_at=T("2023-07-12 10:00"),
            ),
            # never registered (不予立案)
            dcm_case("D-REFUSED", T("2023-07-12 10:00"), source="12345热线"),
        ],
        "legal_activities": [],
    }


def filler_records(seed: int = 20231231) -> dict[str, list[Record]]:
    """A few ordinary records in every month of 2022–2024, except the GAPS."""
    rng = random.Random(seed)
    out: dict[str, list[Record]] = {s: [] for s in SOURCES}
    penalties = ["罚款", "罚款", "警告", "没收违法所得", "责令停止违法行为", NO_PENALTY, None]
    for year, month in _months():
        tag = f"{year}{month:02d}"
        if (year, month) not in GAPS["enforcement"]:
            for i in range(4):
                filed = _day(rng, year, month, 1, 10)
                decided = None if i == 3 else _day(rng, year, month, filed.day, 28)
                kind = rng.choice(penalties) if decided else None
                reviewed = decided is not None and rng.random() < 0.3
                out["enforcement"].append(
                    case(
                        f"E{tag}-{i}",
                        filed,
                        decided,
                        penalty_type=kind,
                        street=rng.choice(STREETS),
                        category=rng.choice(["占道经营", "户外广告", "建筑垃圾", "违法建设"]),
                        fine_yuan=_money(rng, 20000) if kind == "罚款" else ZERO,
                        disclosed_date=decided + dt.timedelta(days=rng.randint(0, 14))
                        if decided and rng.random() < 0.8
                        else None,
                        review_outcome=rng.choice(["维持", "纠错", "败诉"]) if reviewed else None,
                        review_date=dt.date(year, month, 28) if reviewed else None,
                    )
                )
        for i in range(4):
            received = _day(rng, year, month)
            decided = received + dt.timedelta(days=rng.randint(0, 25)) if i < 3 else None
            status = (
                rng.choice(["准予许可", "准予许可", "不予许可", "撤回"]) if decided else "办理中"
            )
            if (year, month) == (2023, 6) and decided:
                status = "不予许可"  # nothing granted in June 2023: e-licence rate has no base
            out["permits"].append(
                permit(
                    f"P{tag}-{i}",
                    received,
                    decided,
                    item_name=rng.choice(
                        ["城市建筑垃圾处置核准", "临时占用城市道路审批", "挖掘城市道路审批"]
                    ),
                    channel=rng.choice(["网上", "窗口"]),
                    status=status,
                    promised_days=rng.randint(2, 15),
                    fee_yuan=_money(rng, 5000),
                    e_license=status == "准予许可" and rng.random() < 0.7,
                )
            )
        for i in range(3):
            out["demolition"].append(
                demolished(
                    f"R{tag}-{i}",
                    _day(rng, year, month),
                    f"{rng.randint(50, 90000)}.{rng.randint(0, 99):02d}",
                    street=rng.choice(STREETS),
                )
            )
        if (year, month) not in GAPS["dcm_cases"]:
            for i in range(5):
                reported = dt.datetime.combine(_day(rng, year, month), dt.time(8)) + dt.timedelta(
                    minutes=rng.randint(0, 600)
                )
                row = dcm_case(
                    f"D{tag}-{i}",
                    reported,
                    source=rng.choice(["监督员上报", "12345热线", "群众举报"]),
                    street=rng.choice(STREETS),
                    category=rng.choice(["市容环境", "街面秩序", "宣传广告"]),
                )
                t = reported
                for step in ("registered_at", "dispatched_at", "disposed_at", "closed_at"):
                    if rng.random() < 0.15:
                        break
                    t = t + dt.timedelta(hours=rng.randint(1, 200))
                    row[step] = t
                    if step == "dispatched_at":
                        row["deadline_at"] = t + dt.timedelta(hours=rng.choice([24, 72, 120]))
                row["rework_count"] = rng.choice([0, 0, 0, 1, 2])
                out["dcm_cases"].append(row)
        if (year, month) not in GAPS["legal_activities"]:
            for i, kind in enumerate(["党组学法", "中心组学习", "执法培训", "普法宣传"]):
                if rng.random() < 0.7:
                    out["legal_activities"].append(
                        activity(
                            _day(rng, year, month),
                            kind,
                            f"{tag}-{i} {kind}",
                            rng.choice([None, 12, 30, 45, 200]),
                        )
                    )
    return out


def scenario() -> dict[str, list[Record]]:
    """The edge cases plus ordinary filler over 2022–2024."""
    edge, fill = edge_records(), filler_records()
    return {s: edge.get(s, []) + fill.get(s, []) for s in SOURCES}

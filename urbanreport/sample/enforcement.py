"""Sample penalty cases (行政处罚案件): monthly GB18030 CSV and a yearly JSON Lines correction.

Why by decision year: the published figures count decisions, so one universe holds all of a
year's decisions (some filed the year before) and can be calibrated on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from urbanreport.sample.calibration import ENFORCEMENT_GROWTH, reference
from urbanreport.sample.common import (
    WorkCalendar,
    blank_after_cut,
    by_name,
    date_text,
    export_time,
    gather,
    grown,
    ids,
    local,
    lognormal,
    money_text,
    month_snapshots,
    neighbour_years,
    sequence_numbers,
    to_date,
    weights,
    yes_no,
)
from urbanreport.sample.parties import parties
from urbanreport.sample.run import Run

SOURCE = "enforcement"
#: Values of the configured dictionaries that the indicators give a meaning to.
FINE, NO_PENALTY, ILLEGAL_BUILDING = "罚款", "不予处罚", "违法建设"

DATES = ["filed_date", "decided_date", "closed_date", "disclosed_date", "review_date"]
BAD_KINDS = ["bad_date", "negative_fine", "unknown_street", "missing_key", "decided_first"]

#: Per category: share, typical fine (median, spread, rounding step in yuan), share of
#: companies among the parties. From the discretion benchmarks: street trading a few hundred
#: yuan, construction waste and illegal building more.
_CATEGORY_DESIGN = {
    "市容环境卫生": (0.18, 500, 0.6, 50, 0.15),
    "占道经营": (0.22, 200, 0.5, 50, 0.05),
    "户外广告": (0.08, 2500, 0.7, 100, 0.6),
    "建筑垃圾": (0.12, 8000, 0.8, 500, 0.7),
    "违法建设": (0.08, 16000, 0.9, 100, 0.4),
    "城中村六乱": (0.10, 300, 0.6, 50, 0.1),
    "门前三包": (0.12, 200, 0.5, 50, 0.2),
    "园林绿化": (0.04, 1500, 0.8, 100, 0.3),
    "其他": (0.06, 800, 0.7, 100, 0.2),
}
_CATEGORY_DEFAULT = (0.06, 800, 0.7, 100, 0.2)
#: Shares of the penalty types other than 不予处罚 (which is its own kind of decision).
_PENALTY_SHARES = {"罚款": 0.72, "警告": 0.14, "没收违法所得": 0.03, "责令停止违法行为": 0.11}
_REVIEW_SHARES = {"维持": 0.78, "纠错": 0.16, "败诉": 0.06}
_MONTH_W = np.array([7, 5, 8.5, 8.5, 9, 9, 9, 9, 8.5, 8, 9, 9.5])


def _shares(names: list[str], table: dict[str, float]) -> np.ndarray:
    return weights([table.get(name, 0.05) for name in names])


@dataclass(frozen=True)
class _Dictionaries:
    """The configured values the cases are drawn from, with the design of each category."""

    categories: list[str]
    design: np.ndarray  # per category: share, fine median, spread, step, company share
    punitive: list[str]  # the penalty types that punish (all but 不予处罚)
    no_penalty: str
    fine_code: int  # 罚款 among `punitive`
    outcomes: list[str]

    @classmethod
    def of(cls, run: Run) -> _Dictionaries:
        categories = run.dictionary("enforcement_categories")
        run.member("penalty_types", FINE)
        no_penalty = run.member("penalty_types", NO_PENALTY)
        punitive = [t for t in run.dictionary("penalty_types") if t != no_penalty]
        return cls(
            categories=categories,
            design=by_name(categories, _CATEGORY_DESIGN, _CATEGORY_DEFAULT),
            punitive=punitive,
            no_penalty=no_penalty,
            fine_code=punitive.index(FINE),
            outcomes=run.dictionary("review_outcomes"),
        )


def _kinds(run: Run, rng: np.random.Generator, year: int) -> np.ndarray:
    """0 punished, 1 不予处罚 (柔性执法), 2 filed but never decided (transferred or dropped),
    3 deliberately bad; the punished as many as published in the calibrated year."""
    if published := run.calibration(year):
        n_pen = run.scale * published.penalty_cases
    else:
        n_pen = grown(run.size * reference().penalty_cases, ENFORCEMENT_GROWTH, year, rng)
    n_nop = round(n_pen * 0.09)
    n_open = round(n_pen * 0.025)
    n_bad = max(len(BAD_KINDS), round(n_pen * 0.002))
    return np.repeat([0, 1, 2, 3], [n_pen, n_nop, n_open, n_bad])


def _dates(
    cal: WorkCalendar, rng: np.random.Generator, year: int, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Filing and decision days: decisions in `year`, filed some working days before (a few
    more than 90 days before), undecided cases filed in `year`."""
    n = len(kind)
    decides = kind != 2
    decided = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    decided[decides] = cal.sample(rng, year, int(decides.sum()), _MONTH_W)
    lag = np.clip(np.rint(lognormal(rng, 12, 0.7, n)), 1, 45).astype(np.int64)
    n_pen = int((kind == 0).sum())
    overdue = rng.choice(np.flatnonzero(kind == 0), max(2, round(n_pen * 0.006)), replace=False)
    lag[overdue] = rng.integers(70, 101, len(overdue))
    filed = cal.sample(rng, year, n, _MONTH_W)
    filed[decides] = cal.shift(decided[decides], -lag[decides])
    return filed, decided


def _penalties(
    run: Run,
    rng: np.random.Generator,
    year: int,
    kind: np.ndarray,
    category: np.ndarray,
    d: _Dictionaries,
) -> tuple[np.ndarray, np.ndarray]:
    """Each case's penalty type (code into `d.punitive`, -1: none) and fine in yuan (0: none);
    the counted fines add up to the year's target."""
    n = len(kind)
    shares = _shares(d.punitive, _PENALTY_SHARES)
    ptype = np.where(kind == 0, rng.choice(len(d.punitive), n, p=shares), -1)
    ptype[kind == 3] = d.fine_code  # bad rows look like fines, so loading one would be noticed
    is_fine = ptype == d.fine_code
    median, sigma = d.design[category, 1], d.design[category, 2]
    step = d.design[category, 3].astype(np.int64)
    raw = np.minimum(lognormal(rng, median, sigma, n), median * 25)
    fine = np.where(is_fine, np.maximum(step, np.rint(raw / step) * step), 0).astype(np.int64)
    # Other years follow the calibrated one, so year-on-year comparisons tell a steady story.
    if published := run.calibration(year):
        target = run.scale * published.fines_yuan
    else:
        target = grown(run.size * reference().fines_yuan, ENFORCEMENT_GROWTH, year, rng)
    building_code = d.categories.index(ILLEGAL_BUILDING) if ILLEGAL_BUILDING in d.categories else -1
    fine = _calibrate_fines(
        rng, fine, (kind == 0) & is_fine, category == building_code, step, target
    )
    return ptype, fine


def _procedure(
    cal: WorkCalendar,
    rng: np.random.Generator,
    kind: np.ndarray,
    fine: np.ndarray,
    is_fine: np.ndarray,
    dates: tuple[np.ndarray, np.ndarray],
) -> dict[str, np.ndarray]:
    """Major cases (most large fines), legal review, collective decision, disclosure within
    days, closing (a few fines await court enforcement; half the undecided cases are dropped)."""
    n = len(kind)
    filed, decided = dates
    decides = kind != 2
    is_major = (kind != 1) & decides & (rng.random(n) < np.where(fine >= 30000, 0.8, 0.02))
    legal_review = decides & (
        rng.random(n) < np.where(is_major, 0.97, np.where(kind == 1, 0.5, 0.3))
    )
    collective = is_major & (rng.random(n) < 0.985)

    u = rng.random(n)
    disclose_after = np.where(u < 0.955, rng.integers(1, 7, n), rng.integers(9, 21, n))
    disclosed = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    disclose = ((kind == 0) | (kind == 3)) & (u < 0.985)
    disclosed[disclose] = cal.shift(decided[disclose], disclose_after[disclose])

    close_after = np.where(is_fine, rng.integers(8, 40, n), rng.integers(1, 10, n))
    closes = decides & ~(is_fine & (rng.random(n) < 0.04))
    closed = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    closed[closes] = cal.shift(decided[closes], close_after[closes])
    drops = (kind == 2) & (rng.random(n) < 0.5)
    closed[drops] = cal.shift(filed[drops], rng.integers(15, 60, int(drops.sum())))
    return {
        "is_major": is_major,
        "legal_review": legal_review,
        "collective_decision": collective,
        "disclosed_date": disclosed,
        "closed_date": closed,
    }


def _reviews(
    cal: WorkCalendar,
    rng: np.random.Generator,
    kind: np.ndarray,
    decided: np.ndarray,
    d: _Dictionaries,
) -> tuple[np.ndarray, np.ndarray]:
    """About 2.5% of the punished go to administrative review or court, months later."""
    n = len(kind)
    reviewed = (kind == 0) & (rng.random(n) < 0.025)
    review_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    review_date[reviewed] = cal.shift(decided[reviewed], rng.integers(40, 170, int(reviewed.sum())))
    shares = _shares(d.outcomes, _REVIEW_SHARES)
    outcome = np.where(reviewed, rng.choice(len(d.outcomes), n, p=shares), -1)
    return review_date, outcome


def universe(run: Run, year: int) -> pl.DataFrame:
    """Penalty cases decided in `year` and cases filed in `year` that end without a decision."""
    rng = run.rng(SOURCE, year)
    d = _Dictionaries.of(run)
    kind = _kinds(run, rng, year)
    n = len(kind)
    filed, decided = _dates(run.calendar, rng, year, kind)
    category = rng.choice(len(d.categories), n, p=weights(d.design[:, 0]))
    ptype, fine = _penalties(run, rng, year, kind, category, d)
    is_fine = ptype == d.fine_code
    procedure = _procedure(run.calendar, rng, kind, fine, is_fine, (filed, decided))
    review_date, outcome = _reviews(run.calendar, rng, kind, decided, d)
    street = rng.choice(len(run.streets), n, p=run.street_weights("population"))
    party_name, party_id = parties(rng, d.design[category, 4], run.city)
    wrong_fine, wrong_decided, corrected = _corrections(rng, kind, is_fine, fine, filed, decided)
    seq, bad = sequence_numbers(rng, filed, kind == 3, len(BAD_KINDS))
    penalty = np.where(kind == 1, len(d.punitive), ptype)
    corrected_on = np.where(corrected, np.datetime64(f"{year + 1}-01-15"), np.datetime64("NaT"))
    df = pl.DataFrame(
        {
            "case_id": ids(f"{run.id_prefix}CF{year}", seq, 6),
            "filed_date": to_date(filed),
            "decided_date": to_date(decided),
            "closed_date": to_date(procedure["closed_date"]),
            "street": gather(run.streets, street),
            "category": gather(d.categories, category),
            "party_name": party_name,
            "party_id": party_id,
            "penalty_type": gather([*d.punitive, d.no_penalty], penalty),
            "fine_yuan": pl.Series(np.where(is_fine, fine, -1)),
            "is_major": procedure["is_major"],
            "legal_review": procedure["legal_review"],
            "collective_decision": procedure["collective_decision"],
            "disclosed_date": to_date(procedure["disclosed_date"]),
            "review_outcome": gather(d.outcomes, outcome),
            "review_date": to_date(review_date),
            "wrong_fine": pl.Series(wrong_fine),
            "wrong_decided": to_date(wrong_decided),
            "corrected_on": to_date(corrected_on),
            "_bad": bad,
        }
    )
    return df.with_columns(
        [pl.when(pl.col(c) >= 0).then(pl.col(c)).alias(c) for c in ("fine_yuan", "wrong_fine")]
    ).sort("filed_date", "case_id")


def _corrections(
    rng: np.random.Generator,
    kind: np.ndarray,
    is_fine: np.ndarray,
    fine: np.ndarray,
    filed: np.ndarray,
    decided: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Records corrected after the year closed: a mistyped fine or decision date.

    Returns the wrong fine (-1: none), the wrong decision date (NaT: none) and which records
    the correction file fixes.
    """
    n = len(kind)
    n_corr = max(3, round(int((kind == 0).sum()) * 0.005))
    fined = np.flatnonzero((kind == 0) & is_fine)
    corr_fine = rng.choice(fined, (n_corr + 1) // 2, replace=False)
    others = np.setdiff1d(np.flatnonzero(kind == 0), corr_fine)
    corr_date = rng.choice(others, n_corr // 2, replace=False)
    wrong_fine = np.full(n, -1, dtype=np.int64)
    wrong_fine[corr_fine] = np.where(
        fine[corr_fine] < 5000, fine[corr_fine] * 10, fine[corr_fine] // 500 * 50
    )
    wrong_decided = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    wrong_decided[corr_date] = np.maximum(
        filed[corr_date], decided[corr_date] - np.timedelta64(9, "D")
    )
    corrected = np.zeros(n, dtype=bool)
    corrected[corr_fine] = corrected[corr_date] = True
    return wrong_fine, wrong_decided, corrected


def _calibrate_fines(
    rng: np.random.Generator,
    fine: np.ndarray,
    counted: np.ndarray,
    building: np.ndarray,
    step: np.ndarray,
    target: int,
) -> np.ndarray:
    """Make the counted fines sum to the target while staying realistic.

    Rescale and round to each category's step, move the difference in 50-yuan steps over random
    fines, and put the last few yuan into one illegal-building fine (those are computed from the
    construction cost, so an odd amount is normal there).
    """
    fine = fine.copy()
    idx = np.flatnonzero(counted)
    st = step[idx]
    f = fine[idx].astype(float) * (target / fine[idx].sum())
    f = np.maximum(st, np.rint(f / st) * st).astype(np.int64)
    q, r = divmod(target - int(f.sum()), 50)
    if q > 0:
        np.add.at(f, rng.choice(len(f), q), 50)
    elif q < 0:
        np.add.at(f, rng.choice(np.flatnonzero(f >= 1000), -q), -50)
    pool = np.flatnonzero(building[idx])
    if not len(pool):
        pool = np.arange(len(f))
    f[pool[int(np.argmax(f[pool]))]] += r
    fine[idx] = f
    return fine


def _state(df: pl.DataFrame) -> pl.DataFrame:
    """What an export at `_cut` shows: decision fields only once decided, and the mistyped
    values of corrected records until the correction date."""
    decided = pl.col("decided_date").is_not_null()
    exported = pl.col("_cut") + pl.duration(days=1)  # the export runs early the next day
    early = pl.col("corrected_on").is_not_null() & (exported < pl.col("corrected_on"))
    wrong_fine = early & pl.col("wrong_fine").is_not_null()
    return df.with_columns(
        penalty_type=pl.when(decided).then(pl.col("penalty_type")),
        fine_yuan=pl.when(decided).then(
            pl.when(wrong_fine).then(pl.col("wrong_fine")).otherwise(pl.col("fine_yuan"))
        ),
        is_major=decided & pl.col("is_major"),
        legal_review=decided & pl.col("legal_review"),
        collective_decision=decided & pl.col("collective_decision"),
        review_outcome=pl.when(pl.col("review_date").is_not_null()).then(pl.col("review_outcome")),
    ).with_columns(
        decided_date=pl.when(decided & early & pl.col("wrong_decided").is_not_null())
        .then(pl.col("wrong_decided"))
        .otherwise(pl.col("decided_date"))
    )


def _text(df: pl.DataFrame, run: Run) -> pl.DataFrame:
    """The penalty system's export: ISO dates, 是/否, streets with their 街道 suffix."""
    kind = {k: i + 1 for i, k in enumerate(BAD_KINDS)}
    bad = pl.col("_bad")
    fine = money_text(pl.col("fine_yuan") * 100, thousands=False)
    iso = {c: date_text(c, "iso") for c in DATES}
    return df.select(
        "_m",
        case_id=pl.when(bad == kind["missing_key"]).then(pl.lit("")).otherwise("case_id"),
        filed_date=pl.when(bad == kind["bad_date"])
        .then(pl.col("filed_date").dt.strftime("%Y-13-%d"))
        .otherwise(iso["filed_date"]),
        decided_date=pl.when(bad == kind["decided_first"])
        .then((pl.col("filed_date") - pl.duration(days=3)).dt.strftime("%Y-%m-%d"))
        .otherwise(iso["decided_date"]),
        closed_date=iso["closed_date"],
        street=pl.when(bad == kind["unknown_street"])
        .then(pl.lit(run.foreign_street()))
        .otherwise(run.full_street(pl.col("street"))),
        category="category",
        party_name="party_name",
        party_id="party_id",
        penalty_type="penalty_type",
        fine_yuan=pl.when(bad == kind["negative_fine"]).then("-" + fine).otherwise(fine),
        is_major=yes_no("is_major"),
        legal_review=yes_no("legal_review"),
        collective_decision=yes_no("collective_decision"),
        disclosed_date=iso["disclosed_date"],
        review_outcome="review_outcome",
        review_date=iso["review_date"],
    )


def corrections_name(year: int) -> str:
    return f"enforcement_corrections_{year}.jsonl"


def write(run: Run) -> None:
    """Monthly GB18030 CSV (CRLF, as the Windows-based penalty system writes) plus a yearly
    JSON Lines correction file dated after the year's last export."""
    df = pl.concat([run.universe(SOURCE, u) for u in neighbour_years(run.years, 1, 1)])
    good = df.filter(pl.col("_bad") == 0)
    bad = df.filter(pl.col("_bad") != 0)
    rows = pl.concat(
        [
            month_snapshots(good, DATES, run.months),
            month_snapshots(bad, ["decided_date"], run.months),
        ]
    )
    rows = _state(blank_after_cut(rows, DATES)).sort("_m", "filed_date", "case_id")
    text = _text(rows, run)
    headers = run.headers(SOURCE)
    parts = text.partition_by("_m", as_dict=True, include_key=False)
    for mi in run.months:
        part = parts.get((mi,), text.drop("_m").clear()).rename(headers)
        data = part.write_csv(line_terminator="\r\n").encode("gb18030")
        run.emit(run.monthly_path(SOURCE, mi, "csv"), data, export_time(mi))

    for year in run.years:
        fixed = run.universe(SOURCE, year).filter(pl.col("corrected_on").is_not_null())
        fixed = fixed.with_columns(_cut=pl.col("corrected_on") - pl.duration(days=1))
        fixed = _state(blank_after_cut(fixed, DATES))
        out = fixed.select(
            [pl.col(c).dt.strftime("%Y-%m-%d") if c in DATES else pl.col(c) for c in headers]
        )
        run.emit(
            run.path(SOURCE, corrections_name(year)),
            out.write_ndjson().encode("utf-8"),
            local(year + 1, 1, 15, 2),
        )

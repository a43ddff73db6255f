"""Sample permit cases (行政许可办件): monthly workbooks from the permit system.

In the calibrated year every case is decided by the year's last working day (办结率100%) and
the fees of cases decided that year, including the previous year's late cases, add up to the
published non-tax revenue.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from urbanreport.sample.calibration import PERMITS_GROWTH, reference
from urbanreport.sample.common import (
    blank_after_cut,
    by_name,
    calibrate_sum,
    excel_serial,
    export_time,
    gather,
    grown,
    ids,
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
from urbanreport.sample.workbook import Column, Document, text_or_number, workbook_bytes

SOURCE = "permits"
#: Values of the configured dictionaries that the indicators give a meaning to.
ONLINE, PENDING, GRANTED = "网上", "办理中", "准予许可"

DATES = ["received_date", "decided_date"]
BAD_KINDS = ["bad_date", "negative_fee", "missing_key", "decided_first"]

#: Per item: share, promised working days, share of granted cases paying a fee, the fee's
#: median and spread in yuan (占道费, 挖掘修复费, 绿化补偿费; outdoor advertising is free of
#: charge), share of companies among the applicants.
_ITEM_DESIGN = {
    "城市建筑垃圾处置核准": (0.20, 5, 0.4, 450, 0.6, 0.85),
    "设置大型户外广告审批": (0.12, 10, 0.0, 1, 0.1, 0.8),
    "临时占用城市道路审批": (0.35, 5, 0.95, 700, 0.8, 0.4),
    "挖掘城市道路审批": (0.20, 5, 0.95, 1900, 0.9, 0.9),
    "城市绿化树木迁移砍伐审批": (0.13, 10, 0.8, 520, 0.8, 0.6),
}
_ITEM_DEFAULT = (0.10, 10, 0.5, 500, 0.8, 0.6)
#: How decided cases end, besides the configured 办理中 of cases still open.
_OUTCOME_SHARES = {"准予许可": 0.93, "不予许可": 0.03, "撤回": 0.04}
_MONTH_W = np.array([8, 5, 8.5, 8.5, 9, 9, 8.5, 8.5, 8.5, 8, 9, 9.5])
_WIDTHS = [20, 24, 30, 10, 14, 14, 10, 16, 14, 10]


def universe(run: Run, year: int) -> pl.DataFrame:
    """Permit cases received in `year` (bad rows last, each breaking one rule)."""
    rng = run.rng(SOURCE, year)
    cal = run.calendar
    calibrated = run.calibrated(year)
    items = run.dictionary("permit_items")
    design = by_name(items, _ITEM_DESIGN, _ITEM_DEFAULT)
    pending = run.member("permit_statuses", PENDING)
    outcomes = [s for s in run.dictionary("permit_statuses") if s != pending]
    granted_code = outcomes.index(run.member("permit_statuses", GRANTED))
    online = run.member("permit_channels", ONLINE)
    window = next(c for c in run.dictionary("permit_channels") if c != online)

    if published := run.calibration(year):
        n_good = run.scale * published.permits_received
    else:
        n_good = grown(run.size * reference().permits_received, PERMITS_GROWTH, year, rng)
    n_bad = max(len(BAD_KINDS), round(n_good * 0.002))
    n = n_good + n_bad
    is_bad = np.arange(n) >= n_good

    item = rng.choice(len(items), n, p=weights(design[:, 0]))
    item[is_bad] = int(np.argmax(design[:, 2]))  # a fee-paying item
    received = cal.sample(rng, year, n, _MONTH_W)
    promised = design[item, 1].astype(np.int64)
    late = rng.random(n) < 0.04
    took = np.where(late, promised + rng.integers(1, 9, n), rng.integers(0, promised + 1))
    decided = cal.shift(received, took)
    if calibrated:
        decided = np.minimum(decided, cal.last_workday(year))  # the year-end push
    shares = weights([_OUTCOME_SHARES.get(s, 0.02) for s in outcomes])
    status = rng.choice(len(outcomes), n, p=shares)
    status[is_bad] = granted_code
    granted = status == granted_code
    is_online = rng.random(n) < 0.78
    e_license = granted & (rng.random(n) < np.where(is_online, 0.93, 0.72))
    fee = _fees(run, rng, year, design[item], granted, is_bad)
    applicant, _ = parties(rng, design[item, 5], run.city)
    seq, bad = sequence_numbers(rng, received, is_bad, len(BAD_KINDS))
    return pl.DataFrame(
        {
            "permit_id": ids(f"{run.id_prefix}XK{year}", seq, 6),
            "item_name": gather(items, item),
            "applicant": applicant,
            "channel": gather([window, online], is_online.astype(np.int64)),
            "received_date": to_date(received),
            "decided_date": to_date(decided),
            "status": gather(outcomes, status),
            "promised_days": promised,
            "fee_fen": fee,
            "e_license": e_license,
            "_bad": bad,
        }
    ).sort("received_date", "permit_id")


def _fees(
    run: Run,
    rng: np.random.Generator,
    year: int,
    design: np.ndarray,
    granted: np.ndarray,
    is_bad: np.ndarray,
) -> np.ndarray:
    """Fees in fen of each case (0: none), the counted ones summing to the year's revenue.

    In the calibrated year the revenue counts by decision date, so the fees of the previous
    year's cases decided this year are taken off the target first.
    """
    n = len(granted)
    pays = granted & ((rng.random(n) < design[:, 2]) | is_bad)
    raw = lognormal(rng, design[:, 3], design[:, 4], n)
    fee = np.where(pays, np.maximum(5000, np.rint(raw * 100)), 0).astype(np.int64)
    counted = pays & ~is_bad
    if published := run.calibration(year):
        target = run.scale * published.non_tax_revenue_fen
        spill = int(
            run.universe(SOURCE, year - 1)
            .filter((pl.col("_bad") == 0) & (pl.col("decided_date").dt.year() == year))
            .get_column("fee_fen")
            .sum()
        )
        target -= spill
    else:
        target = grown(run.size * reference().non_tax_revenue_fen, PERMITS_GROWTH, year, rng)
    fee[counted] = calibrate_sum(fee[counted], target, floor=100)
    return fee


def _rows(run: Run) -> pl.DataFrame:
    """Every export row of the requested months, as the permit system shows it then."""
    df = pl.concat([run.universe(SOURCE, u) for u in neighbour_years(run.years, 1, 0)])
    good = df.filter(pl.col("_bad") == 0)
    bad = df.filter(pl.col("_bad") != 0)
    rows = pl.concat(
        [
            month_snapshots(good, DATES, run.months),
            month_snapshots(bad, ["decided_date"], run.months),
        ]
    )
    rows = blank_after_cut(rows, DATES)
    decided = pl.col("decided_date").is_not_null()
    pending = run.member("permit_statuses", PENDING)
    rows = rows.with_columns(
        status=pl.when(decided).then(pl.col("status")).otherwise(pl.lit(pending)),
        fee_fen=pl.when(decided).then(pl.col("fee_fen")),
        e_license=decided & pl.col("e_license"),
    ).sort("_m", "received_date", "permit_id")

    kind = {k: i + 1 for i, k in enumerate(BAD_KINDS)}
    bad_kind = pl.col("_bad")
    fee = money_text("fee_fen", thousands=True)
    return rows.with_columns(
        permit_id=pl.when(bad_kind == kind["missing_key"]).then(pl.lit("")).otherwise("permit_id"),
        decided_date=pl.when(bad_kind == kind["decided_first"])
        .then(pl.col("received_date") - pl.duration(days=3))
        .otherwise("decided_date"),
        fee=pl.when(pl.col("fee_fen") > 0).then(
            pl.when(bad_kind == kind["negative_fee"]).then("-" + fee).otherwise(fee)
        ),
        e_license=yes_no("e_license"),
        bad_date=bad_kind == kind["bad_date"],
    )


def _columns(run: Run, rows: pl.DataFrame, excel_dates: bool) -> list[Column]:
    """The worksheet's columns: dates as Excel dates or as `2023年7月5日` text, fees as text."""
    columns = []
    for (name, header), width in zip(run.headers(SOURCE).items(), _WIDTHS, strict=True):
        col = pl.col(name)
        if name in DATES:
            text = pl.lit(None, pl.String) if excel_dates else col.dt.strftime("%Y年%-m月%-d日")
            if name == "received_date":  # the deliberately unparseable date is text
                unparseable = col.dt.strftime("%Y年%-m月32日")
                text = pl.when(pl.col("bad_date")).then(unparseable).otherwise(text)
            cells = text_or_number(rows, text, excel_serial(col))
            columns.append(Column(header, width, cells, is_date=True))
        else:
            source = "fee" if name == "fee_yuan" else name
            columns.append(Column(header, width, rows.get_column(source).to_list()))
    return columns


def write(run: Run) -> None:
    """Monthly xlsx from the permit system: Excel dates in odd months' files, `2023年7月5日`
    text in even months' (the two export templates in use), money as `1,234.50`."""
    rows = _rows(run)
    parts = rows.partition_by("_m", as_dict=True, include_key=False)
    for mi in run.months:
        excel_dates = mi % 2 == 0  # January, March, …: the template with real Excel dates
        data = workbook_bytes(
            "办件清单",
            _columns(run, parts.get((mi,), rows.drop("_m").clear()), excel_dates),
            Document(
                title=run.title(SOURCE),
                author="行政审批系统",
                company=run.settings["bureau"]["name"],
                created=export_time(mi),
            ),
        )
        run.emit(run.monthly_path(SOURCE, mi, "xlsx"), data, export_time(mi))

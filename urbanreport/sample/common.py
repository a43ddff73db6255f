"""Helpers every source of the sample shares: months, the working-day calendar, random draws,
the text forms the bureau's systems write, fake parties, and monthly snapshots of records.

Why vectorised (numpy, polars): at scale 100 the sample holds millions of records; a Python loop
per record would take longer than the whole ingest it is meant to exercise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

import chinese_calendar
import numpy as np
import polars as pl

from urbanreport.core.clock import SHANGHAI
from urbanreport.sample.calibration import reference

_EPOCH = date(1970, 1, 1)

# --- months and moments -------------------------------------------------------------------


def month_index(year: int, month: int) -> int:
    """Months as one integer (year*12 + month-1), so ranges and neighbours are arithmetic."""
    return year * 12 + month - 1


def ym(mi: int) -> tuple[int, int]:
    return mi // 12, mi % 12 + 1


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def export_time(mi: int) -> datetime:
    """When the monthly export of month `mi` runs: 02:00 on the 1st of the following month."""
    y, m = ym(mi + 1)
    return local(y, m, 1, 2)


def epoch_s(d: date) -> int:
    """Naive local wall time as seconds since 1970-01-01 00:00 (how timestamps are generated)."""
    return (d - _EPOCH).days * 86400


def neighbour_years(years: Sequence[int], before: int, after: int) -> list[int]:
    """Universe years whose records can touch the months of the requested years."""
    return sorted({y + d for y in years for d in range(-before, after + 1)})


# --- random draws -------------------------------------------------------------------------


def grown(base: float, rate: float, year: int, rng: np.random.Generator) -> int:
    """A yearly volume growing by `rate` around the reference year, with a little noise."""
    return round(base * rate ** (year - reference().year) * rng.uniform(0.985, 1.015))


def lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float, n: int
) -> np.ndarray:
    return np.exp(np.log(median) + sigma * rng.standard_normal(n))


def calibrate_sum(values: np.ndarray, target: int, floor: int = 1) -> np.ndarray:
    """Rescale positive integers to sum to `target` exactly; the rounding rest goes to the largest.

    Why the largest: it hides the adjustment where it is relatively smallest.
    """
    out = np.maximum(floor, np.rint(values * (target / values.sum()))).astype(np.int64)
    out[int(np.argmax(out))] += target - int(out.sum())
    if out.min() < floor:  # pragma: no cover - only with absurd targets
        raise ValueError("无法校准示例数据：目标值过小")
    return out


def weights(values: np.ndarray | Sequence[float]) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def by_name(
    names: Sequence[str], design: Mapping[str, tuple[float, ...]], default: tuple[float, ...]
) -> np.ndarray:
    """The design parameters of each configured dictionary value, one row per value.

    Why by name: the dictionaries come from the configuration, the sample's design (how often a
    category occurs, its typical fine) only knows the default values; any other value gets
    `default`, so a configured dictionary is always drawn from in full.
    """
    return np.array([design.get(name, default) for name in names], dtype=float).reshape(
        len(names), len(default)
    )


# --- polars columns -----------------------------------------------------------------------


def gather(names: Sequence[str], codes: np.ndarray) -> pl.Series:
    """Dictionary values by code; a negative code gives null.

    Why not numpy string arrays: turning those into polars columns costs more than generating
    the data, at scale 100.
    """
    idx = pl.Series(codes, dtype=pl.Int64)
    table = pl.Series(list(names), dtype=pl.String)
    return pl.select(pl.lit(table).gather(pl.when(idx >= 0).then(idx))).to_series()


def pick(rng: np.random.Generator, values: Sequence[str], n: int) -> pl.Expr:
    """`n` values drawn uniformly, as a polars expression."""
    return pl.lit(pl.Series(list(values), dtype=pl.String)).gather(
        pl.lit(pl.Series(rng.integers(0, len(values), n)))
    )


def ids(prefix: str, seq: np.ndarray, width: int) -> pl.Series:
    """Record keys: a prefix and a zero-padded sequence number."""
    return pl.select(pl.lit(prefix) + pl.lit(pl.Series(seq)).cast(pl.String).str.zfill(width))[:, 0]


def to_date(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype("datetime64[D]"))


def sequence_numbers(
    rng: np.random.Generator, order_by: np.ndarray, is_bad: np.ndarray, bad_kinds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Key numbers in date order (1, 2, …; bad rows 900001, …) and each bad row's kind (1…).

    Why separate numbers for bad rows: a deliberately broken row must never share a key with a
    good record, or refusing it would look like losing that record.
    """
    n = len(order_by)
    order = np.lexsort((rng.random(n), order_by))
    seq = np.empty(n, dtype=np.int64)
    good_sorted, bad_sorted = order[~is_bad[order]], order[is_bad[order]]
    seq[good_sorted] = np.arange(1, len(good_sorted) + 1)
    seq[bad_sorted] = 900_001 + np.arange(len(bad_sorted))
    bad = np.zeros(n, dtype=np.int8)
    bad[bad_sorted] = 1 + np.arange(len(bad_sorted)) % bad_kinds
    return seq, bad


# --- the text forms of the bureau's systems -----------------------------------------------


def date_text(col: str, style: str) -> pl.Expr:
    """A date column as the text the bureau's systems write."""
    fmt = {
        "iso": "%Y-%m-%d",
        "slash": "%Y/%-m/%-d",
        "dot": "%Y.%m.%d",
        "cn": "%Y年%-m月%-d日",
    }[style]
    return pl.col(col).dt.strftime(fmt)


def money_text(col: str | pl.Expr, thousands: bool) -> pl.Expr:
    """Non-negative hundredths (fen, centi-m²) as `1234.50` or `1,234.50`."""
    v = pl.col(col) if isinstance(col, str) else col
    whole = (v // 100).cast(pl.String)
    if thousands:
        whole = whole.str.reverse().str.extract_all(r"\d{1,3}").list.join(",").str.reverse()
    return pl.concat_str([whole, pl.lit("."), (v % 100).cast(pl.String).str.zfill(2)])


def yes_no(col: str) -> pl.Expr:
    return pl.when(pl.col(col)).then(pl.lit("是")).otherwise(pl.lit("否"))


def excel_serial(col: pl.Expr) -> pl.Expr:
    """A date as Excel's day number (1900 date system), for a real date cell."""
    return (col - pl.date(1899, 12, 30)).dt.total_days()


# --- the working-day calendar -------------------------------------------------------------


class WorkCalendar:
    """Official PRC working days (the `chinesecalendar` package, Monday–Friday where it ends).

    Why: decisions, filings and permit steps happen on working days, and the indicators measure
    time limits in working days, so the sample must place them on the same calendar.
    """

    def __init__(self, first_year: int, last_year: int) -> None:
        days = np.arange(
            np.datetime64(f"{first_year}-01-01"),
            np.datetime64(f"{last_year + 1}-01-01"),
            dtype="datetime64[D]",
        )
        flags = np.array([self._is_workday(d) for d in days.astype(object)], dtype=bool)
        self.workdays = days[flags]

    @staticmethod
    def _is_workday(d: date) -> bool:
        try:
            return bool(chinese_calendar.is_workday(d))
        except NotImplementedError:
            return d.weekday() < 5

    def _index(self, d: date | np.datetime64) -> int:
        return int(np.searchsorted(self.workdays, np.datetime64(d, "D")))

    def sample(
        self, rng: np.random.Generator, year: int, n: int, month_weights: np.ndarray
    ) -> np.ndarray:
        """`n` working days of `year`, months weighted by `month_weights`."""
        return self.in_months(rng, year, rng.choice(12, n, p=weights(month_weights)))

    def in_months(self, rng: np.random.Generator, year: int, months: np.ndarray) -> np.ndarray:
        """One working day of `year` in each given month (0 = January)."""
        starts = np.array([self._index(date(year, m, 1)) for m in range(1, 13)])
        ends = np.append(starts[1:], self._index(date(year + 1, 1, 1)))
        offset = (rng.random(len(months)) * (ends - starts)[months]).astype(np.int64)
        return self.workdays[starts[months] + offset]

    def shift(self, days: np.ndarray, k: np.ndarray | int) -> np.ndarray:
        """The working day `k` working days after (before, if negative) each day."""
        idx = np.searchsorted(self.workdays, days, side="right") - 1 + k
        return self.workdays[np.clip(idx, 0, len(self.workdays) - 1)]

    def last_workday(self, year: int) -> np.datetime64:
        return self.workdays[self._index(date(year + 1, 1, 1)) - 1]


# --- monthly snapshots --------------------------------------------------------------------


def month_snapshots(
    df: pl.DataFrame, date_cols: Sequence[str], months: Sequence[int]
) -> pl.DataFrame:
    """One row per record and requested month in which one of its dates falls.

    `_cut` is the last day that month's export can see; dates after it are blanked later.
    """
    indexed = df.with_row_index("_i")
    touched = (
        pl.concat(
            [
                indexed.select(
                    "_i", _m=pl.col(c).dt.year().cast(pl.Int64) * 12 + pl.col(c).dt.month() - 1
                )
                for c in date_cols
            ]
        )
        .drop_nulls()
        .filter(pl.col("_m").is_in(list(months)))
        .unique(maintain_order=True)
    )
    return (
        touched.join(indexed, on="_i", how="left", maintain_order="left")
        .drop("_i")
        .with_columns(_cut=pl.date(pl.col("_m") // 12, pl.col("_m") % 12 + 1, 1).dt.month_end())
    )


def blank_after_cut(df: pl.DataFrame, date_cols: Sequence[str]) -> pl.DataFrame:
    return df.with_columns(
        [pl.when(pl.col(c) <= pl.col("_cut")).then(pl.col(c)).alias(c) for c in date_cols]
    )

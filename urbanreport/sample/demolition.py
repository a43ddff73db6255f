"""Sample demolitions of illegal buildings (违法建设拆除): monthly CSV from the street offices,
and the district-wide campaigns their targets belong to.

In the calibrated year the demolitions from the campaign's start add up to the published area.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import polars as pl
import zhconv
from pypinyin import Style, pinyin

from urbanreport.core.normalize import street_full_name
from urbanreport.sample.calibration import DEMOLITION_GROWTH, reference
from urbanreport.sample.common import (
    calibrate_sum,
    date_text,
    export_time,
    gather,
    ids,
    lognormal,
    money_text,
    month_index,
    pick,
    sequence_numbers,
    to_date,
)
from urbanreport.sample.run import Run

SOURCE = "demolition"
#: Values of the configured dictionary that the sample gives a meaning to.
NEW_BUILDING, OLD_BUILDING = "新增违建", "存量违建"

BAD_KINDS = ["bad_date", "negative_area", "unknown_street", "missing_key"]

_VILLAGES = ["东社村", "西社村", "南中村", "北港村", "新乡村", "下蓬社区", "上埭村", "围内村",
             "前埔村", "后洋村", "龙头社区", "大衙村", "鸥上村", "华新村", "金堡社区"]  # fmt: skip


# --- campaigns ------------------------------------------------------------------------------


def campaign(year: int, run: Run) -> tuple[str, date, date, int]:
    """The district-wide campaign launched in `year`: name, start, end, target in m² (scale 1).

    Until 2022 the campaigns ran March–November; the 2023 one (汕府〔2023〕34号) runs a year
    from July, and so do the later ones.
    """
    name = f"{year}年违法建设专项治理"
    ref = reference()
    if year < ref.year:
        target = int(round(800_000 * 0.9 ** (ref.year - 1 - year), -3))
        return name, date(year, 3, 1), date(year, 11, 30), target
    if year == ref.year:
        target = (run.published or ref).campaign_target_m2
        return name, date(year, 7, 1), date(year + 1, 6, 30), target
    return name, date(year, 7, 1), date(year + 1, 6, 30), 1_150_000


def _monthly_rate(run: Run, mi: int) -> int:
    """Demolitions a month at scale 1: a campaign's first half year is its busiest."""
    year = mi // 12
    for launched in (year - 1, year):
        _, start, end, _ = campaign(launched, run)
        first, last = month_index(start.year, start.month), month_index(end.year, end.month)
        if first <= mi <= last:
            if launched < reference().year:
                return 140
            return 250 if mi - first < 6 else 80
    return 75


# --- records --------------------------------------------------------------------------------


def _street_variants(streets: Sequence[str]) -> np.ndarray:
    """How clerks write each street: with or without 街道, Traditional, pinyin-annotated, padded.

    Why: the contract normalises these; the sample makes sure they occur. The annotated form
    (`鷗汀(tīng)街道`) copies web pages that gloss a character with its reading.
    """
    out = []
    for s in streets:
        full = street_full_name(s)
        suffix = full[len(s) :]
        trad = zhconv.convert(s, "zh-hant")
        reading = pinyin(trad[-1], style=Style.TONE)[0][0]
        annotated = f"{trad}({reading}){suffix}"
        out.append([full, s, f"{trad}{suffix}", trad, annotated, f" {full} "])
    return np.array(out)


def universe(run: Run, year: int) -> pl.DataFrame:
    """Demolitions of `year` (bad rows last, each breaking one rule)."""
    rng = run.rng(SOURCE, year)
    calibrated = run.calibrated(year)
    growth = 1.0 if calibrated else DEMOLITION_GROWTH ** (year - reference().year)
    counts = [
        round(_monthly_rate(run, month_index(year, m)) * growth * run.size) for m in range(1, 13)
    ]
    n_good = sum(counts)
    n_bad = max(len(BAD_KINDS), round(n_good * 0.002))
    n = n_good + n_bad
    is_bad = np.arange(n) >= n_good
    month = np.concatenate([np.repeat(np.arange(12), counts), rng.integers(0, 12, n_bad)])
    month_start = np.datetime64(f"{year}-01", "M") + month
    length = (month_start + 1).astype("datetime64[D]") - month_start.astype("datetime64[D]")
    day = (rng.random(n) * length.astype(np.int64)).astype(np.int64)
    demolished = month_start.astype("datetime64[D]") + day
    area = np.rint(np.clip(lognormal(rng, 380, 0.95, n), 3, 12_000) * 100).astype(np.int64)
    if published := run.calibration(year):
        start = campaign(year, run)[1]
        in_campaign = (month >= start.month - 1) & ~is_bad
        target = run.scale * published.campaign_area_centi_m2
        area[in_campaign] = calibrate_sum(area[in_campaign], target, floor=100)

    street = rng.choice(len(run.streets), n, p=run.street_weights("demolition"))
    street_style = rng.choice(6, n, p=[0.55, 0.30, 0.06, 0.05, 0.02, 0.02])
    streets = gather(run.streets, street)
    address = _addresses(run, rng, streets)
    variants = _street_variants(run.streets)
    seq, bad = sequence_numbers(rng, demolished, is_bad, len(BAD_KINDS))
    return pl.DataFrame(
        {
            "record_id": ids(f"{run.id_prefix}CW{year}", seq, 6),
            "street": streets,
            "street_text": gather(
                variants.ravel().tolist(), street * variants.shape[1] + street_style
            ),
            "address": address,
            "demolished_date": to_date(demolished),
            "area_centi": area,
            "building_type": gather(
                [
                    run.member("building_types", NEW_BUILDING),
                    run.member("building_types", OLD_BUILDING),
                ],
                (rng.random(n) < 0.7).astype(np.int64),
            ),
            "date_style": rng.choice(3, n, p=[0.5, 0.3, 0.2]),
            "area_style": rng.choice(3, n, p=[0.8, 0.15, 0.05]),
            "_bad": bad,
        }
    ).sort("demolished_date", "record_id")


def _addresses(run: Run, rng: np.random.Generator, streets: pl.Series) -> pl.Series:
    """`龙湖区鸥汀街道东社村3巷21号`: district, street, a village, a lane and a number."""
    n = len(streets)
    return pl.select(
        pl.concat_str(
            [
                pl.lit(run.district),
                run.full_street(pl.lit(streets)),
                pick(rng, _VILLAGES, n),
                pl.lit(pl.Series(rng.integers(1, 21, n))).cast(pl.String),
                pl.lit("巷"),
                pl.lit(pl.Series(rng.integers(1, 81, n))).cast(pl.String),
                pl.lit("号"),
            ]
        )
    ).to_series()


# --- files ----------------------------------------------------------------------------------


def write(run: Run) -> None:
    """Monthly UTF-8 CSV with BOM (saved from Excel by the street offices' clerks)."""
    df = pl.concat([run.universe(SOURCE, y) for y in run.years])
    df = df.with_columns(
        _m=pl.col("demolished_date").dt.year() * 12 + pl.col("demolished_date").dt.month() - 1
    )
    kind = {k: i + 1 for i, k in enumerate(BAD_KINDS)}
    bad = pl.col("_bad")
    style = pl.col("date_style")
    day_text = (
        pl.when(style == 0)
        .then(date_text("demolished_date", "iso"))
        .when(style == 1)
        .then(date_text("demolished_date", "slash"))
        .otherwise(date_text("demolished_date", "dot"))
    )
    plain = money_text("area_centi", thousands=False)
    area = (
        pl.when(pl.col("area_style") == 1)
        .then(money_text("area_centi", thousands=True) + "平方米")
        .when(pl.col("area_style") == 2)
        .then(plain + "平方米")
        .otherwise(plain)
    )
    text = df.select(
        "_m",
        record_id=pl.when(bad == kind["missing_key"]).then(pl.lit("")).otherwise("record_id"),
        street=pl.when(bad == kind["unknown_street"])
        .then(pl.lit(run.foreign_street()))
        .otherwise("street_text"),
        address="address",
        demolished_date=pl.when(bad == kind["bad_date"])
        .then(pl.col("demolished_date").dt.strftime("%Y/13/%-d"))
        .otherwise(day_text),
        area_m2=pl.when(bad == kind["negative_area"]).then("-" + plain).otherwise(area),
        building_type="building_type",
    )
    headers = run.headers(SOURCE)
    parts = text.partition_by("_m", as_dict=True, include_key=False)
    for mi in run.months:
        part = parts.get((mi,), text.drop("_m").clear()).rename(headers)
        data = part.write_csv(include_bom=True).encode("utf-8")
        run.emit(run.monthly_path(SOURCE, mi, "csv"), data, export_time(mi))

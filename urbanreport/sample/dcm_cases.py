"""Sample cases of the digital city-management platform (数字城管案件): monthly UTF-8 CSV.

The only large source (≈20 000 cases a year at scale 1), so cases are drawn and written a
month at a time to keep memory bounded at scale 100. The lifecycle follows GB/T 30428: most
cases registered within minutes or hours, dispatched, a deadline by category, most disposed in
time, some late, ~3% reworked, closed after checking.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from urbanreport.sample.calibration import DCM_CASES_A_YEAR, DCM_GROWTH, reference
from urbanreport.sample.common import (
    by_name,
    epoch_s,
    export_time,
    gather,
    lognormal,
    weights,
    ym,
)
from urbanreport.sample.run import Run

SOURCE = "dcm_cases"
#: Values of the configured dictionary that the sample gives a meaning to.
EVENT, PART = "事件", "部件"

BAD_KINDS = ["out_of_order", "unknown_street", "missing_key", "bad_timestamp", "no_deadline"]
TIMES = ["registered_at", "dispatched_at", "deadline_at", "disposed_at", "closed_at"]
_TS = "%Y-%m-%d %H:%M:%S"

#: Per case source: share, share registered, median seconds until registered.
_SOURCE_DESIGN = {
    "监督员上报": (0.45, 0.96, 600),
    "12345热线": (0.30, 0.88, 3600),
    "群众举报": (0.10, 0.90, 1800),
    "视频智能发现": (0.12, 0.93, 900),
    "领导交办": (0.03, 1.0, 1200),
}
_SOURCE_DEFAULT = (0.05, 0.9, 1800)
#: Per 大类: weight within its class, disposal time limit in hours, and its 小类.
_CATEGORY_DESIGN: dict[str, tuple[float, int, list[str]]] = {
    "市容环境": (0.30, 12, ["暴露垃圾", "积存垃圾渣土", "道路不洁", "乱张贴", "乱涂写"]),
    "宣传广告": (0.10, 24, ["违规户外广告", "非法小广告", "占道广告牌"]),
    "施工管理": (0.08, 24, ["施工扰民", "施工占道", "道路遗撒", "工地扬尘"]),
    "突发事件": (0.04, 2, ["路面塌陷", "道路积水", "树木倒伏", "火灾隐患"]),
    "街面秩序": (0.38, 4, ["占道经营", "店外经营", "无照经营游商", "乱堆物堆料"]),
    "扩展事件": (0.10, 48, ["油烟污染", "违法建设", "噪音扰民", "共享单车乱停放"]),
    "公用设施": (0.35, 48, ["上水井盖", "污水井盖", "雨水井盖", "电力井盖", "消防栓"]),
    "道路交通设施": (0.20, 72, ["交通标志牌", "护栏", "路名牌", "交通信号灯"]),
    "市容环境设施": (0.22, 48, ["垃圾箱", "公共厕所", "果皮箱", "广告牌匾"]),
    "园林绿化设施": (0.15, 72, ["行道树", "绿地", "花坛", "树穴"]),
    "其他设施": (0.08, 72, ["健身设施", "报刊亭", "公交站亭", "监控电子眼"]),
}
_PART_SHARE = 0.3
_MONTH_W = np.array([7.8, 6.2, 8.3, 8.4, 8.8, 8.8, 9.0, 9.1, 8.6, 8.2, 8.4, 8.4])
_HOUR_W = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.6, 2, 5, 8, 9, 9, 8,
                    6, 6, 8, 9, 9, 8, 6, 5, 4, 3, 2, 1.5])  # fmt: skip
#: Longest lifecycle: a case reported in month M is final by the export of month M+1.
_MAX_LIFE_S = 27 * 86400


@dataclass(frozen=True)
class _Categories:
    """The configured 大类 of both classes, events first, with their design."""

    names: list[str]
    is_part: np.ndarray
    event_w: np.ndarray
    part_w: np.ndarray
    limit_s: np.ndarray
    subs: list[str]
    sub_len: np.ndarray
    sub_off: np.ndarray

    @classmethod
    def of(cls, run: Run) -> _Categories:
        tree = run.settings["dictionaries"]["dcm_categories"]
        classes = [run.member("dcm_case_classes", EVENT), run.member("dcm_case_classes", PART)]
        names = [c for cls_ in classes for c in tree.get(cls_, [])]
        is_part = np.array([i >= len(tree.get(EVENT, [])) for i in range(len(names))])
        design = [_CATEGORY_DESIGN.get(c, (0.1, 48, [c])) for c in names]
        share = np.array([d[0] for d in design])
        sub_len = np.array([len(d[2]) for d in design])
        return cls(
            names=names,
            is_part=is_part,
            event_w=weights(share[~is_part]),
            part_w=weights(share[is_part]),
            limit_s=np.array([d[1] * 3600 for d in design], dtype=float),
            subs=[s for d in design for s in d[2]],
            sub_len=sub_len,
            sub_off=np.concatenate([[0], np.cumsum(sub_len)[:-1]]),
        )


def _month_count(run: Run, mi: int) -> int:
    year, month = ym(mi)
    share = weights(_MONTH_W)[month - 1]
    return round(DCM_CASES_A_YEAR * run.size * DCM_GROWTH ** (year - reference().year) * share)


def _lifecycle(
    rng: np.random.Generator,
    reported: np.ndarray,
    registers: np.ndarray,
    register_median: np.ndarray,
    limit: np.ndarray,
    is_bad: np.ndarray,
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each case's timestamps (seconds, -1 where not reached) and its rework count."""
    n = len(reported)
    registered = reported + np.clip(lognormal(rng, register_median, 0.9, n), 30, 6 * 3600)
    dispatched = registered + np.clip(lognormal(rng, 1200, 1.0, n), 60, 8 * 3600)
    deadline = dispatched + limit
    u = rng.random(n)
    never = (u < 0.008) & ~is_bad
    late = (u >= 0.008) & (u < 0.083)
    in_time = dispatched + limit * np.clip(rng.beta(2.0, 3.0, n), 0.03, 0.98)
    disposed = np.where(late, deadline + 600 + limit * rng.exponential(0.4, n), in_time)
    rework = np.where(rng.random(n) < 0.03, np.where(rng.random(n) < 0.1, 2, 1), 0)
    disposed = disposed + rework * limit * rng.uniform(0.3, 1.0, n)
    disposed = np.minimum(disposed, reported + _MAX_LIFE_S - 86400)
    checked = disposed + np.clip(lognormal(rng, 7200, 0.8, n), 300, 48 * 3600)
    closed = np.minimum(checked, reported + _MAX_LIFE_S)

    times = {
        "registered_at": registered,
        "dispatched_at": dispatched,
        "deadline_at": deadline,
        "disposed_at": disposed,
        "closed_at": closed,
    }
    for name in times:
        missing = ~registers | (never & (name in ("disposed_at", "closed_at")))
        times[name] = np.where(missing, -1, np.floor(times[name])).astype(np.int64)
    return times, np.where(times["disposed_at"] >= 0, rework, 0)


def _cases(run: Run, mi: int) -> pl.DataFrame:
    """Every case reported in month `mi`, in its final state (bad rows among them)."""
    year, month = ym(mi)
    rng = run.rng(SOURCE, year, month)
    n_good = _month_count(run, mi)
    n_bad = max(len(BAD_KINDS), round(n_good * 0.0015))
    n = n_good + n_bad
    start = epoch_s(date(year, month, 1))
    days = calendar.monthrange(year, month)[1]
    hour = rng.choice(24, n, p=weights(_HOUR_W))
    reported = np.sort(
        start + rng.integers(0, days, n) * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    )
    bad = np.zeros(n, dtype=np.int8)
    bad_at = np.sort(rng.choice(n, n_bad, replace=False))
    bad[bad_at] = 1 + np.arange(n_bad) % len(BAD_KINDS)
    is_bad = bad > 0

    sources = run.dictionary("dcm_sources")
    source_design = by_name(sources, _SOURCE_DESIGN, _SOURCE_DEFAULT)
    cats = _Categories.of(run)
    source = rng.choice(len(sources), n, p=weights(source_design[:, 0]))
    part = rng.random(n) < _PART_SHARE
    n_event = len(cats.event_w)
    category = np.where(
        part,
        n_event + rng.choice(len(cats.part_w), n, p=cats.part_w),
        rng.choice(n_event, n, p=cats.event_w),
    )
    sub = cats.sub_off[category] + rng.integers(0, 1 << 20, n) % cats.sub_len[category]
    street = rng.choice(len(run.streets), n, p=run.street_weights("population"))
    registers = (rng.random(n) < source_design[source, 1]) | is_bad
    times, rework = _lifecycle(
        rng, reported, registers, source_design[source, 2], cats.limit_s[category], is_bad
    )
    seq = np.where(is_bad, 9_000_000 + np.cumsum(is_bad), np.cumsum(~is_bad))
    return pl.DataFrame(
        {
            "seq": seq,
            "source": gather(sources, source),
            "case_class": gather([EVENT, PART], cats.is_part[category].astype(np.int64)),
            "category": gather(cats.names, category),
            "subcategory": gather(cats.subs, sub),
            "street": gather(run.streets, street),
            "reported_at": reported,
            **times,
            "rework_count": rework,
            "_bad": bad,
        }
    )


def _chunk(run: Run, mi: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cases reported in month `mi`: (rows of that month's export, final rows for the next)."""
    frame = _cases(run, mi)
    cut = epoch_s(date(*ym(mi + 1), 1)) + 2 * 3600
    shown = pl.col("dispatched_at").is_between(0, cut)
    snapshot = frame.with_columns(
        [
            pl.when(pl.col(c).is_between(0, cut)).then(pl.col(c)).otherwise(-1).alias(c)
            for c in TIMES
            if c != "deadline_at"
        ]
        + [
            pl.when(shown).then(pl.col("deadline_at")).otherwise(-1).alias("deadline_at"),
            pl.when(pl.col("disposed_at").is_between(0, cut))
            .then(pl.col("rework_count"))
            .otherwise(0)
            .alias("rework_count"),
        ]
    )
    last = pl.max_horizontal([pl.col(c) for c in TIMES if c != "deadline_at"])
    final = frame.filter((pl.col("_bad") == 0) & (last > cut))
    year, month = ym(mi)
    prefix = f"CG{year}{month:02d}"
    return _text(snapshot, prefix, run), _text(final, prefix, run)


def _text(frame: pl.DataFrame, prefix: str, run: Run) -> pl.DataFrame:
    """The platform's CSV export: timestamps `2023-07-05 14:03:22`, empty where not reached."""
    kind = {k: i + 1 for i, k in enumerate(BAD_KINDS)}
    bad = pl.col("_bad")

    def ts(col: str | pl.Expr) -> pl.Expr:
        c = pl.col(col) if isinstance(col, str) else col
        return pl.when(c >= 0).then(pl.from_epoch(c, time_unit="s").dt.strftime(_TS))

    headers = run.headers(SOURCE, exclude=("updated_at",))
    out = frame.select(
        case_id=pl.when(bad == kind["missing_key"])
        .then(pl.lit(""))
        .otherwise(pl.lit(prefix) + pl.col("seq").cast(pl.String).str.zfill(7)),
        source="source",
        case_class="case_class",
        category="category",
        subcategory="subcategory",
        street=pl.when(bad == kind["unknown_street"])
        .then(pl.lit(run.foreign_street()))
        .otherwise(run.full_street(pl.col("street"))),
        reported_at=pl.when(bad == kind["bad_timestamp"])
        .then(pl.from_epoch("reported_at", time_unit="s").dt.strftime("%Y-%m-32 %H:%M:%S"))
        .otherwise(ts("reported_at")),
        registered_at=ts("registered_at"),
        dispatched_at=pl.when(bad == kind["out_of_order"])
        .then(ts(pl.col("registered_at") - 1800))
        .otherwise(ts("dispatched_at")),
        deadline_at=pl.when(bad == kind["no_deadline"]).then(None).otherwise(ts("deadline_at")),
        disposed_at=ts("disposed_at"),
        closed_at=ts("closed_at"),
        rework_count=pl.col("rework_count").cast(pl.String),
    )
    return out.rename(headers)


def write(run: Run) -> None:
    """One file a month; a case still open at its month's export appears again, final, in the
    next month's file."""
    wanted = set(run.months)
    carry: dict[int, pl.DataFrame] = {}
    for mi in sorted(wanted | {m - 1 for m in wanted}):
        snapshot, final = _chunk(run, mi)
        if mi + 1 in wanted:
            carry[mi + 1] = final
        if mi in wanted:
            rows = pl.concat([carry.pop(mi), snapshot]) if mi in carry else snapshot
            run.emit(
                run.monthly_path(SOURCE, mi, "csv"),
                lambda tmp, rows=rows: rows.write_csv(tmp),
                export_time(mi),
            )

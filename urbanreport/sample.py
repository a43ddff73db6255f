"""Deterministic sample extracts for every source, calibrated to the bureau's published 2023 report.

Why a sample at all: the pipeline, the reports and their tests need data that looks and misbehaves
like the bureau's real monthly extracts (GB18030 CSV from the penalty system, spreadsheets from
the permit system, a hand-kept Excel log, mixed date formats, Traditional street names, a
correction file arriving later, a few broken rows), while fiscal 2023 reproduces the published
figures exactly, so that a reader can hold the sample report next to the original.

How it is built, and why:

* Records are drawn per source and per "universe" year from a seed derived from
  (seed, source, year[, month]), so the bytes are the same on every run and adding a year to the
  request never changes the records of another year.
* A record is written into the monthly file of every month in which something happened to it,
  as it stood at that month's export (02:00 Asia/Shanghai on the 1st of the next month, which is
  also the file's mtime). Later files therefore carry later versions, which is what the
  contract's newest-file-wins rule expects.
* Only months of the requested years get files; records of neighbouring years that touch those
  months (a case filed in December and decided in January) are generated from their own year's
  seed and appear in them.
* The deliberately bad rows (one per kind of refusal the contract names) are extra rows with keys
  of their own, so they never replace a good record and never count in a figure.
* Generation is vectorised (numpy, polars) and the digital city-management cases, the only large
  source, are generated and written month by month to keep memory bounded at `scale=100`.

The constants under "Calibration" are the sample's design, labelled as calibrated to the
published 2023 report; nothing outside this module knows them.
"""

from __future__ import annotations

import calendar as _calendar
import io
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import chinese_calendar
import numpy as np
import polars as pl
import xlsxwriter
import zhconv

from urbanreport.core.config import SOURCES, Settings

# --- Calibration: the bureau's published 2023 figures (scale 1; scale N multiplies them) --------

CALIBRATED_YEAR = 2023
#: 2023年，我局共处罚相关案件936宗，罚款人民币3009408元。
PUBLISHED_PENALTY_CASES = 936
PUBLISHED_FINES_YUAN = 3_009_408
#: 2023年，我局共办理审批许可事项502宗，办结率100%；实现非税收入496793.68元。
PUBLISHED_PERMITS_RECEIVED = 502
PUBLISHED_NON_TAX_REVENUE_FEN = 49_679_368
#: 2023年7月以来龙湖区完成拆违936292.39平方米，完成进度78.02%。The report does not state the
#: target; 1 200 000 m² is the round figure that 78.02% implies (936292.39 / 1200000 = 0.78024).
PUBLISHED_CAMPAIGN_AREA_CENTI_M2 = 93_629_239
CAMPAIGN_2023_TARGET_M2 = 1_200_000
#: Digital city-management cases reported in 2023 at scale 1, and the yearly growth of every
#: case volume around it (the sample's design, not a published figure).
DCM_CASES_2023 = 20_000
DCM_GROWTH = 1.08
ENFORCEMENT_GROWTH = 1.07
PERMITS_GROWTH = 1.05
DEMOLITION_GROWTH = 1.03


#: China has kept UTC+8 all year since 1991; a fixed offset needs no time-zone database.
_TZ = timezone(timedelta(hours=8))
_MANIFEST = ".sample-manifest.json"
_EPOCH = date(1970, 1, 1)

# --- Dictionaries the sample draws from (values of the default configuration) ------------------

_STREET_WEIGHTS = {
    "金霞": 0.08, "珠池": 0.10, "新津": 0.10, "龙祥": 0.08, "鸥汀": 0.12,
    "外砂": 0.14, "新溪": 0.12, "龙华": 0.10, "新海": 0.08, "龙腾": 0.08,
}  # fmt: skip
_DEMOLITION_STREET_WEIGHTS = {
    "金霞": 0.04, "珠池": 0.05, "新津": 0.07, "龙祥": 0.06, "鸥汀": 0.15,
    "外砂": 0.20, "新溪": 0.17, "龙华": 0.08, "新海": 0.08, "龙腾": 0.10,
}  # fmt: skip
#: Streets of the neighbouring 金平区: plausible typos that are not streets of this district.
_FOREIGN_STREETS = ("东墩", "金砂", "广厦", "光华")
#: Pinyin of the last character of each Traditional street name, for the rare annotated form.
_PINYIN = {"霞": "xiá", "池": "chí", "津": "jīn", "祥": "xiáng", "汀": "tīng", "砂": "shā",
           "溪": "xī", "華": "huá", "海": "hǎi", "騰": "téng"}  # fmt: skip

_SURNAMES = list("陈林黄李吴蔡郑许张杨谢刘王洪翁马纪苏庄余方周钟沈")
_GIVEN = list("伟俊杰明华强文斌志辉建国荣海涛鹏燕丽娟婷敏霞芳玲秀英佳浩宇泽楠思晓锐彬")
_BRAND = list("宏鑫顺嘉华泰金源粤海德隆兴盛恒信达丰利联创")
_INDUSTRY = ["贸易", "建筑工程", "装饰工程", "餐饮管理", "广告传媒", "物业管理", "运输",
             "房地产开发", "园林绿化工程", "市政工程"]  # fmt: skip
_REGION_CODES = np.array([440507, 440511, 440512, 440513, 440514, 440515, 440523, 445102, 445202])
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = "10X98765432"
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

_ENF_CATEGORIES = ["市容环境卫生", "占道经营", "户外广告", "建筑垃圾", "违法建设",
                   "城中村六乱", "门前三包", "园林绿化", "其他"]  # fmt: skip
_ENF_CAT_W = np.array([0.18, 0.22, 0.08, 0.12, 0.08, 0.10, 0.12, 0.04, 0.06])
#: Typical fine (median, spread, rounding step in yuan) per category, from the discretion
#: benchmarks: street trading a few hundred yuan, construction waste and illegal building more.
_ENF_FINE_MEDIAN = np.array([500, 200, 2500, 8000, 16000, 300, 200, 1500, 800], dtype=float)
_ENF_FINE_SIGMA = np.array([0.6, 0.5, 0.7, 0.8, 0.9, 0.6, 0.5, 0.8, 0.7])
_ENF_FINE_STEP = np.array([50, 50, 100, 500, 100, 50, 50, 100, 100])
_ENF_COMPANY_P = np.array([0.15, 0.05, 0.6, 0.7, 0.4, 0.1, 0.2, 0.3, 0.2])
_PENALTY_TYPES = ["罚款", "警告", "没收违法所得", "责令停止违法行为"]
_PENALTY_P = [0.72, 0.14, 0.03, 0.11]
_REVIEW_OUTCOMES = ["维持", "纠错", "败诉"]
_ENF_MONTH_W = np.array([7, 5, 8.5, 8.5, 9, 9, 9, 9, 8.5, 8, 9, 9.5])

_PERMIT_ITEMS = ["城市建筑垃圾处置核准", "设置大型户外广告审批", "临时占用城市道路审批",
                 "挖掘城市道路审批", "城市绿化树木迁移砍伐审批"]  # fmt: skip
_PERMIT_ITEM_W = np.array([0.20, 0.12, 0.35, 0.20, 0.13])
_PERMIT_PROMISED = np.array([5, 10, 5, 5, 10])
#: Share of granted cases that pay a fee, and its median and spread in yuan (占道费, 挖掘修复费,
#: 绿化补偿费; outdoor advertising is free of charge).
_PERMIT_FEE_P = np.array([0.4, 0.0, 0.95, 0.95, 0.8])
_PERMIT_FEE_MEDIAN = np.array([450, 1, 700, 1900, 520], dtype=float)
_PERMIT_FEE_SIGMA = np.array([0.6, 0.1, 0.8, 0.9, 0.8])
_PERMIT_COMPANY_P = np.array([0.85, 0.8, 0.4, 0.9, 0.6])
_PERMIT_STATUSES = ["准予许可", "不予许可", "撤回"]
_PERMIT_MONTH_W = np.array([8, 5, 8.5, 8.5, 9, 9, 8.5, 8.5, 8.5, 8, 9, 9.5])

_VILLAGES = ["东社村", "西社村", "南中村", "北港村", "新乡村", "下蓬社区", "上埭村", "围内村",
             "前埔村", "后洋村", "龙头社区", "大衙村", "鸥上村", "华新村", "金堡社区"]  # fmt: skip

_DCM_SOURCES = ["监督员上报", "12345热线", "群众举报", "视频智能发现", "领导交办"]
_DCM_SOURCE_W = np.array([0.45, 0.30, 0.10, 0.12, 0.03])
_DCM_REGISTER_P = np.array([0.96, 0.88, 0.90, 0.93, 1.0])
_DCM_REGISTER_MEDIAN_S = np.array([600, 3600, 1800, 900, 1200], dtype=float)
#: (class, 大类, weight within the class, disposal time limit in hours, 小类)
_DCM_CATEGORIES: list[tuple[str, str, float, int, list[str]]] = [
    ("事件", "市容环境", 0.30, 12, ["暴露垃圾", "积存垃圾渣土", "道路不洁", "乱张贴", "乱涂写"]),
    ("事件", "宣传广告", 0.10, 24, ["违规户外广告", "非法小广告", "占道广告牌"]),
    ("事件", "施工管理", 0.08, 24, ["施工扰民", "施工占道", "道路遗撒", "工地扬尘"]),
    ("事件", "突发事件", 0.04, 2, ["路面塌陷", "道路积水", "树木倒伏", "火灾隐患"]),
    ("事件", "街面秩序", 0.38, 4, ["占道经营", "店外经营", "无照经营游商", "乱堆物堆料"]),
    ("事件", "扩展事件", 0.10, 48, ["油烟污染", "违法建设", "噪音扰民", "共享单车乱停放"]),
    ("部件", "公用设施", 0.35, 48, ["上水井盖", "污水井盖", "雨水井盖", "电力井盖", "消防栓"]),
    ("部件", "道路交通设施", 0.20, 72, ["交通标志牌", "护栏", "路名牌", "交通信号灯"]),
    ("部件", "市容环境设施", 0.22, 48, ["垃圾箱", "公共厕所", "果皮箱", "广告牌匾"]),
    ("部件", "园林绿化设施", 0.15, 72, ["行道树", "绿地", "花坛", "树穴"]),
    ("部件", "其他设施", 0.08, 72, ["健身设施", "报刊亭", "公交站亭", "监控电子眼"]),
]
_DCM_MONTH_W = np.array([7.8, 6.2, 8.3, 8.4, 8.8, 8.8, 9.0, 9.1, 8.6, 8.2, 8.4, 8.4])
_DCM_HOUR_W = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.6, 2, 5, 8, 9, 9, 8,
                        6, 6, 8, 9, 9, 8, 6, 5, 4, 3, 2, 1.5])  # fmt: skip
#: Longest lifecycle: a case reported in month M is final by the export of month M+1.
_DCM_MAX_LIFE_S = 27 * 86400

_LEGAL_STUDY = [
    "《中华人民共和国宪法》",
    "《中华人民共和国行政处罚法》",
    "《中华人民共和国行政许可法》",
    "《中华人民共和国行政强制法》",
    "《中华人民共和国民法典》",
    "《城市市容和环境卫生管理条例》",
    "《广东省城乡生活垃圾管理条例》",
    "《汕头经济特区城市市容和环境卫生管理条例》",
    "《中国共产党纪律处分条例》",
    "《优化营商环境条例》",
    "《中华人民共和国安全生产法》",
    "《城市管理执法办法》",
    "《中华人民共和国保守国家秘密法》",
    "《信访工作条例》",
]
_LEGAL_CENTRE = [
    "习近平法治思想专题学习",
    "党的二十大报告中关于法治建设的论述",
    "习近平总书记视察广东重要讲话精神",
    "《习近平谈治国理政》第四卷",
    "全面依法治国重要论述",
    "法治政府建设实施纲要（2021—2025年）",
    "党政主要负责人履行推进法治建设第一责任人职责规定",
    "中央全面依法治国工作会议精神",
    "主题教育专题学习",
    "习近平新时代中国特色社会主义思想",
    "省委“1310”具体部署",
    "市委全会精神",
]
_LEGAL_TRAINING = [
    "综合行政执法业务培训",
    "行政执法文书制作规范培训",
    "执法全过程记录制度培训",
    "行政处罚自由裁量权基准培训",
    "重大执法决定法制审核培训",
    "执法证件考试考前辅导",
    "行政复议与行政诉讼应诉培训",
    "“双随机、一公开”监管培训",
    "文明执法与沟通技巧培训",
    "城中村“六乱”整治执法培训",
]
#: Publicity themes and the month each belongs to (None: any month).
_LEGAL_PUBLICITY: list[tuple[str, int | None]] = [
    ("“城管进社区”普法宣传", None),
    ("“3·15”消费者权益日普法宣传", 3),
    ("“4·15”全民国家安全教育日宣传", 4),
    ("《民法典》宣传月活动", 5),
    ("“安全生产月”法律咨询", 6),
    ("宪法宣传周活动", 12),
    ("垃圾分类法规宣传进校园", None),
    ("“门前三包”责任制宣传", None),
    ("违法建设治理政策宣讲", None),
    ("燃气安全法规宣传", None),
]
_LEGAL_PUBLICITY_MONTH_W = np.array([1, 1, 3, 3, 1.5, 3, 1.5, 1.5, 1.5, 1.5, 2, 4])


# --- Small helpers ------------------------------------------------------------------------------


def _month_index(year: int, month: int) -> int:
    """Months as one integer (year*12 + month-1), so ranges and neighbours are arithmetic."""
    return year * 12 + month - 1


def _ym(mi: int) -> tuple[int, int]:
    return mi // 12, mi % 12 + 1


def _local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=_TZ)


def _export_time(mi: int) -> datetime:
    """When the monthly export of month `mi` runs: 02:00 on the 1st of the following month."""
    y, m = _ym(mi + 1)
    return _local(y, m, 1, 2)


def _epoch_s(d: date) -> int:
    """Naive local wall time as seconds since 1970-01-01 00:00 (how timestamps are generated)."""
    return (d - _EPOCH).days * 86400


def _grown(base: float, rate: float, year: int, rng: np.random.Generator) -> int:
    """A yearly volume growing by `rate` around the calibrated year, with a little noise."""
    return round(base * rate ** (year - CALIBRATED_YEAR) * rng.uniform(0.985, 1.015))


def _lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float, n: int
) -> np.ndarray:
    return np.exp(np.log(median) + sigma * rng.standard_normal(n))


def _calibrate_sum(values: np.ndarray, target: int, floor: int = 1) -> np.ndarray:
    """Rescale positive integers to sum to `target` exactly; the rounding rest goes to the largest.

    Why the largest: it hides the adjustment where it is relatively smallest.
    """
    out = np.maximum(floor, np.rint(values * (target / values.sum()))).astype(np.int64)
    out[int(np.argmax(out))] += target - int(out.sum())
    if out.min() < floor:  # pragma: no cover - only with absurd targets
        raise ValueError("无法校准示例数据：目标值过小")
    return out


def _gather(names: Sequence[str], codes: np.ndarray) -> pl.Series:
    """Dictionary values by code; a negative code gives null.

    Why not numpy string arrays: turning those into polars columns costs more than generating
    the data, at scale 100.
    """
    idx = pl.Series(codes, dtype=pl.Int64)
    table = pl.Series(list(names), dtype=pl.String)
    return pl.select(pl.lit(table).gather(pl.when(idx >= 0).then(idx))).to_series()


def _ids(prefix: str, seq: np.ndarray, width: int) -> pl.Series:
    """Record keys: a prefix and a zero-padded sequence number."""
    return pl.select(pl.lit(prefix) + pl.lit(pl.Series(seq)).cast(pl.String).str.zfill(width))[:, 0]


def _weights(weights: np.ndarray | Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


def _date_text(col: str, style: str) -> pl.Expr:
    """A date column as the text the bureau's systems write."""
    fmt = {
        "iso": "%Y-%m-%d",
        "slash": "%Y/%-m/%-d",
        "dot": "%Y.%m.%d",
        "cn": "%Y年%-m月%-d日",
    }[style]
    return pl.col(col).dt.strftime(fmt)


def _money_text(col: str | pl.Expr, thousands: bool) -> pl.Expr:
    """Non-negative hundredths (fen, centi-m²) as `1234.50` or `1,234.50`."""
    v = pl.col(col) if isinstance(col, str) else col
    whole = (v // 100).cast(pl.String)
    if thousands:
        whole = whole.str.reverse().str.extract_all(r"\d{1,3}").list.join(",").str.reverse()
    return pl.concat_str([whole, pl.lit("."), (v % 100).cast(pl.String).str.zfill(2)])


def _yes_no(col: str) -> pl.Expr:
    return pl.when(pl.col(col)).then(pl.lit("是")).otherwise(pl.lit("否"))


class _Calendar:
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
        return self.in_months(rng, year, rng.choice(12, n, p=_weights(month_weights)))

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


def _pick(rng: np.random.Generator, values: Sequence[str], n: int) -> pl.Expr:
    return pl.lit(pl.Series(list(values), dtype=pl.String)).gather(
        pl.lit(pl.Series(rng.integers(0, len(values), n)))
    )


def _parties(
    rng: np.random.Generator, company_p: np.ndarray, city: str
) -> tuple[pl.Series, pl.Series]:
    """Applicant or party: a company with probability `company_p`, else a person.

    People get fake Chaoshan-looking names and 18-character resident ID numbers with a correct
    GB 11643 check character; companies fake names and unified social credit codes.
    """
    n = len(company_p)
    is_company = pl.lit(pl.Series(rng.random(n) < company_p))
    two = pl.lit(pl.Series(rng.random(n) < 0.7))
    person = pl.concat_str(
        [
            _pick(rng, _SURNAMES, n),
            _pick(rng, _GIVEN, n),
            pl.when(two).then(_pick(rng, _GIVEN, n)).otherwise(pl.lit("")),
        ]
    )
    region = _REGION_CODES[rng.integers(0, len(_REGION_CODES), n)]
    birth = np.datetime64("1955-01-01") + rng.integers(0, 49 * 365, n).astype("timedelta64[D]")
    y = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    m = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    body = region * 10**11 + (y * 10000 + m * 100 + d) * 1000 + rng.integers(0, 1000, n)
    digits = (body[:, None] // 10 ** np.arange(16, -1, -1)) % 10
    check = (digits @ _ID_WEIGHTS) % 11
    person_id = pl.concat_str(
        [
            pl.lit(pl.Series(body)).cast(pl.String),
            pl.lit(pl.Series(list(_ID_CHECK))).gather(pl.lit(pl.Series(check))),
        ]
    )
    company = pl.concat_str(
        [
            pl.lit(city),
            _pick(rng, _BRAND, n),
            _pick(rng, _BRAND, n),
            _pick(rng, _INDUSTRY, n),
            pl.lit("有限公司"),
        ]
    )
    credit = pl.concat_str(
        [pl.lit("91"), _pick(rng, [str(c) for c in _REGION_CODES[:7]], n), pl.lit("MA")]
        + [_pick(rng, list(_CREDIT_CHARS), n) for _ in range(8)]
    )
    both = pl.select(
        name=pl.when(is_company).then(company).otherwise(person),
        id=pl.when(is_company).then(credit).otherwise(person_id),
    )
    return both.get_column("name"), both.get_column("id")


# --- The run ------------------------------------------------------------------------------------


@dataclass
class _Run:
    """One `write_sample` call: settings, request, calendar, memoised universes, files written."""

    settings: Settings
    years: list[int]
    scale: int
    seed: int
    calendar: _Calendar
    written: list[Path] = field(default_factory=list)
    _universes: dict[tuple[str, int], pl.DataFrame] = field(default_factory=dict)

    @property
    def months(self) -> list[int]:
        return [_month_index(y, m) for y in self.years for m in range(1, 13)]

    @property
    def streets(self) -> list[str]:
        return self.settings.streets

    @property
    def city(self) -> str:
        return str(self.settings["bureau"]["city"])

    def street_weights(self, table: dict[str, float]) -> np.ndarray:
        return _weights([table.get(s, 0.1) for s in self.streets])

    def foreign_street(self) -> str:
        return next(s for s in _FOREIGN_STREETS if s not in self.streets) + "街道"

    def rng(self, source: str, *parts: int) -> np.random.Generator:
        """A generator of its own for (seed, source, year[, month]): years stay independent."""
        return np.random.default_rng(
            np.random.SeedSequence([self.seed, zlib.crc32(source.encode()), *parts])
        )

    def universe(self, source: str, year: int) -> pl.DataFrame:
        key = (source, year)
        if key not in self._universes:
            self._universes[key] = _UNIVERSES[source](self, year)
        return self._universes[key]

    def forget(self) -> None:
        self._universes.clear()

    def path(self, source: str, name: str) -> Path:
        return self.settings.source_inbox(source) / name

    def title(self, source: str) -> str:
        return str(self.settings.sources[source]["title"])

    def headers(self, source: str, exclude: Sequence[str] = ()) -> dict[str, str]:
        """Canonical name → Chinese export header, in contract order."""
        return {
            f["name"]: f["header"]
            for f in self.settings.sources[source]["fields"]
            if f["name"] not in exclude
        }

    def emit(self, path: Path, data: bytes | Callable[[Path], None], when: datetime) -> None:
        """Write a file atomically (the ingest never sees half a file) and set its mtime."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            data(tmp)
        os.replace(tmp, path)
        ts = when.timestamp()
        os.utime(path, (ts, ts))
        self.written.append(path)


def _neighbour_years(years: Sequence[int], before: int, after: int) -> list[int]:
    """Universe years whose records can touch the months of the requested years."""
    return sorted({y + d for y in years for d in range(-before, after + 1)})


def _month_snapshots(
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


def _blank_after_cut(df: pl.DataFrame, date_cols: Sequence[str]) -> pl.DataFrame:
    return df.with_columns(
        [pl.when(pl.col(c) <= pl.col("_cut")).then(pl.col(c)).alias(c) for c in date_cols]
    )


def _to_date(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype("datetime64[D]"))


# --- enforcement ----------------------------------------------------------------------------

_ENF_DATES = ["filed_date", "decided_date", "closed_date", "disclosed_date", "review_date"]
_ENF_BAD_KINDS = ["bad_date", "negative_fine", "unknown_street", "missing_key", "decided_first"]


def _enforcement_universe(run: _Run, year: int) -> pl.DataFrame:
    """Penalty cases decided in `year` (some filed the year before) and cases filed in `year`
    that end without a decision.

    Why by decision year: the published figures count decisions, so one universe holds all of
    them and can be calibrated on its own.
    """
    rng = run.rng("enforcement", year)
    cal = run.calendar
    calibrated = year == CALIBRATED_YEAR
    base = run.scale * PUBLISHED_PENALTY_CASES
    n_pen = base if calibrated else _grown(base, ENFORCEMENT_GROWTH, year, rng)
    n_nop = round(n_pen * 0.09)  # 不予处罚 (柔性执法)
    n_open = round(n_pen * 0.025)  # filed, then transferred or dropped without a decision
    n_bad = max(len(_ENF_BAD_KINDS), round(n_pen * 0.002))
    kind = np.repeat([0, 1, 2, 3], [n_pen, n_nop, n_open, n_bad])  # 3 = deliberately bad
    n = len(kind)
    decides = kind != 2

    decided = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    decided[decides] = cal.sample(rng, year, int(decides.sum()), _ENF_MONTH_W)
    lag = np.clip(np.rint(_lognormal(rng, 12, 0.7, n)), 1, 45).astype(np.int64)
    overdue = rng.choice(np.flatnonzero(kind == 0), max(2, round(n_pen * 0.006)), replace=False)
    lag[overdue] = rng.integers(70, 101, len(overdue))  # decided more than 90 days after filing
    filed = cal.sample(rng, year, n, _ENF_MONTH_W)
    filed[decides] = cal.shift(decided[decides], -lag[decides])

    category = rng.choice(len(_ENF_CATEGORIES), n, p=_weights(_ENF_CAT_W))
    ptype = np.where(kind == 0, rng.choice(4, n, p=_PENALTY_P), -1)
    ptype[kind == 3] = 0  # bad rows look like fines, so that loading them would be noticed
    is_fine = ptype == 0
    raw = _lognormal(rng, _ENF_FINE_MEDIAN[category], _ENF_FINE_SIGMA[category], n)
    raw = np.minimum(raw, _ENF_FINE_MEDIAN[category] * 25)
    step = _ENF_FINE_STEP[category]
    fine = np.where(is_fine, np.maximum(step, np.rint(raw / step) * step), 0).astype(np.int64)
    # Other years follow the calibrated one, so year-on-year comparisons tell a steady story.
    target = run.scale * PUBLISHED_FINES_YUAN
    if not calibrated:
        target = _grown(target, ENFORCEMENT_GROWTH, year, rng)
    fine = _calibrate_fines(rng, fine, (kind == 0) & is_fine, category, step, target)

    big = fine >= 30000
    is_major = (kind != 1) & decides & (rng.random(n) < np.where(big, 0.8, 0.02))
    legal_review = decides & (
        rng.random(n) < np.where(is_major, 0.97, np.where(kind == 1, 0.5, 0.3))
    )
    collective = is_major & (rng.random(n) < 0.985)

    u = rng.random(n)
    disclose_after = np.where(u < 0.955, rng.integers(1, 7, n), rng.integers(9, 21, n))
    punished = (kind == 0) | (kind == 3)
    disclosed = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    disclose = punished & (u < 0.985)
    disclosed[disclose] = cal.shift(decided[disclose], disclose_after[disclose])

    close_after = np.where(is_fine, rng.integers(8, 40, n), rng.integers(1, 10, n))
    closes = decides & ~(is_fine & (rng.random(n) < 0.04))  # a few await court enforcement
    closed = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    closed[closes] = cal.shift(decided[closes], close_after[closes])
    drops = (kind == 2) & (rng.random(n) < 0.5)
    closed[drops] = cal.shift(filed[drops], rng.integers(15, 60, int(drops.sum())))

    reviewed = (kind == 0) & (rng.random(n) < 0.025)
    review_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    review_date[reviewed] = cal.shift(decided[reviewed], rng.integers(40, 170, int(reviewed.sum())))
    outcome = np.where(reviewed, rng.choice(3, n, p=[0.78, 0.16, 0.06]), -1)

    street = rng.choice(len(run.streets), n, p=run.street_weights(_STREET_WEIGHTS))
    party_name, party_id = _parties(rng, _ENF_COMPANY_P[category], run.city)

    # Records corrected after the year closed: a mistyped fine or decision date.
    n_corr = max(3, round(n_pen * 0.005))
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

    order = np.lexsort((rng.random(n), filed))
    seq = np.empty(n, dtype=np.int64)
    good_sorted = order[kind[order] != 3]
    bad_sorted = order[kind[order] == 3]
    seq[good_sorted] = np.arange(1, len(good_sorted) + 1)
    seq[bad_sorted] = 900_001 + np.arange(len(bad_sorted))
    bad = np.zeros(n, dtype=np.int8)
    bad[bad_sorted] = 1 + np.arange(len(bad_sorted)) % len(_ENF_BAD_KINDS)

    df = pl.DataFrame(
        {
            "case_id": _ids(f"LHCF{year}", seq, 6),
            "filed_date": _to_date(filed),
            "decided_date": _to_date(decided),
            "closed_date": _to_date(closed),
            "street": _gather(run.streets, street),
            "category": _gather(_ENF_CATEGORIES, category),
            "party_name": party_name,
            "party_id": party_id,
            "penalty_type": _gather(
                [*_PENALTY_TYPES, "不予处罚"], np.where(kind == 1, len(_PENALTY_TYPES), ptype)
            ),
            "fine_yuan": pl.Series(np.where(is_fine, fine, -1)),
            "is_major": is_major,
            "legal_review": legal_review,
            "collective_decision": collective,
            "disclosed_date": _to_date(disclosed),
            "review_outcome": _gather(_REVIEW_OUTCOMES, outcome),
            "review_date": _to_date(review_date),
            "wrong_fine": pl.Series(wrong_fine),
            "wrong_decided": _to_date(wrong_decided),
            "corrected_on": _to_date(
                np.where(corrected, np.datetime64(f"{year + 1}-01-15"), np.datetime64("NaT"))
            ),
            "_bad": bad,
        }
    )
    return df.with_columns(
        [pl.when(pl.col(c) >= 0).then(pl.col(c)).alias(c) for c in ("fine_yuan", "wrong_fine")]
    ).sort("filed_date", "case_id")


def _calibrate_fines(
    rng: np.random.Generator,
    fine: np.ndarray,
    counted: np.ndarray,
    category: np.ndarray,
    step: np.ndarray,
    target: int,
) -> np.ndarray:
    """Make the counted fines sum to the published total while staying realistic.

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
    building = np.flatnonzero(category[idx] == _ENF_CATEGORIES.index("违法建设"))
    pool = building if len(building) else np.arange(len(f))
    f[pool[int(np.argmax(f[pool]))]] += r
    fine[idx] = f
    return fine


def _enforcement_state(df: pl.DataFrame) -> pl.DataFrame:
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


def _enforcement_text(df: pl.DataFrame, foreign_street: str) -> pl.DataFrame:
    """The penalty system's export: ISO dates, 是/否, streets with their 街道 suffix."""
    kind = {k: i + 1 for i, k in enumerate(_ENF_BAD_KINDS)}
    bad = pl.col("_bad")
    fine = _money_text(pl.col("fine_yuan") * 100, thousands=False)
    iso = {c: _date_text(c, "iso") for c in _ENF_DATES}
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
        .then(pl.lit(foreign_street))
        .otherwise(pl.col("street") + "街道"),
        category="category",
        party_name="party_name",
        party_id="party_id",
        penalty_type="penalty_type",
        fine_yuan=pl.when(bad == kind["negative_fine"]).then("-" + fine).otherwise(fine),
        is_major=_yes_no("is_major"),
        legal_review=_yes_no("legal_review"),
        collective_decision=_yes_no("collective_decision"),
        disclosed_date=iso["disclosed_date"],
        review_outcome="review_outcome",
        review_date=iso["review_date"],
    )


def _write_enforcement(run: _Run) -> None:
    """Monthly GB18030 CSV (CRLF, as the Windows-based penalty system writes) plus a yearly
    JSON Lines correction file dated after the year's last export."""
    source = "enforcement"
    df = pl.concat([run.universe(source, u) for u in _neighbour_years(run.years, 1, 1)])
    good = df.filter(pl.col("_bad") == 0)
    bad = df.filter(pl.col("_bad") != 0)
    rows = pl.concat(
        [
            _month_snapshots(good, _ENF_DATES, run.months),
            _month_snapshots(bad, ["decided_date"], run.months),
        ]
    )
    rows = _enforcement_state(_blank_after_cut(rows, _ENF_DATES)).sort(
        "_m", "filed_date", "case_id"
    )
    text = _enforcement_text(rows, run.foreign_street())
    headers = run.headers(source)
    parts = text.partition_by("_m", as_dict=True, include_key=False)
    for mi in run.months:
        part = parts.get((mi,), text.drop("_m").clear()).rename(headers)
        data = part.write_csv(line_terminator="\r\n").encode("gb18030")
        run.emit(run.path(source, _monthly_name(run, source, mi, "csv")), data, _export_time(mi))

    for year in run.years:
        fixed = run.universe(source, year).filter(pl.col("corrected_on").is_not_null())
        fixed = fixed.with_columns(_cut=pl.col("corrected_on") - pl.duration(days=1))
        fixed = _enforcement_state(_blank_after_cut(fixed, _ENF_DATES))
        out = fixed.select(
            [pl.col(c).dt.strftime("%Y-%m-%d") if c in _ENF_DATES else pl.col(c) for c in headers]
        )
        run.emit(
            run.path(source, _corrections_name(year)),
            out.write_ndjson().encode("utf-8"),
            _local(year + 1, 1, 15, 2),
        )


# --- permits -------------------------------------------------------------------------------

_PERMIT_DATES = ["received_date", "decided_date"]
_PERMIT_BAD_KINDS = ["bad_date", "negative_fee", "missing_key", "decided_first"]


def _permits_universe(run: _Run, year: int) -> pl.DataFrame:
    """Permit cases received in `year`.

    In the calibrated year every case is decided by the year's last working day (办结率100%) and
    the fees of cases decided that year, including the previous year's late cases, add up to
    the published non-tax revenue.
    """
    rng = run.rng("permits", year)
    cal = run.calendar
    calibrated = year == CALIBRATED_YEAR
    base = run.scale * PUBLISHED_PERMITS_RECEIVED
    n_good = base if calibrated else _grown(base, PERMITS_GROWTH, year, rng)
    n_bad = max(len(_PERMIT_BAD_KINDS), round(n_good * 0.002))
    n = n_good + n_bad
    is_bad = np.arange(n) >= n_good

    item = rng.choice(len(_PERMIT_ITEMS), n, p=_weights(_PERMIT_ITEM_W))
    item[is_bad] = _PERMIT_ITEMS.index("临时占用城市道路审批")  # a fee-paying item
    received = cal.sample(rng, year, n, _PERMIT_MONTH_W)
    promised = _PERMIT_PROMISED[item]
    late = rng.random(n) < 0.04
    took = np.where(late, promised + rng.integers(1, 9, n), rng.integers(0, promised + 1))
    decided = cal.shift(received, took)
    if calibrated:
        decided = np.minimum(decided, cal.last_workday(year))  # the year-end push
    status = rng.choice(len(_PERMIT_STATUSES), n, p=[0.93, 0.03, 0.04])
    status[is_bad] = 0
    granted = status == 0
    online = rng.random(n) < 0.78
    e_license = granted & (rng.random(n) < np.where(online, 0.93, 0.72))
    pays = granted & ((rng.random(n) < _PERMIT_FEE_P[item]) | is_bad)
    raw = _lognormal(rng, _PERMIT_FEE_MEDIAN[item], _PERMIT_FEE_SIGMA[item], n)
    fee = np.where(pays, np.maximum(5000, np.rint(raw * 100)), 0).astype(np.int64)
    counted = pays & ~is_bad
    target = run.scale * PUBLISHED_NON_TAX_REVENUE_FEN
    if calibrated:
        spill = int(
            run.universe("permits", year - 1)
            .filter((pl.col("_bad") == 0) & (pl.col("decided_date").dt.year() == year))
            .get_column("fee_fen")
            .sum()
        )
        target -= spill
    else:
        target = _grown(target, PERMITS_GROWTH, year, rng)
    fee[counted] = _calibrate_sum(fee[counted], target, floor=100)
    applicant, _ = _parties(rng, _PERMIT_COMPANY_P[item], run.city)

    order = np.lexsort((rng.random(n), received))
    seq = np.empty(n, dtype=np.int64)
    good_sorted, bad_sorted = order[~is_bad[order]], order[is_bad[order]]
    seq[good_sorted] = np.arange(1, len(good_sorted) + 1)
    seq[bad_sorted] = 900_001 + np.arange(len(bad_sorted))
    bad = np.zeros(n, dtype=np.int8)
    bad[bad_sorted] = 1 + np.arange(len(bad_sorted)) % len(_PERMIT_BAD_KINDS)
    return pl.DataFrame(
        {
            "permit_id": _ids(f"LHXK{year}", seq, 6),
            "item_name": _gather(_PERMIT_ITEMS, item),
            "applicant": applicant,
            "channel": _gather(["窗口", "网上"], online.astype(np.int64)),
            "received_date": _to_date(received),
            "decided_date": _to_date(decided),
            "status": _gather(_PERMIT_STATUSES, status),
            "promised_days": promised,
            "fee_fen": fee,
            "e_license": e_license,
            "_bad": bad,
        }
    ).sort("received_date", "permit_id")


def _write_permits(run: _Run) -> None:
    """Monthly xlsx from the permit system: Excel dates in odd months' files, `2023年7月5日`
    text in even months' (the two export templates in use), money as `1,234.50`."""
    source = "permits"
    df = pl.concat([run.universe(source, u) for u in _neighbour_years(run.years, 1, 0)])
    good = df.filter(pl.col("_bad") == 0)
    bad = df.filter(pl.col("_bad") != 0)
    rows = pl.concat(
        [
            _month_snapshots(good, _PERMIT_DATES, run.months),
            _month_snapshots(bad, ["decided_date"], run.months),
        ]
    )
    rows = _blank_after_cut(rows, _PERMIT_DATES)
    decided = pl.col("decided_date").is_not_null()
    rows = rows.with_columns(
        status=pl.when(decided).then(pl.col("status")).otherwise(pl.lit("办理中")),
        fee_fen=pl.when(decided).then(pl.col("fee_fen")),
        e_license=decided & pl.col("e_license"),
    ).sort("_m", "received_date", "permit_id")

    kind = {k: i + 1 for i, k in enumerate(_PERMIT_BAD_KINDS)}
    bad_kind = pl.col("_bad")
    fee = _money_text("fee_fen", thousands=True)
    rows = rows.with_columns(
        permit_id=pl.when(bad_kind == kind["missing_key"]).then(pl.lit("")).otherwise("permit_id"),
        decided_date=pl.when(bad_kind == kind["decided_first"])
        .then(pl.col("received_date") - pl.duration(days=3))
        .otherwise("decided_date"),
        fee=pl.when(pl.col("fee_fen") > 0).then(
            pl.when(bad_kind == kind["negative_fee"]).then("-" + fee).otherwise(fee)
        ),
        e_license=_yes_no("e_license"),
        bad_date=bad_kind == kind["bad_date"],
    )
    parts = rows.partition_by("_m", as_dict=True, include_key=False)
    for mi in run.months:
        excel_dates = mi % 2 == 0  # January, March, …: the template with real Excel dates
        cells: list[_Cell] = []
        for name in run.headers(source):
            col = pl.col(name)
            if name in _PERMIT_DATES:
                text = pl.lit(None, pl.String) if excel_dates else col.dt.strftime("%Y年%-m月%-d日")
                if name == "received_date":  # the deliberately unparseable date is text
                    bad_text = col.dt.strftime("%Y年%-m月32日")
                    text = pl.when(pl.col("bad_date")).then(bad_text).otherwise(text)
                cells.append(("date", text, _excel_serial(col)))
            elif name == "promised_days":
                cells.append(("int", None, col))
            else:
                cells.append(("text", pl.col("fee") if name == "fee_yuan" else col, None))
        data = _xlsx_bytes(
            parts.get((mi,), rows.drop("_m").clear()),
            list(run.headers(source).values()),
            cells,
            title=run.title(source),
            author="行政审批系统",
            company=run.settings["bureau"]["name"],
            created=_export_time(mi),
            sheet="办件清单",
            widths=[20, 24, 30, 10, 14, 14, 10, 16, 14, 10],
        )
        run.emit(run.path(source, _monthly_name(run, source, mi, "xlsx")), data, _export_time(mi))


#: A worksheet column: kind ("text", "int" or "date"), its text (wins where not null) and its
#: number (an Excel serial for dates).
_Cell = tuple[str, pl.Expr | None, pl.Expr | None]


def _excel_serial(col: pl.Expr) -> pl.Expr:
    return (col - pl.date(1899, 12, 30)).dt.total_days()


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(expr: pl.Expr) -> pl.Expr:
    return (
        expr.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _xlsx_bytes(
    rows: pl.DataFrame,
    headers: Sequence[str],
    cells: Sequence[_Cell],
    *,
    title: str,
    author: str,
    company: str,
    created: datetime,
    sheet: str,
    widths: Sequence[int],
    first_row: int = 0,
    date_format: str = "yyyy-mm-dd",
) -> bytes:
    """A one-sheet workbook: xlsxwriter writes the package, header and styles with fixed
    document properties; the data rows' XML is rendered by polars in one pass and put in.

    Why not xlsxwriter for every cell: at ~15 µs a cell, the permit workbooks alone would take
    over a minute at scale 100. The bytes stay deterministic (fixed properties, fixed zip
    entry times).
    """
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    wb.set_properties(
        {
            "title": title,
            "author": author,
            "company": company,
            "created": created.astimezone(UTC).replace(tzinfo=None),
        }
    )
    ws = wb.add_worksheet(sheet)
    head = wb.add_format({"bold": True, "border": 1, "align": "center", "bg_color": "#DDEBF7"})
    date_cell = wb.add_format({"num_format": date_format, "align": "left"})
    ws.write_row(first_row, 0, list(headers), head)
    ws.freeze_panes(first_row + 1, 0)
    for c, (width, (kind, _, _)) in enumerate(zip(widths, cells, strict=True)):
        ws.set_column(c, c, width, date_cell if kind == "date" else None)
    wb.close()

    top = first_row + 1  # the header row as Excel numbers it
    row = (pl.int_range(pl.len()) + top + 1).cast(pl.String)
    rendered = []
    for c, (kind, text, number) in enumerate(cells):
        ref = pl.concat_str([pl.lit(f'<c r="{_column_letter(c)}'), row])
        style = f' s="{date_cell.xf_index}"' if kind == "date" else ""
        branches = []  # (condition, cell XML); text wins over number, no value no cell
        if text is not None:
            inline = '" t="inlineStr"><is><t xml:space="preserve">'
            body = pl.concat_str([ref, pl.lit(inline), _xml_text(text), pl.lit("</t></is></c>")])
            branches.append((text.is_not_null(), body))
        if number is not None:
            value = number.cast(pl.String)
            body = pl.concat_str([ref, pl.lit(f'"{style}><v>'), value, pl.lit("</v></c>")])
            branches.append((number.is_not_null(), body))
        (first, body), *rest = branches
        cell = pl.when(first).then(body)
        for condition, body in rest:
            cell = cell.when(condition).then(body)
        rendered.append(cell.otherwise(pl.lit("")))
    xml = (
        rows.select(
            pl.concat_str([pl.lit('<row r="'), row, pl.lit('">'), *rendered, pl.lit("</row>")])
            .str.join("")
            .alias("xml")
        ).item()
        if rows.height
        else ""
    )
    span = f"A{top}:{_column_letter(len(cells) - 1)}{top + rows.height}"

    package = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in package.infolist():
            content = package.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                sheet_xml = content.decode("utf-8")
                sheet_xml = re.sub(
                    r'<dimension ref="[^"]*"/>', f'<dimension ref="{span}"/>', sheet_xml, count=1
                )
                sheet_xml = sheet_xml.replace("</sheetData>", xml + "</sheetData>", 1)
                content = sheet_xml.encode("utf-8")
            dst.writestr(info, content)
    return out.getvalue()


# --- demolition and campaign targets --------------------------------------------------------

_DEMOLITION_BAD_KINDS = ["bad_date", "negative_area", "unknown_street", "missing_key"]


def _campaign(year: int) -> tuple[str, date, date, int]:
    """The district-wide campaign launched in `year`: name, start, end, target in m² (scale 1).

    Until 2022 the campaigns ran March–November; the 2023 one (汕府〔2023〕34号) runs a year
    from July, and so do the later ones.
    """
    name = f"{year}年违法建设专项治理"
    if year < CALIBRATED_YEAR:
        return (
            name,
            date(year, 3, 1),
            date(year, 11, 30),
            int(round(800_000 * 0.9 ** (2022 - year), -3)),
        )
    if year == CALIBRATED_YEAR:
        return name, date(2023, 7, 1), date(2024, 6, 30), CAMPAIGN_2023_TARGET_M2
    return name, date(year, 7, 1), date(year + 1, 6, 30), 1_150_000


def _demolition_rate(mi: int) -> int:
    """Demolitions a month at scale 1: a campaign's first half year is its busiest."""
    year = mi // 12
    for launched in (year - 1, year):
        _, start, end, _ = _campaign(launched)
        first, last = _month_index(start.year, start.month), _month_index(end.year, end.month)
        if first <= mi <= last:
            if launched < CALIBRATED_YEAR:
                return 140
            return 250 if mi - first < 6 else 80
    return 75


def _street_variants(streets: Sequence[str]) -> np.ndarray:
    """How clerks write each street: with or without 街道, Traditional, pinyin-annotated, padded.

    Why: the contract normalises these; the sample makes sure they occur.
    """
    out = []
    for s in streets:
        trad = zhconv.convert(s, "zh-hant")
        last = trad[-1]
        annotated = f"{trad}({_PINYIN[last]})" if last in _PINYIN else trad
        out.append([f"{s}街道", s, f"{trad}街道", trad, f"{annotated}街道", f" {s}街道 "])
    return np.array(out)


def _demolition_universe(run: _Run, year: int) -> pl.DataFrame:
    """Demolitions of `year`; in the calibrated year those from 1 July add up to the published
    campaign area."""
    rng = run.rng("demolition", year)
    calibrated = year == CALIBRATED_YEAR
    growth = 1.0 if calibrated else DEMOLITION_GROWTH ** (year - CALIBRATED_YEAR)
    counts = [
        round(_demolition_rate(_month_index(year, m)) * growth * run.scale) for m in range(1, 13)
    ]
    n_good = sum(counts)
    n_bad = max(len(_DEMOLITION_BAD_KINDS), round(n_good * 0.002))
    n = n_good + n_bad
    is_bad = np.arange(n) >= n_good
    month = np.concatenate([np.repeat(np.arange(12), counts), rng.integers(0, 12, n_bad)])
    month_start = np.datetime64(f"{year}-01", "M") + month
    length = (month_start + 1).astype("datetime64[D]") - month_start.astype("datetime64[D]")
    day = (rng.random(n) * length.astype(np.int64)).astype(np.int64)
    demolished = month_start.astype("datetime64[D]") + day
    area = np.rint(np.clip(_lognormal(rng, 380, 0.95, n), 3, 12_000) * 100).astype(np.int64)
    if calibrated:
        campaign = (month >= 6) & ~is_bad
        target = run.scale * PUBLISHED_CAMPAIGN_AREA_CENTI_M2
        area[campaign] = _calibrate_sum(area[campaign], target, floor=100)

    street = rng.choice(len(run.streets), n, p=run.street_weights(_DEMOLITION_STREET_WEIGHTS))
    street_style = rng.choice(6, n, p=[0.55, 0.30, 0.06, 0.05, 0.02, 0.02])
    streets = _gather(run.streets, street)
    address = pl.select(
        pl.concat_str(
            [
                pl.lit(run.settings["bureau"]["district"]),
                pl.lit(streets),
                pl.lit("街道"),
                _pick(rng, _VILLAGES, n),
                pl.lit(pl.Series(rng.integers(1, 21, n))).cast(pl.String),
                pl.lit("巷"),
                pl.lit(pl.Series(rng.integers(1, 81, n))).cast(pl.String),
                pl.lit("号"),
            ]
        )
    ).to_series()
    variants = _street_variants(run.streets)

    order = np.lexsort((rng.random(n), demolished))
    seq = np.empty(n, dtype=np.int64)
    good_sorted, bad_sorted = order[~is_bad[order]], order[is_bad[order]]
    seq[good_sorted] = np.arange(1, len(good_sorted) + 1)
    seq[bad_sorted] = 900_001 + np.arange(len(bad_sorted))
    bad = np.zeros(n, dtype=np.int8)
    bad[bad_sorted] = 1 + np.arange(len(bad_sorted)) % len(_DEMOLITION_BAD_KINDS)
    return pl.DataFrame(
        {
            "record_id": _ids(f"LHCW{year}", seq, 6),
            "street": streets,
            "street_text": _gather(
                variants.ravel().tolist(), street * variants.shape[1] + street_style
            ),
            "address": address,
            "demolished_date": _to_date(demolished),
            "area_centi": area,
            "building_type": _gather(
                ["新增违建", "存量违建"], (rng.random(n) < 0.7).astype(np.int64)
            ),
            "date_style": rng.choice(3, n, p=[0.5, 0.3, 0.2]),
            "area_style": rng.choice(3, n, p=[0.8, 0.15, 0.05]),
            "_bad": bad,
        }
    ).sort("demolished_date", "record_id")


def _write_demolition(run: _Run) -> None:
    """Monthly UTF-8 CSV with BOM (saved from Excel by the street offices' clerks)."""
    source = "demolition"
    df = pl.concat([run.universe(source, y) for y in run.years])
    df = df.with_columns(
        _m=pl.col("demolished_date").dt.year() * 12 + pl.col("demolished_date").dt.month() - 1
    )
    kind = {k: i + 1 for i, k in enumerate(_DEMOLITION_BAD_KINDS)}
    bad = pl.col("_bad")
    style = pl.col("date_style")
    day_text = (
        pl.when(style == 0)
        .then(_date_text("demolished_date", "iso"))
        .when(style == 1)
        .then(_date_text("demolished_date", "slash"))
        .otherwise(_date_text("demolished_date", "dot"))
    )
    plain = _money_text("area_centi", thousands=False)
    area = (
        pl.when(pl.col("area_style") == 1)
        .then(_money_text("area_centi", thousands=True) + "平方米")
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
    headers = run.headers(source)
    parts = text.partition_by("_m", as_dict=True, include_key=False)
    for mi in run.months:
        part = parts.get((mi,), text.drop("_m").clear()).rename(headers)
        data = part.write_csv(include_bom=True).encode("utf-8")
        run.emit(run.path(source, _monthly_name(run, source, mi, "csv")), data, _export_time(mi))


def _campaign_years(years: Sequence[int]) -> list[int]:
    """Campaigns whose period overlaps a requested year (2023's runs into 2024)."""
    return [
        launched
        for launched in _neighbour_years(years, 1, 0)
        if any(
            _campaign(launched)[1] <= date(y, 12, 31) and _campaign(launched)[2] >= date(y, 1, 1)
            for y in years
        )
    ]


def _write_targets(run: _Run) -> None:
    """One CSV of campaign targets with canonical headers, as the 拆违办 keeps it.

    Targets are areas, so they scale with the demolitions and progress stays comparable.
    """
    source = "demolition_targets"
    weights = run.street_weights(_DEMOLITION_STREET_WEIGHTS)
    rows: list[dict[str, str]] = []
    campaigns = _campaign_years(run.years)
    for y in campaigns:
        name, start, end, target = _campaign(y)
        total = target * run.scale
        per_street = (np.rint(weights * total / 1000) * 1000).astype(np.int64)
        per_street[int(np.argmax(per_street))] += total - int(per_street.sum())  # stays round
        for street, value in zip(
            [run.settings["district"]["whole_district"], *run.streets],
            [total, *per_street.tolist()],
            strict=True,
        ):
            rows.append(
                {
                    "campaign": name,
                    "street": street,
                    "start_date": start.isoformat(),
                    "end_date": end.isoformat(),
                    "target_m2": str(value),
                }
            )
    name, start, end, _ = _campaign(campaigns[-1])
    rows.append(  # a street of the neighbouring district: refused
        {
            "campaign": name,
            "street": run.foreign_street(),
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "target_m2": "50000",
        }
    )
    data = pl.DataFrame(rows).write_csv().encode("utf-8")
    saved = datetime.combine(start - timedelta(days=14), datetime.min.time()) + timedelta(hours=9.5)
    run.emit(run.path(source, _TARGETS_NAME), data, saved.replace(tzinfo=_TZ))


# --- digital city management ----------------------------------------------------------------

_DCM_BAD_KINDS = ["out_of_order", "unknown_street", "missing_key", "bad_timestamp", "no_deadline"]
_DCM_CAT_CLASS = np.array([0 if c[0] == "事件" else 1 for c in _DCM_CATEGORIES])
_DCM_EVENT_W = _weights([c[2] for c in _DCM_CATEGORIES if c[0] == "事件"])
_DCM_PART_W = _weights([c[2] for c in _DCM_CATEGORIES if c[0] == "部件"])
_DCM_LIMIT_S = np.array([c[3] * 3600 for c in _DCM_CATEGORIES], dtype=float)
_DCM_SUBS = [s for c in _DCM_CATEGORIES for s in c[4]]
_DCM_SUB_LEN = np.array([len(c[4]) for c in _DCM_CATEGORIES])
_DCM_SUB_OFF = np.concatenate([[0], np.cumsum(_DCM_SUB_LEN)[:-1]])
_DCM_TIMES = ["registered_at", "dispatched_at", "deadline_at", "disposed_at", "closed_at"]
_TS = "%Y-%m-%d %H:%M:%S"


def _dcm_month_count(run: _Run, mi: int) -> int:
    year, month = _ym(mi)
    share = _weights(_DCM_MONTH_W)[month - 1]
    return round(DCM_CASES_2023 * run.scale * DCM_GROWTH ** (year - CALIBRATED_YEAR) * share)


def _dcm_chunk(run: _Run, mi: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cases reported in month `mi`: (rows of that month's export, final rows for the next).

    The lifecycle follows GB/T 30428: 93% registered within minutes or hours, dispatched, a
    deadline by category, most disposed in time, some late, ~3% reworked, closed after checking.
    """
    year, month = _ym(mi)
    rng = run.rng("dcm_cases", year, month)
    n_good = _dcm_month_count(run, mi)
    n_bad = max(len(_DCM_BAD_KINDS), round(n_good * 0.0015))
    n = n_good + n_bad
    start = _epoch_s(date(year, month, 1))
    days = _calendar.monthrange(year, month)[1]
    hour = rng.choice(24, n, p=_weights(_DCM_HOUR_W))
    reported = np.sort(
        start + rng.integers(0, days, n) * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    )
    bad = np.zeros(n, dtype=np.int8)
    bad_at = np.sort(rng.choice(n, n_bad, replace=False))
    bad[bad_at] = 1 + np.arange(n_bad) % len(_DCM_BAD_KINDS)
    is_bad = bad > 0

    source = rng.choice(len(_DCM_SOURCES), n, p=_DCM_SOURCE_W)
    part = rng.random(n) < 0.3
    n_event = len(_DCM_EVENT_W)
    category = np.where(
        part,
        n_event + rng.choice(len(_DCM_PART_W), n, p=_DCM_PART_W),
        rng.choice(n_event, n, p=_DCM_EVENT_W),
    )
    sub = _DCM_SUB_OFF[category] + rng.integers(0, 1 << 20, n) % _DCM_SUB_LEN[category]
    street = rng.choice(len(run.streets), n, p=run.street_weights(_STREET_WEIGHTS))

    registers = (rng.random(n) < _DCM_REGISTER_P[source]) | is_bad
    registered = reported + np.clip(
        _lognormal(rng, _DCM_REGISTER_MEDIAN_S[source], 0.9, n), 30, 6 * 3600
    )
    dispatched = registered + np.clip(_lognormal(rng, 1200, 1.0, n), 60, 8 * 3600)
    limit = _DCM_LIMIT_S[category]
    deadline = dispatched + limit
    u = rng.random(n)
    never = (u < 0.008) & ~is_bad
    late = (u >= 0.008) & (u < 0.083)
    in_time = dispatched + limit * np.clip(rng.beta(2.0, 3.0, n), 0.03, 0.98)
    disposed = np.where(late, deadline + 600 + limit * rng.exponential(0.4, n), in_time)
    rework = np.where(rng.random(n) < 0.03, np.where(rng.random(n) < 0.1, 2, 1), 0)
    disposed = disposed + rework * limit * rng.uniform(0.3, 1.0, n)
    disposed = np.minimum(disposed, reported + _DCM_MAX_LIFE_S - 86400)
    checked = disposed + np.clip(_lognormal(rng, 7200, 0.8, n), 300, 48 * 3600)
    closed = np.minimum(checked, reported + _DCM_MAX_LIFE_S)

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
    rework = np.where(times["disposed_at"] >= 0, rework, 0)

    seq = np.where(is_bad, 9_000_000 + np.cumsum(is_bad), np.cumsum(~is_bad))
    frame = pl.DataFrame(
        {
            "seq": seq,
            "source": _gather(_DCM_SOURCES, source),
            "case_class": _gather(["事件", "部件"], _DCM_CAT_CLASS[category]),
            "category": _gather([c[1] for c in _DCM_CATEGORIES], category),
            "subcategory": _gather(_DCM_SUBS, sub),
            "street": _gather(run.streets, street),
            "reported_at": reported,
            **times,
            "rework_count": rework,
            "_bad": bad,
        }
    )
    cut = _epoch_s(date(*_ym(mi + 1), 1)) + 2 * 3600
    shown = pl.col("dispatched_at").is_between(0, cut)
    snapshot = frame.with_columns(
        [
            pl.when(pl.col(c).is_between(0, cut)).then(pl.col(c)).otherwise(-1).alias(c)
            for c in _DCM_TIMES
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
    last = pl.max_horizontal([pl.col(c) for c in _DCM_TIMES if c != "deadline_at"])
    final = frame.filter((pl.col("_bad") == 0) & (last > cut))
    prefix = f"CG{year}{month:02d}"
    return _dcm_text(snapshot, prefix, run), _dcm_text(final, prefix, run)


def _dcm_text(frame: pl.DataFrame, prefix: str, run: _Run) -> pl.DataFrame:
    """The platform's CSV export: timestamps `2023-07-05 14:03:22`, empty where not reached."""
    kind = {k: i + 1 for i, k in enumerate(_DCM_BAD_KINDS)}
    bad = pl.col("_bad")

    def ts(col: str | pl.Expr) -> pl.Expr:
        c = pl.col(col) if isinstance(col, str) else col
        return pl.when(c >= 0).then(pl.from_epoch(c, time_unit="s").dt.strftime(_TS))

    headers = run.headers("dcm_cases", exclude=("updated_at",))
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
        .otherwise(pl.col("street") + "街道"),
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


def _write_dcm(run: _Run) -> None:
    """Monthly UTF-8 CSV, generated and written a month at a time to keep memory bounded.

    A case still open at its month's export appears again, final, in the next month's file.
    """
    source = "dcm_cases"
    wanted = set(run.months)
    carry: dict[int, pl.DataFrame] = {}
    for mi in sorted(wanted | {m - 1 for m in wanted}):
        snapshot, final = _dcm_chunk(run, mi)
        if mi + 1 in wanted:
            carry[mi + 1] = final
        if mi in wanted:
            rows = pl.concat([carry.pop(mi), snapshot]) if mi in carry else snapshot
            run.emit(
                run.path(source, _monthly_name(run, source, mi, "csv")),
                lambda tmp, rows=rows: rows.write_csv(tmp),
                _export_time(mi),
            )


# --- legal activities -----------------------------------------------------------------------


def _legal_universe(run: _Run, year: int) -> pl.DataFrame:
    """The year's study, training and publicity log (not scaled: it is a department's diary)."""
    rng = run.rng("legal_activities", year)
    cal = run.calendar
    rows: list[dict[str, Any]] = []

    def add(kind: str, days: np.ndarray, titles: list[str], low: int, high: int) -> None:
        people = rng.integers(low, high, len(titles))
        for d, title, p in zip(days.astype(object), titles, people.tolist(), strict=True):
            rows.append({"date": d, "activity_type": kind, "title": title, "participants": p})

    # Party-group study every month, the theory group most months, training now and then.
    study = [f"党组学法：学习{_LEGAL_STUDY[i]}" for i in rng.choice(len(_LEGAL_STUDY), 12, False)]
    add("党组学法", cal.in_months(rng, year, np.arange(12)), study, 9, 16)
    months = np.sort(rng.choice(12, 10, replace=False))
    centre = [
        f"理论学习中心组学习：{_LEGAL_CENTRE[i]}" for i in rng.choice(len(_LEGAL_CENTRE), 10, False)
    ]
    add("中心组学习", cal.in_months(rng, year, months), centre, 12, 22)
    months = np.sort(rng.choice(12, 8, replace=False))
    training = [_LEGAL_TRAINING[i] for i in rng.choice(len(_LEGAL_TRAINING), 8, False)]
    add("执法培训", cal.in_months(rng, year, months), training, 40, 121)
    months = np.sort(rng.choice(12, 30, p=_weights(_LEGAL_PUBLICITY_MONTH_W)))
    first = np.array([np.datetime64(date(year, int(m) + 1, 1)) for m in months])
    length = np.array([_calendar.monthrange(year, int(m) + 1)[1] for m in months])
    days = first + (rng.random(30) * length).astype(np.int64)
    streets = np.array(run.streets)[rng.integers(0, len(run.streets), 30)]
    picks = rng.random(30)
    titles = []
    for m, pick, street in zip(months.tolist(), picks.tolist(), streets, strict=True):
        fits = [t for t, month in _LEGAL_PUBLICITY if month in (None, m + 1)]
        special = [t for t, month in _LEGAL_PUBLICITY if month == m + 1]
        theme = special[0] if special and pick < 0.6 else fits[int(pick * len(fits))]
        titles.append(f"{theme}（{street}街道）")
    add("普法宣传", days, titles, 60, 600)

    log = pl.DataFrame(rows).unique(["date", "title"], keep="first", maintain_order=True)
    unrecorded = rng.choice(log.height, 2, replace=False)  # participants not noted
    log = log.with_columns(
        participants=pl.when(pl.int_range(pl.len()).is_in(unrecorded.tolist()))
        .then(None)
        .otherwise(pl.col("participants"))
        .cast(pl.Int64),
        date_text=pl.lit(None, pl.String),
        participants_text=pl.lit(None, pl.String),
        _bad=pl.lit(0, pl.Int8),
    )
    bad = pl.DataFrame(  # entered by hand, refused at ingestion
        {
            "date": [date(year, 6, 30), date(year, 11, 20)],
            "activity_type": ["普法宣传", "普法宣传"],
            "title": ["“安全生产月”法律咨询（补录）", "垃圾分类宣传进社区（补录）"],
            "participants": [150, None],
            "date_text": [f"{year}年6月下旬", None],
            "participants_text": [None, "约200人"],
            "_bad": [1, 2],
        },
        schema_overrides={"participants": pl.Int64, "_bad": pl.Int8},
    )
    return pl.concat([log, bad]).sort("date", "_bad", "activity_type", "title")


def _write_legal(run: _Run) -> None:
    """One hand-kept workbook a year: two empty rows, then the header (with a 序号 column and
    a 备注 column of its own, which the ingest ignores)."""
    source = "legal_activities"
    headers = run.headers(source)
    for year in run.years:
        log = run.universe(source, year)
        number = pl.int_range(pl.len())
        kind = pl.col("activity_type")
        note = (
            pl.when(number % 11 == 5)
            .then(pl.lit("线上开展"))
            .when((kind == "普法宣传") & (number % 4 == 1))
            .then(pl.lit("与街道联合开展"))
        )
        cells: list[_Cell] = [
            ("int", None, number + 1),
            ("date", pl.col("date_text"), _excel_serial(pl.col("date"))),
            ("text", kind, None),
            ("text", pl.col("title"), None),
            ("int", pl.col("participants_text"), pl.col("participants")),
            ("text", note, None),
        ]
        saved = _local(year + 1, 1, 5, 17, 30)
        data = _xlsx_bytes(
            log,
            [
                "序号",
                headers["date"],
                headers["activity_type"],
                headers["title"],
                headers["participants"],
                "备注",
            ],
            cells,
            title=f"{year}年学法普法活动台账",
            author="法制股",
            company=run.settings["bureau"]["name"],
            created=saved,
            sheet=f"{year}年",
            widths=[6, 16, 12, 48, 10, 18],
            first_row=2,
            date_format='yyyy"年"m"月"d"日"',
        )
        run.emit(run.path(source, _legal_name(run, year)), data, saved)


# --- names, the manifest, the entry point ---------------------------------------------------

_TARGETS_NAME = "demolition_targets.csv"

_UNIVERSES: dict[str, Callable[[_Run, int], pl.DataFrame]] = {
    "enforcement": _enforcement_universe,
    "permits": _permits_universe,
    "demolition": _demolition_universe,
    "legal_activities": _legal_universe,
}


def _monthly_name(run: _Run, source: str, mi: int, ext: str) -> str:
    year, month = _ym(mi)
    return f"{run.title(source)}_{year}-{month:02d}.{ext}"


def _corrections_name(year: int) -> str:
    return f"enforcement_corrections_{year}.jsonl"


def _legal_name(run: _Run, year: int) -> str:
    return f"{run.title('legal_activities')}台账_{year}.xlsx"


def _planned_paths(run: _Run) -> list[Path]:
    """Every file the run will write, known before writing any, to refuse a clash up front."""
    paths = [run.path("demolition_targets", _TARGETS_NAME)]
    monthly = {"permits": "xlsx", "enforcement": "csv", "demolition": "csv", "dcm_cases": "csv"}
    for source, ext in monthly.items():
        paths += [run.path(source, _monthly_name(run, source, mi, ext)) for mi in run.months]
    for year in run.years:
        paths.append(run.path("enforcement", _corrections_name(year)))
        paths.append(run.path("legal_activities", _legal_name(run, year)))
    return paths


def _previous_files(settings: Settings) -> list[Path]:
    """The files an earlier sample run wrote that are still exactly as written.

    Why size and mtime: the sample sets a fixed mtime, so a file replaced or edited since (by a
    clerk, or a real extract of the same name) no longer matches and is not the sample's to
    delete. Files the manifest does not list are never considered.
    """
    manifest = settings.inbox / _MANIFEST
    if not manifest.is_file():
        return []
    inbox = settings.inbox.resolve()
    ours = []
    for entry in json.loads(manifest.read_text(encoding="utf-8")).get("files", []):
        path = (inbox / entry["path"]).resolve()
        if path.parent.parent != inbox or path.parent.name not in SOURCES:
            continue
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        if stat.st_size == entry["size"] and stat.st_mtime_ns == entry["mtime_ns"]:
            ours.append(path)
    return ours


def _save_manifest(run: _Run) -> None:
    inbox = run.settings.inbox
    files = []
    for path in run.written:
        stat = path.stat()
        rel = path.relative_to(inbox).as_posix()
        files.append({"path": rel, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    doc = {
        "note": "urbanreport sample data: `urbanreport sample` deletes the files listed here",
        "years": run.years,
        "scale": run.scale,
        "seed": run.seed,
        "files": files,
    }
    inbox.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    (inbox / _MANIFEST).write_text(text + "\n", encoding="utf-8")


def write_sample(
    settings: Settings, years: list[int], scale: int = 1, seed: int = 20231231
) -> list[Path]:
    """Write sample extracts of every source into `settings.inbox/<source>/`; return the paths.

    The same (years, scale, seed) always gives the same bytes and mtimes. At scale 1, fiscal
    2023 reproduces the published figures once corrections are applied and bad rows refused.
    Files written by an earlier run are removed first; any other file in the way is an error,
    never overwritten.
    """
    wanted = sorted({int(y) for y in years})
    if not wanted:
        raise ValueError("请至少指定一个年份")
    if scale < 1:
        raise ValueError(f"规模必须是正整数：{scale}")
    if seed < 0:
        raise ValueError(f"随机种子不能为负数：{seed}")
    run = _Run(settings, wanted, scale, seed, _Calendar(wanted[0] - 2, wanted[-1] + 2))
    previous = _previous_files(settings)
    ours = set(previous)
    clash = [p for p in _planned_paths(run) if p.exists() and p.resolve() not in ours]
    if clash:
        listed = "、".join(str(p.relative_to(settings.home)) for p in clash[:3])
        raise RuntimeError(
            f"收件箱中已有 {len(clash)} 个同名文件不是示例程序写入的（如 {listed}），"
            "示例数据不会覆盖它们：请先移走这些文件。"
        )
    for path in previous:
        path.unlink()
    (settings.inbox / _MANIFEST).unlink(missing_ok=True)
    try:
        for writer in (
            _write_permits,
            _write_enforcement,
            _write_demolition,
            _write_targets,
            _write_dcm,
            _write_legal,
        ):
            writer(run)
            run.forget()  # a source's records are not needed once its files are written
    finally:
        _save_manifest(run)
    return run.written

"""Sample log of legal study, training and publicity (学法普法活动台账): one workbook a year.

Not scaled: it is a department's diary, the same size in a district of any population.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from urbanreport.core.normalize import street_full_name
from urbanreport.sample.common import excel_serial, local, weights
from urbanreport.sample.run import Run
from urbanreport.sample.workbook import Column, Document, text_or_number, workbook_bytes

SOURCE = "legal_activities"
#: The configured activity types; the indicators count study sessions, trainings, publicity.
PARTY_STUDY, CENTRE_STUDY, TRAINING, PUBLICITY = "党组学法", "中心组学习", "执法培训", "普法宣传"

_STUDY = [
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
_CENTRE = [
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
_TRAINING = [
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
_PUBLICITY: list[tuple[str, int | None]] = [
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
_PUBLICITY_MONTH_W = np.array([1, 1, 3, 3, 1.5, 3, 1.5, 1.5, 1.5, 1.5, 2, 4])
_WIDTHS = [6, 16, 12, 48, 10, 18]


def _publicity_titles(run: Run, rng: np.random.Generator, months: np.ndarray) -> list[str]:
    """A theme fitting the month (its own day, if it has one, more often than not) and the
    street where it took place."""
    streets = np.array(run.streets)[rng.integers(0, len(run.streets), len(months))]
    picks = rng.random(len(months))
    titles = []
    for m, pick, street in zip(months.tolist(), picks.tolist(), streets, strict=True):
        fits = [t for t, month in _PUBLICITY if month in (None, m + 1)]
        special = [t for t, month in _PUBLICITY if month == m + 1]
        theme = special[0] if special and pick < 0.6 else fits[int(pick * len(fits))]
        titles.append(f"{theme}（{street_full_name(street)}）")
    return titles


def _activities(run: Run, rng: np.random.Generator, year: int) -> list[dict[str, Any]]:
    """Party-group study every month, the theory group most months, training now and then,
    publicity all year (busiest around its days)."""
    cal = run.calendar
    rows: list[dict[str, Any]] = []

    def add(kind: str, days: np.ndarray, titles: list[str], low: int, high: int) -> None:
        people = rng.integers(low, high, len(titles))
        for d, title, p in zip(days.astype(object), titles, people.tolist(), strict=True):
            rows.append({"date": d, "activity_type": kind, "title": title, "participants": p})

    study = [f"党组学法：学习{_STUDY[i]}" for i in rng.choice(len(_STUDY), 12, False)]
    add(
        run.member("activity_types", PARTY_STUDY),
        cal.in_months(rng, year, np.arange(12)),
        study,
        9,
        16,
    )
    months = np.sort(rng.choice(12, 10, replace=False))
    centre = [f"理论学习中心组学习：{_CENTRE[i]}" for i in rng.choice(len(_CENTRE), 10, False)]
    add(
        run.member("activity_types", CENTRE_STUDY), cal.in_months(rng, year, months), centre, 12, 22
    )
    months = np.sort(rng.choice(12, 8, replace=False))
    training = [_TRAINING[i] for i in rng.choice(len(_TRAINING), 8, False)]
    add(run.member("activity_types", TRAINING), cal.in_months(rng, year, months), training, 40, 121)
    months = np.sort(rng.choice(12, 30, p=weights(_PUBLICITY_MONTH_W)))
    first = np.array([np.datetime64(date(year, int(m) + 1, 1)) for m in months])
    length = np.array([calendar.monthrange(year, int(m) + 1)[1] for m in months])
    days = first + (rng.random(30) * length).astype(np.int64)
    titles = _publicity_titles(run, rng, months)
    add(run.member("activity_types", PUBLICITY), days, titles, 60, 600)
    return rows


def universe(run: Run, year: int) -> pl.DataFrame:
    """The year's log, two entries without a participant count, two refused at ingestion."""
    rng = run.rng(SOURCE, year)
    log = pl.DataFrame(_activities(run, rng, year))
    log = log.unique(["date", "title"], keep="first", maintain_order=True)
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
    publicity = run.member("activity_types", PUBLICITY)
    bad = pl.DataFrame(  # entered by hand, refused at ingestion
        {
            "date": [date(year, 6, 30), date(year, 11, 20)],
            "activity_type": [publicity, publicity],
            "title": ["“安全生产月”法律咨询（补录）", "垃圾分类宣传进社区（补录）"],
            "participants": [150, None],
            "date_text": [f"{year}年6月下旬", None],
            "participants_text": [None, "约200人"],
            "_bad": [1, 2],
        },
        schema_overrides={"participants": pl.Int64, "_bad": pl.Int8},
    )
    return pl.concat([log, bad]).sort("date", "_bad", "activity_type", "title")


def file_name(run: Run, year: int) -> str:
    return f"{run.title(SOURCE)}台账_{year}.xlsx"


def _columns(run: Run, log: pl.DataFrame) -> list[Column]:
    """序号, the contract's four columns, and a 备注 column of the clerk's own."""
    headers = run.headers(SOURCE)
    number = pl.int_range(pl.len())
    kind = pl.col("activity_type")
    note = (
        pl.when(number % 11 == 5)
        .then(pl.lit("线上开展"))
        .when((kind == PUBLICITY) & (number % 4 == 1))
        .then(pl.lit("与街道联合开展"))
    )
    cells = [
        ("序号", None, number + 1, False),
        (headers["date"], pl.col("date_text"), excel_serial(pl.col("date")), True),
        (headers["activity_type"], kind, None, False),
        (headers["title"], pl.col("title"), None, False),
        (headers["participants"], pl.col("participants_text"), pl.col("participants"), False),
        ("备注", note, None, False),
    ]
    return [
        Column(header, width, text_or_number(log, text, number_), is_date)
        for (header, text, number_, is_date), width in zip(cells, _WIDTHS, strict=True)
    ]


def write(run: Run) -> None:
    """One hand-kept workbook a year: two empty rows, then the header (with a 序号 column and
    a 备注 column of its own, which the ingest ignores)."""
    for year in run.years:
        saved = local(year + 1, 1, 5, 17, 30)
        data = workbook_bytes(
            f"{year}年",
            _columns(run, run.universe(SOURCE, year)),
            Document(
                title=f"{year}年学法普法活动台账",
                author="法制股",
                company=run.settings["bureau"]["name"],
                created=saved,
            ),
            header_row=2,
            date_format='yyyy"年"m"月"d"日"',
        )
        run.emit(run.path(SOURCE, file_name(run, year)), data, saved)

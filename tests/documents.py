"""Documents for the Word and Excel tests: synthetic blocks, and the 2023 appendix from the sample.

`synthetic()` exercises every block kind and every number kind with half-way values (0.79375,
0.005 yuan) and nulls; `appendix(tables, year)` turns the warehouse's breakdowns into the kind of
tables and charts the annual report's sections pass to the draft, and `sample_draft(settings,
year)` is that draft, appendix included, from a warehouse.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from PIL import Image, ImageDraw

from urbanreport import indicators
from urbanreport.core import warehouse
from urbanreport.core.config import Settings
from urbanreport.core.periods import Period
from urbanreport.reports import build, draft, figures
from urbanreport.reports.blocks import (
    Annex,
    Block,
    Chart,
    Column,
    Document,
    Heading,
    PageBreak,
    Paragraph,
    Placeholder,
    Table,
)
from urbanreport.reports.sections import common

BUREAU = "汕头市龙湖区城市管理和综合执法局"
REPO_ROOT = Path(__file__).resolve().parents[1]


def png(width_mm: float, height_mm: float, dpi: int = 220) -> bytes:
    """A plain framed picture of the given printed size and resolution."""
    size = (round(width_mm / 25.4 * dpi), round(height_mm / 25.4 * dpi))
    image = Image.new("RGB", size, "white")
    ImageDraw.Draw(image).rectangle((20, 20, size[0] - 20, size[1] - 20), outline="black", width=6)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


STREET_COLUMNS = (
    Column("street", "街道"),
    Column("cases", "处罚案件", "count", "宗"),
    Column("fines", "罚款金额", "money", "元"),
    Column("area", "拆违面积", "area", "平方米"),
    Column("rate", "按时公示率", "rate", "%"),
    Column("days", "平均办理时长", "days", "工作日"),
)


def street_table(entry_id: str = "enforcement_by_street", title: str = "各街道处罚情况") -> Table:
    frame = pl.DataFrame(
        {
            "street": ["金霞街道", "珠池街道", "新津街道", "外砂街道"],
            "cases": [120, 80, None, 0],
            "fines": [Decimal("12345.60"), Decimal("0.005"), None, Decimal("0")],
            "area": [Decimal("936292.385"), Decimal("10.10"), None, Decimal("0.00")],
            "rate": [0.79375, 1.0, None, 0.780244],
            "days": [3.46, 4.0, None, 0.05],
        },
        schema_overrides={"fines": pl.Decimal(18, 3), "area": pl.Decimal(18, 3)},
    )
    return Table(entry_id, title, STREET_COLUMNS, frame, note="注：新津街道本期无记录。")


def synthetic(placeholders: bool = True) -> Document:
    """A small document with every block kind (two tables share a title on purpose)."""
    blocks: list[Block] = [
        Heading(1, "行政执法"),
        Paragraph("2023年，全局共处罚相关案件936宗，处以罚款人民币3009408元。"),
        Heading(2, "按街道"),
        street_table(),
        Chart("enforcement_monthly", "各月处罚案件数", png(156, 60), 156, 60),
        Heading(3, "说明"),
        Paragraph("注：数据缺失表示统计期内无记录。", "note"),
        PageBreak(),
        Heading(1, "审批服务"),
        street_table("permits_by_street", "各街道处罚情况"),
        Chart("empty_chart", "空图", png(76, 40), 76, 40, empty=True),
        Annex("2023年主要数据"),
        Heading(1, "附表"),
        Paragraph(BUREAU, "signature"),
    ]
    if placeholders:
        blocks.insert(2, Placeholder("本年度重大行政决策情况"))
        blocks.insert(10, Placeholder("审批服务改革举措"))
    return Document(
        kind="annual",
        title=f"{BUREAU}2023年法治政府建设数据报告",
        subtitle="（数据截至2023年12月31日）",
        bureau=BUREAU,
        district="龙湖区",
        period_label="2023",
        data_cutoff=date(2023, 12, 31),
        data_as_of="2023-12-31T18:05:00",
        blocks=tuple(blocks),
        meta={
            "period_start": "2023-01-01",
            "period_end": "2023-12-31",
            "batches": [
                {
                    "source": "enforcement",
                    "file_name": "enforcement_2023-12.csv",
                    "rows_read": 10,
                    "rows_loaded": 9,
                    "rows_rejected": 1,
                    "content_hash": "0" * 64,
                }
            ],
        },
    )


# --- the 2023 appendix from the sample's breakdowns -------------------------------------------

#: (breakdown, title, columns): tables shaped like the annual report's.
APPENDIX_TABLES: tuple[tuple[str, str, tuple[Column, ...]], ...] = (
    (
        "enforcement_by_street",
        "各街道处罚案件及罚款金额",
        (
            Column("street", "街道"),
            Column("penalty_cases", "处罚案件", "count", "宗"),
            Column("prev_penalty_cases", "上年处罚案件", "count", "宗"),
            Column("fines_yuan", "罚款金额", "money", "元"),
            Column("prev_fines_yuan", "上年罚款金额", "money", "元"),
        ),
    ),
    (
        "permits_by_item",
        "各许可事项办理情况",
        (
            Column("item_name", "许可事项"),
            Column("received", "受理", "count", "宗"),
            Column("concluded", "办结", "count", "宗"),
            Column("on_time_rate", "按时办结率", "rate", "%"),
            Column("non_tax_revenue_yuan", "非税收入", "money", "元"),
        ),
    ),
    (
        "demolition_by_street",
        "各街道拆除违法建设情况",
        (
            Column("street", "街道"),
            Column("sites", "拆违宗数", "count", "宗"),
            Column("area_m2", "拆违面积", "area", "平方米"),
            Column("target_m2", "专项行动目标面积", "area", "平方米"),
        ),
    ),
    (
        "dcm_by_street",
        "各街道数字城管案件办理情况",
        (
            Column("street", "街道"),
            Column("reported", "上报", "count", "件"),
            Column("registered", "立案", "count", "件"),
            Column("closed", "结案", "count", "件"),
            Column("on_time_disposal_rate", "按期处置率", "rate", "%"),
        ),
    ),
)


def appendix(tables: Mapping[str, Sequence[Mapping[str, Any]]], year: int) -> list[Block]:
    """Tables and two charts of the annual report from `indicators.breakdowns(...)`."""
    out: list[Block] = [Heading(1, "主要数据表")]
    for name, title, columns in APPENDIX_TABLES:
        rows = tables[name]
        frame = pl.DataFrame(
            {c.name: [r.get(c.name) for r in rows] for c in columns},
            strict=False,
        )
        out.append(Table(name, title, columns, frame))
    out.append(Heading(1, "主要图表"))
    ctx = {"bureau": BUREAU, "district": ""}
    data = build.report_data(
        "year", str(year), year, date(year, 1, 1), date(year, 12, 31), {}, tables, ctx
    )
    for entry in (figures.entry("enforcement_monthly"), figures.entry("demolition_streets")):
        out.append(common.chart(entry, data, data.frame(entry), {}))
    return out


def sample_draft(settings: Settings, year: int) -> Document:
    """The annual draft of `year` with its data appendix, from the warehouse of `settings`."""
    with warehouse.reader(settings) as con:
        period = Period("year", year)
        result = indicators.compute(con, period, settings)
        tables = indicators.breakdowns(con, period, settings)
    bureau = settings["bureau"]
    return draft.annual_draft(
        result,
        bureau=bureau["name"],
        district=bureau["district"],
        appendix=appendix(tables, year),
    )


def render_elsewhere(renderer: str, hash_seed: int = 12345) -> bytes:
    """`synthetic()` rendered by `urbanreport.reports.<renderer>` in a fresh interpreter with
    another hash seed: the bytes must not depend on the process (set order, ids, clock)."""
    code = (
        "import sys\n"
        "from tests.documents import synthetic\n"
        f"from urbanreport.reports import {renderer} as r\n"
        "sys.stdout.buffer.write(r.render(synthetic()))\n"
    )
    env = os.environ | {"PYTHONHASHSEED": str(hash_seed), "TZ": "America/New_York"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, check=True
    )
    return done.stdout

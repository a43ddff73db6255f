"""The chart cache: a report from cached charts has the same bytes as one drawn afresh, and a
chart whose figures, spec or drawing code changed is drawn anew, never read from the cache."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from tests.reports_data import annual_result, annual_tables
from urbanreport.core import warehouse
from urbanreport.core.config import load_settings
from urbanreport.core.periods import Period
from urbanreport.reports import build, chart_cache, charts, figures
from urbanreport.reports.chart_kit import ChartSpec, Series
from urbanreport.reports.inputs import ReportData

CTX = {"bureau": "汕头市龙湖区城市管理和综合执法局", "district": "龙湖区", "source_titles": {}}
ANNUAL_CHARTS = [e for e in figures.for_report("annual") if e.type == "chart"]


def annual_data(tables: dict | None = None, charts_dir: Path | None = None) -> ReportData:
    data = build.report_data(
        "year",
        "2023",
        2023,
        date(2023, 1, 1),
        date(2023, 12, 31),
        annual_result(),
        tables or annual_tables(),
        CTX,
    )
    return dataclasses.replace(data, charts_dir=charts_dir)


def cached_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.chart"))


def spec(**changes) -> ChartSpec:
    base = ChartSpec(
        "enforcement_monthly",
        "各月处罚案件数及罚款金额",
        "month",
        (Series("penalty_cases", "处罚案件", "宗"), Series("fines_yuan", "罚款", "元")),
        2023,
        tuple(range(1, 13)),
    )
    return dataclasses.replace(base, **changes)


def frame() -> pl.DataFrame:
    return pl.DataFrame(annual_tables()["enforcement_by_month"], infer_schema_length=None)


def test_cached_charts_give_the_same_pdf_bytes(tmp_path: Path) -> None:
    fresh = build.render_pdf(annual_data()).pdf
    cold = build.render_pdf(annual_data(charts_dir=tmp_path)).pdf
    assert len(cached_files(tmp_path)) == len(ANNUAL_CHARTS)
    warm = build.render_pdf(annual_data(charts_dir=tmp_path)).pdf
    assert fresh == cold == warm


def test_a_changed_figure_is_drawn_anew(tmp_path: Path) -> None:
    tables = annual_tables()
    before = build.render_pdf(annual_data(tables, tmp_path)).pdf
    rows = [dict(r) for r in tables["enforcement_by_month"]]
    rows[4]["penalty_cases"] += 7  # May: seven more cases
    changed = build.render_pdf(annual_data({**tables, "enforcement_by_month": rows}, tmp_path))
    fresh = build.render_pdf(annual_data({**tables, "enforcement_by_month": rows}))
    assert changed.pdf == fresh.pdf != before
    # The one chart drawn from that frame is new; the others came from the cache.
    readers = [e for e in ANNUAL_CHARTS if e.breakdown == "enforcement_by_month"]
    assert len(cached_files(tmp_path)) == len(ANNUAL_CHARTS) + len(readers)


def test_the_key_spells_every_input_exactly() -> None:
    base = chart_cache.key("monthly_bar_panels", frame(), spec())
    assert chart_cache.key("monthly_bar_panels", frame(), spec()) == base
    assert chart_cache.key("monthly_bars", frame(), spec()) != base
    assert chart_cache.key("monthly_bar_panels", frame(), spec(title="各月处罚案件数")) != base
    assert chart_cache.key("monthly_bar_panels", frame(), spec(months=(1, 2, 3))) != base
    assert chart_cache.key("monthly_bar_panels", frame(), spec(options={"height": 70})) != base
    one_more = frame().with_columns(
        pl.when(pl.col("month") == 12)
        .then(pl.col("fines_yuan") + Decimal("0.01"))
        .otherwise(pl.col("fines_yuan"))
    )
    assert chart_cache.key("monthly_bar_panels", one_more, spec()) != base
    # A Decimal keeps its digits, and numbers of another type are another value.
    assert chart_cache.canonical(Decimal("1.0")) != chart_cache.canonical(Decimal("1"))
    assert chart_cache.canonical(1) != chart_cache.canonical(1.0) != chart_cache.canonical("1")
    assert chart_cache.canonical(True) != chart_cache.canonical(1)


def test_other_drawing_code_is_another_key(monkeypatch: pytest.MonkeyPatch) -> None:
    base = chart_cache.key("monthly_bar_panels", frame(), spec())
    monkeypatch.setattr(chart_cache, "_code_version", lambda: ["another chart_kit"])
    assert chart_cache.key("monthly_bar_panels", frame(), spec()) != base


def test_a_damaged_entry_is_drawn_anew_and_replaced(tmp_path: Path) -> None:
    first = chart_cache.drawn(tmp_path, "monthly_bar_panels", frame(), spec())
    (path,) = cached_files(tmp_path)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])  # cut short
    assert chart_cache.drawn(tmp_path, "monthly_bar_panels", frame(), spec()) == first
    assert path.read_bytes() == good
    path.write_bytes(good.replace(b"\n", b"\n\x00", 1))  # PNG bytes not matching their hash
    assert chart_cache.drawn(tmp_path, "monthly_bar_panels", frame(), spec()) == first
    assert path.read_bytes() == good


def test_an_input_it_cannot_spell_is_drawn_every_time(tmp_path: Path) -> None:
    odd = spec(options={"height": object()})
    with pytest.raises(chart_cache.Uncacheable):
        chart_cache.key("monthly_bar_panels", frame(), odd)
    calls = []

    def draw(f: pl.DataFrame, s: ChartSpec) -> charts.Chart:
        calls.append(s)
        return charts.monthly_bar_panels(f, spec())

    for _ in range(2):
        chart_cache.drawn(tmp_path, "monthly_bar_panels", frame(), odd, draw)
    assert len(calls) == 2 and cached_files(tmp_path) == []


def test_a_folder_that_cannot_be_written_only_costs_speed(tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    made = chart_cache.drawn(blocked, "monthly_bar_panels", frame(), spec())
    assert made.png == charts.monthly_bar_panels(frame(), spec()).png


def test_a_render_keeps_its_charts_and_the_next_one_draws_none(
    sample_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("URBANREPORT_CONFIG", raising=False)
    settings = load_settings(home=tmp_path)
    shutil.copy(sample_warehouse, settings.warehouse_path)
    first = build.render(settings, Period.parse("2023"))
    assert len(cached_files(build.charts_dir(settings))) == len(ANNUAL_CHARTS)

    def not_again(frame: pl.DataFrame, spec: ChartSpec) -> charts.Chart:
        raise AssertionError(f"{spec.name} drawn again")

    for kind in charts.KINDS:
        monkeypatch.setitem(charts.KINDS, kind, not_again)
    with warehouse.reader(settings) as con:
        data = build.gather(con, Period.parse("2023"), settings)
    assert build.render_pdf(data).pdf == first.path.read_bytes()

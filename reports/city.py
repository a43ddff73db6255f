"""Render the city report of a period and register it: ``render_city(city, period)``.

Why beside `build` and not in it: a district report reads one district's records, the city
report every district's at once (`indicators.compute_city`, in one read transaction, so all
its figures come from one snapshot of the lake). Rendering and the registry are shared: the
same PDF, Word and Excel renderers, the same versioned registry, under `reports/city/<fy>/`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb

from urbanreport import indicators
from urbanreport.core import warehouse
from urbanreport.core.city import City
from urbanreport.core.config import Settings
from urbanreport.core.periods import Period
from urbanreport.reports import build, docx, pdf, registry, xlsx
from urbanreport.reports.build import ReportEntry
from urbanreport.reports.sections.city import CityInput, District, document, title

#: Under the home's reports folder, beside the districts' (`reports/<code>/`).
CITY_FOLDER = "city"


def reports_dir(settings: Settings) -> Path:
    """`<home>/reports/city`: one for the city, whichever district's settings are given."""
    return settings.home / "reports" / CITY_FOLDER


def city_input(figures: Any, period: Period) -> CityInput:
    """`compute_city`'s result as the report reads it."""
    districts = [District(d.code, d.name, d.figures) for d in figures.districts]
    return CityInput(figures.city["code"], figures.city["name"], period, figures.total, districts)


def gather(con: duckdb.DuckDBPyConnection, period: Period, city: City) -> CityInput:
    return city_input(indicators.compute_city(con, period, city), period)


def report_id(period: Period) -> str:
    return f"{period.label}-city"


def meta(source: CityInput) -> dict[str, Any]:
    """The registry entry's facts (the same keys as a district report's)."""
    data = source.data()
    moment = data.data_as_of
    name = title(source.period)
    return {
        "id": report_id(source.period),
        "kind": "city",
        "period": source.period.label,
        "title": name,
        "file": name + ".pdf",
        "ascii_name": f"urbanreport-{source.code}-{report_id(source.period)}.pdf",
        "data_cutoff": data.data_cutoff.isoformat(),
        "data_updated_at": moment.isoformat(timespec="seconds") if moment else None,
        "headline": build.headline(source.total),
    }


def render_input(folder: Path, source: CityInput) -> ReportEntry:
    """Lay out and register a city report from figures already computed."""
    started = time.perf_counter()
    doc = document(source)
    rendered = pdf.render(doc)
    others = {"docx": docx.render(doc), "xlsx": xlsx.render(doc)}
    raw, changed = registry.publish(
        folder,
        source.period.fiscal_year,
        meta(source),
        rendered.pdf,
        pdf.preview_png,
        others=others,
    )
    shown = list(rendered.entry_ids)
    return build.entry_from(
        folder / str(source.period.fiscal_year),
        raw,
        changed,
        figures=shown,
        charts=[i for i in shown if i.endswith("_chart")],
        seconds=time.perf_counter() - started,
    )


def render_city(city: City, period: Period) -> ReportEntry:
    """The period's city report (PDF, Word, Excel) into ``reports/city/<fy>/``, registered;
    unchanged figures give the same bytes and no new version."""
    settings = city.settings_for(city.districts[0].code)
    with warehouse.reader(settings) as con:
        source = gather(con, period, city)
    return render_input(reports_dir(settings), source)

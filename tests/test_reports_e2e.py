"""End to end: the bundled sample, ingested, rendered through ``reports.build.render``.

The 2023 annual report must state the bureau's published figures in its own sentences, embed
its fonts, never print personal data from the records, and a rerun on unchanged data must write
nothing new.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reports_data import PUBLISHED_SENTENCES, font_report, page_count, pdf_text, squeeze
from urbanreport.core import warehouse
from urbanreport.core.config import Settings, load_settings
from urbanreport.indicators import Period
from urbanreport.reports import figures
from urbanreport.reports.build import ReportEntry, render
from urbanreport.reports.registry import fiscal_years, load_index

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    from urbanreport.ingest.batches import ingest_all
    from urbanreport.sample import write_sample

    home = tmp_path_factory.mktemp("e2e-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.setenv("URBANREPORT_HOME", str(home))
        s = load_settings(home=home)
        write_sample(s, years=[2022, 2023])
        ingest_all(s)
        yield s


@pytest.fixture(scope="module")
def annual(settings: Settings) -> ReportEntry:
    return render(settings, Period.parse("2023"))


@pytest.fixture(scope="module")
def personal_values(settings: Settings) -> list[str]:
    """Every applicant, party name and party id in the warehouse."""
    with warehouse.reader(settings) as con:
        rows = con.execute(
            "SELECT applicant FROM permits WHERE applicant IS NOT NULL "
            "UNION SELECT party_name FROM enforcement WHERE party_name IS NOT NULL "
            "UNION SELECT party_id FROM enforcement WHERE party_id IS NOT NULL"
        ).fetchall()
    values = [str(r[0]).strip() for r in rows if str(r[0]).strip()]
    assert values, "the sample should carry personal data for this test to mean anything"
    return values


def test_annual_report_states_the_published_figures(annual: ReportEntry):
    assert annual.path.name == "2023年度法治政府建设数据报告.pdf"
    assert annual.path.parent == annual.path.parent.parent / "2023"
    flat = squeeze(pdf_text(annual.path.read_bytes()))
    for sentence in PUBLISHED_SENTENCES:
        assert squeeze(sentence) in flat, sentence


def test_annual_report_embeds_its_fonts_and_has_its_pages(annual: ReportEntry):
    data = annual.path.read_bytes()
    assert all(font_report(data).values())
    assert 8 <= page_count(data) <= 14
    assert annual.headline["enforcement.penalty_cases"] == 936
    assert annual.headline["permits.non_tax_revenue_yuan"] == 496793.68
    assert annual.headline["demolition.campaign_area_m2"] == 936292.39


def test_no_personal_data_in_any_report(settings, annual: ReportEntry, personal_values):
    monthly = render(settings, Period.parse("2023-07"))
    for entry in (annual, monthly):
        text = pdf_text(entry.path.read_bytes())
        leaked = [v for v in personal_values if v in text]
        assert leaked == [], leaked[:5]


def test_monthly_brief_from_the_warehouse(settings: Settings):
    entry = render(settings, Period.parse("2023-07"))
    assert entry.path.name == "2023年07月法治政府建设数据月报.pdf"
    data = entry.path.read_bytes()
    assert page_count(data) <= 2
    assert squeeze("2023年7月，我局共处罚相关案件") in squeeze(pdf_text(data))


def test_rerender_of_unchanged_data_writes_nothing(settings: Settings, annual: ReportEntry):
    before = annual.path.stat().st_mtime_ns
    again = render(settings, Period.parse("2023"))
    assert not again.changed
    assert again.sha256 == annual.sha256
    assert annual.path.stat().st_mtime_ns == before
    index = load_index(settings.reports_dir, 2023)
    assert index["reports"]["2023"]["versions"] == []
    assert 2023 in fiscal_years(settings.reports_dir)
    assert Path(settings.reports_dir / "2023" / index["reports"]["2023"]["preview"]).is_file()


def test_reports_from_the_warehouse_show_exactly_their_registry_entries(
    settings: Settings, annual: ReportEntry
):
    assert annual.figures == [e.id for e in figures.for_report("annual")]
    monthly = render(settings, Period.parse("2023-07"))
    assert monthly.figures == [e.id for e in figures.for_report("monthly")]

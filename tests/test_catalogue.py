"""The catalogue, the SQL and the user docs agree: one definition in one place."""

from __future__ import annotations

from tests.factories import REPO_ROOT
from urbanreport.core import catalogue, warehouse
from urbanreport.core.config import SOURCES, SQL_DIR, load_settings
from urbanreport.docs import indicators_markdown, sources_markdown
from urbanreport.indicators import Period, compute


def test_every_catalogue_key_is_computed_by_exactly_its_section_sql(tmp_path):
    settings = load_settings(home=tmp_path)
    with warehouse.writer(settings) as con:
        result = compute(con, Period.parse("2023"), settings)
    assert list(result["indicators"]) == list(catalogue.indicators())
    assert {k.split(".")[0] for k in result["indicators"]} == set(catalogue.SECTIONS)
    for section in catalogue.SECTIONS:
        assert (SQL_DIR / "indicators" / f"{section}.sql").is_file()


def test_an_empty_warehouse_gives_missing_not_zero(tmp_path):
    settings = load_settings(home=tmp_path)
    with warehouse.writer(settings) as con:
        result = compute(con, Period.parse("2023-07"), settings)
    assert all(v is None for v in result["indicators"].values())
    assert set(result["missing"]) == set(result["indicators"])
    assert result["missing"]["enforcement.penalty_cases"] == "行政处罚案件在2023年7月没有任何记录"


def test_catalogue_entries_are_complete():
    for item in catalogue.indicators().values():
        assert item.name and item.definition and item.source in SOURCES
        assert item.kind in catalogue.KINDS
        assert item.section in catalogue.SECTIONS


def test_generated_docs_are_up_to_date():
    """Run `urbanreport docs` when this fails."""
    assert (REPO_ROOT / "docs" / "indicators.md").read_text("utf-8") == indicators_markdown()
    assert (REPO_ROOT / "docs" / "sources.md").read_text("utf-8") == sources_markdown()


def test_sources_doc_lists_every_contract_field():
    text = sources_markdown()
    for spec in load_settings().sources.values():
        for field in spec["fields"]:
            assert f"| `{field['name']}` | {field['header']} |" in text

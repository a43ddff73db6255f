"""Another district of the city is only configuration: 汕头市金平区, end to end.

The data directory's urbanreport.toml names the bureau, the district and its twelve real
streets (typed in Traditional characters, as a clerk might: the settings normalise them). The
sample is written for that district, ingested, the indicators are computed and compared with
the independent oracle over the warehouse records, and the annual report is rendered under the
district's own name, with nothing of the default district left in it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import zhconv
from pypdf import PdfReader

from tests import indicator_oracle as oracle
from tests.factories import make_settings
from urbanreport.core import catalogue, districts, warehouse
from urbanreport.core.config import Settings
from urbanreport.indicators import Period, breakdowns, compute
from urbanreport.ingest.batches import ingest_all
from urbanreport.reports.build import render
from urbanreport.sample import SOURCES, write_sample

pytestmark = pytest.mark.slow

JINPING = districts.find("汕头市", "金平区")
BUREAU = "汕头市金平区城市管理和综合执法局"
PERIODS = ["2023", "2023-07", "2023-12", "2022"]


def config() -> str:
    streets = ", ".join(f'"{zhconv.convert(n, "zh-hant")}"' for n in JINPING.divisions)
    return (
        f'[bureau]\nname = "{BUREAU}"\nshort_name = "金平区城管局"\n'
        f'district = "金平区"\ncity = "汕头市"\n'
        f'[district]\ncode = "{JINPING.code}"\nstreets = [{streets}]\n'
    )


@dataclass
class Jinping:
    settings: Settings
    records: dict[str, list[dict[str, Any]]]
    rejected_streets: set[str]


@pytest.fixture(scope="module")
def jinping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Jinping]:
    home = tmp_path_factory.mktemp("jinping")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.setenv("URBANREPORT_HOME", str(home))
        settings = make_settings(home, config())
        write_sample(settings, [2022, 2023])
        ingest_all(settings)
        with warehouse.reader(settings) as con:
            records = {
                table: con.sql(f"SELECT * FROM {table}").to_arrow_table().to_pylist()
                for table in SOURCES
            }
            rejected = con.execute(
                "SELECT DISTINCT raw_value FROM rejects WHERE column_name = 'street'"
            ).fetchall()
        yield Jinping(settings, records, {r[0] for r in rejected})


def test_the_configured_streets_are_the_real_ones_normalised(jinping: Jinping) -> None:
    assert jinping.settings.streets == JINPING.streets
    assert "鮀江" in jinping.settings.streets and "小公园" in jinping.settings.streets


def test_every_record_lands_on_a_configured_street(jinping: Jinping) -> None:
    """Traditional, annotated and suffixed spellings of 鮀江, 鮀莲, … all load; the one street
    refused is the deliberate wrong one, a real street of 龙湖区."""
    for table in ("enforcement", "demolition", "dcm_cases"):
        streets = {r["street"] for r in jinping.records[table]}
        assert streets == set(JINPING.streets), table
    assert jinping.rejected_streets == {"金霞街道"}


@pytest.mark.parametrize("label", PERIODS)
def test_indicators_match_the_oracle(jinping: Jinping, label: str) -> None:
    period = Period.parse(label)
    kinds = {key: item.kind for key, item in catalogue.indicators().items()}
    with warehouse.reader(jinping.settings) as con:
        result = compute(con, period, jinping.settings)
    expected = oracle.indicators(jinping.records, period.start, period.end)
    assert result["indicators"].keys() == expected.keys()
    for key, want in expected.items():
        actual = result["indicators"][key]
        assert oracle.same(kinds[key], want, actual), f"{key} {label}: {actual!r} ≠ {want!r}"
    counted = [k for k, v in result["indicators"].items() if v is not None]
    assert len(counted) >= len(expected) - 2  # the sample fills (almost) every figure


def test_breakdowns_list_the_districts_streets(jinping: Jinping) -> None:
    with warehouse.reader(jinping.settings) as con:
        tables = breakdowns(con, Period.parse("2023"), jinping.settings)
    by_street = [name for name in tables if name.endswith("_by_street")]
    assert by_street
    for name in by_street:
        assert [r["street"] for r in tables[name]] == JINPING.streets, name
    reported = sum(r["reported"] for r in tables["dcm_by_street"])
    with warehouse.reader(jinping.settings) as con:
        (direct,) = con.execute(
            "SELECT count(*) FROM dcm_cases WHERE reported_at >= TIMESTAMP '2023-01-01'"
            " AND reported_at < TIMESTAMP '2024-01-01'"
        ).fetchone()
    assert reported == direct


def test_the_annual_report_carries_the_districts_names(jinping: Jinping) -> None:
    entry = render(jinping.settings, Period.parse("2023"))
    reader = PdfReader(io.BytesIO(entry.path.read_bytes()))
    text = re.sub(r"\s", "", "".join(page.extract_text() or "" for page in reader.pages))
    assert BUREAU in text
    assert "2023年7月以来金平区完成拆违" in text
    assert "龙湖" not in text
    for street in ("鮀江", "鮀莲", "石炮台", "小公园"):
        assert street in text, street
    with warehouse.reader(jinping.settings) as con:
        cases = compute(con, Period.parse("2023"), jinping.settings)["indicators"]
    assert f"共处罚相关案件{cases['enforcement.penalty_cases']}宗" in text

"""Districts as a dimension of one warehouse: each district reads its own records, the city
reads them all, and the city's figures are recomputed from the records by the oracle.

Three districts of 汕头市 share an embedded warehouse: 龙湖区 holds the oracle's edge-case
scenario, 金平区 other records (with the very same record keys) and a campaign of its own, and
南澳县 sent nothing. Every district's figures must equal the oracle over its own records, the
city's the oracle's recomputation over all of them (rates from counts, each district's own
campaign), and 南澳县's must be missing, never zero.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import indicator_oracle as oracle
from tests.factories import count, enforcement_row, write_rows_csv
from urbanreport import cli
from urbanreport.core import catalogue, warehouse
from urbanreport.core.city import City, load_city
from urbanreport.core.workdays import refresh_calendar
from urbanreport.indicators import (
    CityFigures,
    Period,
    breakdowns,
    city_to_json,
    compute,
    compute_city,
    to_json,
)
from urbanreport.ingest.batches import ingest_all

KINDS = {key: item.kind for key, item in catalogue.indicators().items()}
PERIODS = ["2022", "2023", "2024", "2023-07", "2023-12", "2024-02"]
CONFIG = "[calendar]\nfirst_year = 2020\nlast_year = 2026\n"
CITY = '[city]\ncode = "440500"\n[districts.440507]\n[districts.440511]\n[districts.440523]\n'
LONGHU, JINPING, NANAO = "440507", "440511", "440523"


def jinping_records() -> dict[str, list[dict[str, Any]]]:
    """Other records than 龙湖区's, under the same keys, and a campaign of 金平区's own."""
    data = oracle.filler_records(seed=7)
    data["demolition_targets"] = [
        oracle.target(
            "金平2023专项", "全区", oracle.D(2023, 3, 1), oracle.D(2023, 12, 31), "9000.00"
        )
    ]
    return data


@dataclass
class Shared:
    home: Path
    city: City
    data: dict[str, dict[str, list[dict[str, Any]]]]  # division code → records


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    home = tmp_path_factory.mktemp("shantou")
    (home / "urbanreport.toml").write_text(CONFIG, encoding="utf-8")
    (home / "city.toml").write_text(CITY, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        for name in ("URBANREPORT_CONFIG", "URBANREPORT_CITY"):
            mp.delenv(name, raising=False)
        city = load_city(home)
        data = {LONGHU: oracle.scenario(), JINPING: jinping_records(), NANAO: {}}
        settings = city.settings_for(LONGHU)
        with warehouse.writer(settings) as con:
            oracle.load(con, data[LONGHU], batch_id=1, district=LONGHU)
            oracle.load(con, data[JINPING], batch_id=2, district=JINPING)
            refresh_calendar(con, settings)
        yield Shared(home, city, data)


def figures_of(shared: Shared, label: str) -> CityFigures:
    with warehouse.reader(shared.city.settings_for(LONGHU)) as con:
        return compute_city(con, Period.parse(label), shared.city)


def assert_oracle(actual: dict[str, Any], expected: dict[str, Any], what: str) -> None:
    assert actual.keys() == expected.keys()
    for key, want in expected.items():
        assert oracle.same(KINDS[key], want, actual[key]), (
            f"{what} {key}: {actual[key]!r} ≠ {want!r}"
        )


def test_the_same_keys_in_two_districts_are_two_records(shared: Shared) -> None:
    with warehouse.reader(shared.city.settings_for(LONGHU)) as con:
        shared_keys = con.execute(
            "SELECT count(*) FROM (SELECT case_id FROM enforcement GROUP BY case_id"
            " HAVING count(DISTINCT district) = 2)"
        ).fetchone()[0]
    assert shared_keys > 10


@pytest.mark.parametrize("label", PERIODS)
def test_each_district_reads_its_own_records_only(shared: Shared, label: str) -> None:
    period = Period.parse(label)
    with warehouse.reader(shared.city.settings_for(LONGHU)) as con:
        for code in (LONGHU, JINPING):
            actual = compute(con, period, shared.city.settings_for(code))["indicators"]
            expected = oracle.indicators(shared.data[code], period.start, period.end)
            assert_oracle(actual, expected, f"{code} {label}")


def test_a_breakdown_reads_the_district_it_is_asked_for(shared: Shared) -> None:
    """Whatever district the connection was opened for; and it leaves that one in place."""
    period = Period.parse("2023")
    with warehouse.reader(shared.city.settings_for(LONGHU)) as con:
        for code in (JINPING, LONGHU, NANAO):
            settings = shared.city.settings_for(code)
            months = breakdowns(con, period, settings)["dcm_by_month"]
            expected = oracle.indicators(shared.data[code], period.start, period.end)
            reported = [m["reported"] for m in months]
            if expected["dcm.reported"] is None:
                assert set(reported) == {None}, code  # 数据缺失, never 0
            else:
                assert sum(reported) == expected["dcm.reported"], code
        own = compute(con, period, shared.city.settings_for(LONGHU))["indicators"]
        assert con.execute("SELECT getvariable('ur_districts')").fetchone()[0] == [LONGHU]
    assert (
        own["dcm.reported"]
        == oracle.indicators(shared.data[LONGHU], period.start, period.end)["dcm.reported"]
    )


@pytest.mark.parametrize("label", PERIODS)
def test_the_city_figures_are_a_recomputation_over_the_districts_records(
    shared: Shared, label: str
) -> None:
    period = Period.parse(label)
    figures = figures_of(shared, label)
    expected = oracle.city_indicators(shared.data, period.start, period.end)
    assert_oracle(figures.total["indicators"], expected, f"city {label}")
    previous = oracle.city_indicators(shared.data, *oracle.year_earlier(period.start, period.end))
    assert_oracle(figures.total["previous"], previous, f"city {label} a year earlier")
    assert [(d.code, d.name) for d in figures.districts] == [
        (LONGHU, "龙湖区"),
        (JINPING, "金平区"),
        (NANAO, "南澳县"),
    ]
    for district in figures.districts[:2]:
        own = oracle.indicators(shared.data[district.code], period.start, period.end)
        assert_oracle(district.figures["indicators"], own, f"{district.code} {label}")


def test_rates_come_from_counts_and_campaigns_add_up(shared: Shared) -> None:
    """Not an average of the districts' rates: the city's own numerator over its denominator."""
    figures = figures_of(shared, "2023")
    total, (longhu, jinping, _) = figures.total["indicators"], figures.districts
    a, b = longhu.figures["indicators"], jinping.figures["indicators"]
    targets = a["demolition.campaign_target_m2"] + b["demolition.campaign_target_m2"]
    done = a["demolition.campaign_area_m2"] + b["demolition.campaign_area_m2"]
    assert total["demolition.campaign_target_m2"] == targets
    assert total["demolition.campaign_area_m2"] == done
    assert total["demolition.campaign_progress"] == pytest.approx(float(done) / float(targets))
    cases = a["enforcement.penalty_cases"] + b["enforcement.penalty_cases"]
    assert total["enforcement.penalty_cases"] == cases
    rate = "permits.on_time_rate"
    if a[rate] != b[rate]:
        assert total[rate] != pytest.approx((a[rate] + b[rate]) / 2)


def test_a_district_without_data_is_missing_never_zero(shared: Shared) -> None:
    figures = figures_of(shared, "2023")
    nanao = figures.districts[2]
    assert not nanao.has_data
    assert set(nanao.figures["indicators"].values()) == {None}
    assert all(not q["rows_read"] for q in nanao.figures["quality"].values())
    machine = city_to_json(figures)
    assert machine["districts"][2]["has_data"] is False
    assert set(machine["districts"][2]["indicators"].values()) == {None}
    assert machine["city"] == {"code": "440500", "name": "汕头市"}


def run_cli(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("URBANREPORT_HOME", str(home))
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_gives_a_district_or_the_whole_city(
    shared: Shared, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    period = Period.parse("2023")
    code, out, _ = run_cli(
        shared.home, monkeypatch, capsys, "indicators", "--period", "2023", "--district", JINPING,
        "--json",
    )  # fmt: skip
    assert code == 0
    with warehouse.reader(shared.city.settings_for(JINPING)) as con:
        jinping = to_json(compute(con, period, shared.city.settings_for(JINPING)))
    assert json.loads(out) == json.loads(json.dumps(jinping, ensure_ascii=False))
    code, out, _ = run_cli(
        shared.home, monkeypatch, capsys, "indicators", "--period", "2023", "--city", "--json"
    )
    assert code == 0
    expected = city_to_json(figures_of(shared, "2023"))
    assert json.loads(out) == json.loads(json.dumps(expected, ensure_ascii=False))
    code, out, _ = run_cli(
        shared.home, monkeypatch, capsys, "indicators", "--period", "2023", "--city"
    )
    assert code == 0 and "汕头市（440500）全市" in out and "南澳县" in out and "数据缺失" in out
    code, _, err = run_cli(
        shared.home, monkeypatch, capsys, "indicators", "--period", "2023", "--district", "440599"
    )
    assert code == 2 and "440599" in err and "Traceback" not in err


def test_ingest_stamps_its_district_and_keys_are_per_district(tmp_path: Path) -> None:
    """The same file names and keys in two districts' inboxes: two records of case A1; each
    district's second run skips it; a correction in one district leaves the other's alone."""
    (tmp_path / "urbanreport.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "city.toml").write_text(CITY, encoding="utf-8")
    city = load_city(tmp_path)
    for code in (LONGHU, JINPING):
        settings = city.settings_for(code)
        street = settings.streets[0]  # each district's rows on a street of its own
        rows = [enforcement_row(case_id=f"A{i}", fine_yuan="100", street=street) for i in (1, 2)]
        folder = settings.source_inbox("enforcement")
        folder.mkdir(parents=True)
        write_rows_csv(folder / "2023-07.csv", rows)
    for code in (LONGHU, JINPING):
        loaded = ingest_all(city.settings_for(code))["enforcement"]
        assert [b.status for b in loaded] == ["loaded"], code
    for code in (LONGHU, JINPING):
        again = ingest_all(city.settings_for(code))["enforcement"]
        assert [b.status for b in again] == ["skipped"], code
    folder = city.settings_for(JINPING).source_inbox("enforcement")
    fix = enforcement_row(case_id="A1", fine_yuan="50", street="石炮台")
    write_rows_csv(folder / "2023-08.csv", [fix])
    ingest_all(city.settings_for(JINPING))
    with warehouse.reader(city.settings_for(LONGHU)) as con:
        assert count(con, "enforcement") == 4
        fines = con.execute(
            "SELECT district, fine_yuan FROM enforcement WHERE case_id = 'A1' ORDER BY district"
        ).fetchall()
        assert [(d, str(f)) for d, f in fines] == [(LONGHU, "100.00"), (JINPING, "50.00")]
        batches = con.execute("SELECT district, count(*) FROM batches GROUP BY ALL ORDER BY 1")
        assert batches.fetchall() == [(LONGHU, 1), (JINPING, 2)]
        ids = [r[0] for r in con.execute("SELECT batch_id FROM batches").fetchall()]
        assert len(set(ids)) == 3

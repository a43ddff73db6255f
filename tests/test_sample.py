"""The sample extracts: deterministic, in the bureau's formats, growing, and calibrated.

The published 2023 figures are computed here straight from the files by a deliberately simple
reader of the data contract (headers mapped, files taken by mtime then name, newest version per
key wins, rows that break a value rule skipped), so the calibration is proven independently of
the ingest. A second, slower test loads the sample through the ingest and asks the warehouse.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import chinese_calendar
import polars as pl
import pytest
import zhconv

from tests.factories import make_settings
from urbanreport.core.config import Settings, load_settings
from urbanreport.sample import SOURCES, write_sample

YEARS = [2022, 2023, 2024]
FY_START, FY_END = date(2023, 1, 1), date(2023, 12, 31)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The default sample (2022–2024, scale 1), written once for the read-only tests."""
    settings = load_settings(home=tmp_path_factory.mktemp("sample"))
    write_sample(settings, YEARS)
    return settings


# --- a straightforward reader of the data contract --------------------------------------------


class Refused(ValueError):
    """A value breaks a rule of the contract, so its row is not loaded."""


def _files(settings: Settings, source: str) -> list[Path]:
    folder = settings.source_inbox(source)
    files = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _raw_rows(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix == ".jsonl":
        for line in path.read_text(encoding="utf-8").splitlines():
            yield json.loads(line)
    elif path.suffix == ".xlsx":
        yield from pl.read_excel(path, infer_schema_length=0).iter_rows(named=True)
    else:
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        yield from csv.DictReader(io.StringIO(text))


def read_source(settings: Settings, source: str, skip_jsonl: bool = False) -> list[dict]:
    """Every row of every file, oldest file first, keyed by canonical field name."""
    fields = settings.sources[source]["fields"]
    names = {f["header"].lower(): f["name"] for f in fields}
    names.update({f["name"].lower(): f["name"] for f in fields})
    rows = []
    for path in _files(settings, source):
        if skip_jsonl and path.suffix == ".jsonl":
            continue
        for raw in _raw_rows(path):
            row = {}
            for header, value in raw.items():
                if header.strip().lower() in names:
                    text = None if value is None else str(value).strip()
                    row[names[header.strip().lower()]] = text or None
            rows.append(row)
    return rows


def parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            pass
    raise Refused(f"date {value!r}")


def parse_money(value: str | None) -> Decimal:
    if value is None:
        return Decimal(0)
    text = value.replace(",", "").removeprefix("¥").removesuffix("元").removesuffix("平方米")
    amount = Decimal(text)
    if amount < 0:
        raise Refused(f"negative {value!r}")
    return amount


def parse_street(value: str | None, streets: list[str]) -> str:
    """Traditional → Simplified, inline pinyin dropped, 街道 optional."""
    text = re.sub(r"\([^)]*\)", "", zhconv.convert(value or "", "zh-hans")).strip()
    text = text.removesuffix("街道")
    if text not in streets:
        raise Refused(f"street {value!r}")
    return text


def is_yes(value: str | None) -> bool:
    return (value or "").lower() in {"是", "y", "true", "1"}


def newest(rows: list[dict], key: str, check: Callable[[dict], dict]) -> tuple[dict, int]:
    """The newest valid version of each record, and how many rows were refused."""
    current: dict[str, dict] = {}
    refused = 0
    for row in rows:
        try:
            if not row.get(key):
                raise Refused("missing key")
            current[row[key]] = check(row)
        except (Refused, ArithmeticError):
            refused += 1
    return current, refused


def enforcement(settings: Settings, skip_jsonl: bool = False) -> tuple[dict, int]:
    def check(row: dict) -> dict:
        filed = parse_date(row["filed_date"])
        decided, closed = parse_date(row.get("decided_date")), parse_date(row.get("closed_date"))
        if (decided and decided < filed) or (closed and closed < filed):
            raise Refused("before filing")
        return row | {
            "filed": filed,
            "decided": decided,
            "disclosed": parse_date(row.get("disclosed_date")),
            "reviewed": parse_date(row.get("review_date")),
            "street": parse_street(row["street"], settings.streets),
            "fine": parse_money(row.get("fine_yuan")),
            "major": is_yes(row.get("is_major")),
            "legal_review": is_yes(row.get("legal_review")),
        }

    return newest(read_source(settings, "enforcement", skip_jsonl), "case_id", check)


def permits(settings: Settings) -> tuple[dict, int]:
    def check(row: dict) -> dict:
        received, decided = parse_date(row["received_date"]), parse_date(row.get("decided_date"))
        if decided and decided < received:
            raise Refused("decided before received")
        fee = parse_money(row.get("fee_yuan"))
        return row | {"received": received, "decided": decided, "fee": fee}

    return newest(read_source(settings, "permits"), "permit_id", check)


def demolition(settings: Settings) -> tuple[dict, int]:
    def check(row: dict) -> dict:
        area = parse_money(row["area_m2"])
        if area <= 0:
            raise Refused("area")
        street = parse_street(row["street"], settings.streets)
        return row | {"day": parse_date(row["demolished_date"]), "area": area, "street": street}

    return newest(read_source(settings, "demolition"), "record_id", check)


def targets(settings: Settings) -> tuple[list[dict], int]:
    good, refused = [], 0
    for row in read_source(settings, "demolition_targets"):
        try:
            if row["street"] != settings["district"]["whole_district"]:
                parse_street(row["street"], settings.streets)
        except Refused:
            refused += 1
            continue
        good.append(row)
    return good, refused


def legal(settings: Settings) -> tuple[list[dict], int]:
    good, refused = [], 0
    for row in read_source(settings, "legal_activities"):
        people = row.get("participants")
        try:
            if people is not None and not people.isdigit():
                raise Refused("participants")
            good.append(row | {"day": parse_date(row["date"])})
        except Refused:
            refused += 1
    return good, refused


def dcm(settings: Settings) -> pl.DataFrame:
    """Every dcm row (oldest file first) with parsed `_…` timestamps and a `valid` flag."""
    rename = {f["header"]: f["name"] for f in settings.sources["dcm_cases"]["fields"]}
    frames = [
        pl.read_csv(p, infer_schema=False).rename(rename, strict=False)
        for p in _files(settings, "dcm_cases")
    ]
    df = pl.concat(frames).with_columns(pl.all().str.strip_chars().replace("", None))
    lifecycle = ["reported_at", "registered_at", "dispatched_at", "disposed_at", "closed_at"]
    df = df.with_columns(
        [
            pl.col(c).str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S", strict=False).alias(f"_{c}")
            for c in [*lifecycle, "deadline_at"]
        ]
    )
    in_order = pl.lit(True)
    for earlier, later in zip(lifecycle, lifecycle[1:], strict=False):
        a, b = pl.col(f"_{earlier}"), pl.col(f"_{later}")
        in_order = in_order & (a.is_null() | b.is_null() | (a <= b))
    parsed = pl.all_horizontal(
        [pl.col(c).is_null() == pl.col(f"_{c}").is_null() for c in [*lifecycle, "deadline_at"]]
    )
    valid = (
        pl.col("case_id").is_not_null()
        & pl.col("_reported_at").is_not_null()
        & parsed
        & pl.col("street").str.strip_suffix("街道").is_in(settings.streets)
        & in_order
        & (pl.col("dispatched_at").is_null() | pl.col("deadline_at").is_not_null())
    )
    return df.with_columns(valid=valid)


def dcm_cases(frame: pl.DataFrame) -> pl.DataFrame:
    """The newest valid version of each dcm case."""
    return frame.filter("valid").unique("case_id", keep="last", maintain_order=True)


def wd(a: date, b: date) -> int:
    """Working days d with a < d ≤ b (INDICATORS.md)."""
    return len(chinese_calendar.get_workdays(a, b)) - int(chinese_calendar.is_workday(a))


def penalties(cases: dict, start: date = FY_START, end: date = FY_END) -> list[dict]:
    return [
        c
        for c in cases.values()
        if c["decided"]
        and start <= c["decided"] <= end
        and c.get("penalty_type") not in (None, "不予处罚")
    ]


@dataclass(frozen=True)
class Parsed:
    """The default sample as the reader above sees it: (newest records, refused rows)."""

    enforcement: tuple[dict, int]
    permits: tuple[dict, int]
    demolition: tuple[dict, int]
    targets: tuple[list[dict], int]
    legal: tuple[list[dict], int]
    dcm: pl.DataFrame


@pytest.fixture(scope="module")
def parsed(sample: Settings) -> Parsed:
    """Parsed once: the reader is plain Python and several tests look at the same records."""
    return Parsed(
        enforcement(sample),
        permits(sample),
        demolition(sample),
        targets(sample),
        legal(sample),
        dcm(sample),
    )


# --- determinism and housekeeping -------------------------------------------------------------


def _snapshot(settings: Settings) -> dict[str, tuple[bytes, int]]:
    """Every sample file's bytes and mtime, by path under the inbox."""
    return {
        p.relative_to(settings.inbox).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(settings.inbox.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def test_same_seed_same_bytes_and_mtimes_other_seed_differs(tmp_path: Path) -> None:
    homes = [load_settings(home=tmp_path / name) for name in ("a", "b", "c")]
    for settings, seed in zip(homes, (20231231, 20231231, 7), strict=True):
        write_sample(settings, [2023], seed=seed)
    first, second, other = (_snapshot(s) for s in homes)
    assert first == second
    assert first.keys() == other.keys()
    assert sum(first[name][0] != other[name][0] for name in first) > len(first) / 2


def test_adding_a_year_leaves_the_other_years_files_unchanged(tmp_path: Path, sample) -> None:
    alone = load_settings(home=tmp_path)
    write_sample(alone, [2023])
    full = _snapshot(sample)
    for name, content in _snapshot(alone).items():
        if "targets" not in name:  # one file listing the campaigns of the requested years
            assert full[name] == content, name


def test_returns_every_file_it_writes(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    paths = write_sample(settings, [2023])
    on_disk = {p for p in settings.inbox.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert sorted(paths) == sorted(on_disk)
    assert {p.parent.name for p in paths} == set(SOURCES)
    assert all(settings.home in p.parents for p in paths)


def test_rerun_replaces_its_own_files_and_nothing_else(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    write_sample(settings, [2022, 2023])
    old = settings.source_inbox("enforcement") / "行政处罚案件_2022-03.csv"
    assert old.exists()
    foreign = settings.source_inbox("enforcement") / "局里手工补录.csv"
    foreign.write_text("案件编号\n", encoding="utf-8")

    write_sample(settings, [2023])
    assert not old.exists()
    assert not list(settings.inbox.rglob("*2022-*"))
    assert foreign.read_text(encoding="utf-8") == "案件编号\n"

    # Someone replaced a sample file: the next run refuses before touching anything.
    replaced = settings.source_inbox("permits") / "行政许可办件_2023-05.xlsx"
    replaced.write_bytes(b"a clerk's own workbook")
    before = _snapshot(settings)
    with pytest.raises(RuntimeError, match="不是示例程序写入的"):
        write_sample(settings, [2023])
    assert _snapshot(settings) == before


# --- formats -----------------------------------------------------------------------------------


def test_enforcement_csv_is_gb18030_with_a_later_json_lines_correction(sample) -> None:
    folder = sample.source_inbox("enforcement")
    raw = (folder / "行政处罚案件_2023-07.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("gb18030").startswith("案件编号,立案日期,处罚决定日期")

    fix = folder / "enforcement_corrections_2023.jsonl"
    first = json.loads(fix.read_text(encoding="utf-8").splitlines()[0])
    assert {"case_id", "fine_yuan", "decided_date"} <= first.keys()
    monthly = [p.stat().st_mtime_ns for p in folder.glob("行政处罚案件_2023-*.csv")]
    assert fix.stat().st_mtime_ns > max(monthly)


def test_corrections_change_the_figures(sample, parsed) -> None:
    before, _ = enforcement(sample, skip_jsonl=True)
    after, _ = parsed.enforcement
    count_before = len(penalties(before)), sum(c["fine"] for c in penalties(before))
    count_after = len(penalties(after)), sum(c["fine"] for c in penalties(after))
    assert count_before != count_after


def test_demolition_csv_has_bom_mixed_dates_and_street_spellings(sample) -> None:
    folder = sample.source_inbox("demolition")
    assert (folder / "违法建设拆除_2023-07.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    text = "".join(p.read_text(encoding="utf-8-sig") for p in sorted(folder.glob("*.csv")))
    assert "鷗汀" in text and "龍華" in text
    assert re.search(r",[^,]*[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔù]+\)街道,", text)
    assert re.search(r",\d{4}/\d{1,2}/\d{1,2},", text)
    assert re.search(r",\d{4}\.\d{2}\.\d{2},", text)
    assert re.search(r",\d{1,3},\d{3}\.\d{2}平方米,|,\"\d{1,3},\d{3}\.\d{2}平方米\",", text)


def test_workbooks_open_with_polars(sample) -> None:
    books = [*sample.inbox.glob("permits/*.xlsx"), *sample.inbox.glob("legal_activities/*.xlsx")]
    assert len(books) == 12 * len(YEARS) + len(YEARS)
    for path in books:
        assert pl.read_excel(path, infer_schema_length=0).height > 0, path

    folder = sample.source_inbox("permits")
    real_dates = pl.read_excel(folder / "行政许可办件_2023-07.xlsx")
    assert real_dates.schema["受理日期"] in (pl.Datetime("ms"), pl.Datetime("us"), pl.Date)
    text_dates = pl.read_excel(folder / "行政许可办件_2023-08.xlsx", infer_schema_length=0)
    assert text_dates["受理日期"].str.contains(r"^2023年\d{1,2}月\d{1,2}日$").all()
    fees = text_dates["收费金额(元)"].drop_nulls()
    assert fees.str.contains(r"^\d{1,3}(,\d{3})*\.\d{2}$").all()
    assert fees.str.contains(",").any()

    log = pl.read_excel(sample.source_inbox("legal_activities") / "学法普法活动台账_2023.xlsx")
    assert log.columns[:5] == ["序号", "日期", "活动类型", "主题", "参与人数"]


def test_dcm_csv_timestamps(sample) -> None:
    path = sample.source_inbox("dcm_cases") / "数字城管案件_2023-07.csv"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("案件编号,案件来源,案件类型,大类,小类,街道,上报时间")
    assert re.search(r",2023-07-\d\d \d\d:\d\d:\d\d,", text)


def test_files_carry_the_export_time_as_mtime(sample) -> None:
    path = sample.source_inbox("dcm_cases") / "数字城管案件_2023-07.csv"
    exported = datetime.fromisoformat("2023-08-01T02:00:00+08:00")
    assert path.stat().st_mtime == exported.timestamp()


def test_personal_data_is_fake_but_well_formed(parsed) -> None:
    cases, _ = parsed.enforcement
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    ids = [c["party_id"] for c in cases.values() if c.get("party_id")]
    assert ids and all(len(i) == 18 for i in ids)
    people = [i for i in ids if not i.startswith("91")]
    assert len(people) > len(ids) / 2
    for pid in people:
        total = sum(int(d) * w for d, w in zip(pid[:17], weights, strict=True))
        assert pid[17] == "10X98765432"[total % 11], pid
    names = [c["party_name"] for c in cases.values() if c.get("party_name")]
    assert all(2 <= len(n) <= 3 or n.endswith("有限公司") for n in names)


def test_workbooks_carry_the_export_time_not_the_clock(sample) -> None:
    """xlsxwriter stamps the document with the clock unless told otherwise."""
    path = sample.source_inbox("permits") / "行政许可办件_2023-07.xlsx"
    with zipfile.ZipFile(path) as book:
        core = book.read("docProps/core.xml").decode("utf-8")
        app = book.read("docProps/app.xml").decode("utf-8")
        assert {i.date_time for i in book.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    stamps = re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]+)<", core)
    assert stamps == ["2023-07-31T18:00:00Z"] * 2  # 2023-08-01 02:00 Beijing time
    assert "<Company>汕头市龙湖区城市管理和综合执法局</Company>" in app


# --- the configured district and dictionaries --------------------------------------------------

#: Another district of the city, with towns among its divisions and dictionaries of its own.
CHAOYANG = """
[bureau]
name = "汕头市潮阳区城市管理和综合执法局"
district = "潮阳区"
division_code = "440513"

[district]
streets = ["文光街道", "棉北", "城南街道", "金浦", "海门镇", "谷饶镇", "贵屿镇", "關埠鎮"]

[dictionaries]
enforcement_categories = ["市容环境卫生", "占道经营", "违法建设", "燃气安全"]
permit_items = ["临时占用城市道路审批", "城市建筑垃圾处置核准", "燃气经营许可"]
dcm_sources = ["监督员上报", "12345热线", "智慧城管巡查"]
"""


@pytest.fixture(scope="module")
def chaoyang(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = make_settings(tmp_path_factory.mktemp("chaoyang"), CHAOYANG)
    write_sample(settings, [2023])
    return settings


def test_the_sample_writes_the_configured_streets_and_dictionaries(chaoyang: Settings) -> None:
    assert chaoyang.streets == [
        "文光",
        "棉北",
        "城南",
        "金浦",
        "海门镇",
        "谷饶镇",
        "贵屿镇",
        "关埠镇",
    ]
    cases, refused = enforcement(chaoyang)  # refuses any street that is not configured
    assert refused <= 10  # the deliberately bad rows only
    assert {c["street"] for c in cases.values()} == set(chaoyang.streets)
    assert {c["category"] for c in cases.values()} == {
        "市容环境卫生",
        "占道经营",
        "违法建设",
        "燃气安全",
    }
    raw = {r["street"] for r in read_source(chaoyang, "enforcement")}
    assert {"海门镇", "文光街道"} <= raw and "海门镇街道" not in raw  # a town keeps its own suffix
    granted, _ = permits(chaoyang)
    assert {p["item_name"] for p in granted.values()} == {
        "临时占用城市道路审批", "城市建筑垃圾处置核准", "燃气经营许可",
    }  # fmt: skip
    frame = dcm_cases(dcm(chaoyang))
    assert set(frame["source"].unique()) == {"监督员上报", "12345热线", "智慧城管巡查"}
    sites, _ = demolition(chaoyang)
    assert {s["street"] for s in sites.values()} == set(chaoyang.streets)
    assert all(s["address"].startswith("潮阳区") for s in sites.values())


def test_another_district_is_not_calibrated_to_the_published_figures(chaoyang) -> None:
    """Only the district whose report the sample reproduces is calibrated: another one is
    drawn around the same volumes per street (8 streets here, 10 in 龙湖区), and its record
    keys carry its own initials."""
    cases, _ = enforcement(chaoyang)
    punished = penalties(cases)
    assert abs(len(punished) - 936 * 8 / 10) <= 0.02 * 936 * 8 / 10
    assert sum(c["fine"] for c in punished) != Decimal("3009408")
    assert all(key.startswith("CYCF20") for key in cases)


def test_the_wrong_street_is_a_real_street_of_a_neighbouring_district(chaoyang, sample) -> None:
    """The target the ingest must refuse names the first street of another district of the
    city (in division-code order) that is not one of the configured streets."""
    for settings, expected in ((chaoyang, "金霞街道"), (sample, "石炮台街道")):
        streets = {r["street"] for r in read_source(settings, "demolition_targets")}
        assert streets - {"全区", *settings.streets} == {expected}


def test_a_dictionary_without_a_value_the_sample_needs_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, '[dictionaries]\npermit_channels = ["窗口", "自助终端"]\n')
    with pytest.raises(ValueError, match="permit_channels"):
        write_sample(settings, [2023])


# --- the published 2023 figures, straight from the files ---------------------------------------


def test_published_2023_figures_from_the_files(parsed) -> None:
    cases, _ = parsed.enforcement
    punished = penalties(cases)
    assert len(punished) == 936
    assert sum(c["fine"] for c in punished) == Decimal("3009408")

    granted, _ = parsed.permits
    received = [p for p in granted.values() if FY_START <= p["received"] <= FY_END]
    assert len(received) == 502
    assert all(p["decided"] and p["decided"] <= FY_END for p in received)
    decided = [p for p in granted.values() if p["decided"] and FY_START <= p["decided"] <= FY_END]
    assert any(p["received"].year == 2022 for p in decided)  # late 2022 cases, decided in 2023
    assert sum(p["fee"] for p in decided) == Decimal("496793.68")

    sites, _ = parsed.demolition
    goals, _ = parsed.targets
    district = [
        t
        for t in goals
        if t["street"] == "全区"
        and parse_date(t["start_date"]) <= FY_END
        and parse_date(t["end_date"]) >= FY_START
    ]
    campaign = max(district, key=lambda t: parse_date(t["start_date"]))
    start = parse_date(campaign["start_date"])
    end = min(parse_date(campaign["end_date"]), FY_END)
    area = sum(s["area"] for s in sites.values() if start <= s["day"] <= end)
    assert (campaign["campaign"], start) == ("2023年违法建设专项治理", date(2023, 7, 1))
    assert parse_money(campaign["target_m2"]) == 1_200_000
    assert area == Decimal("936292.39")
    assert round(area / parse_money(campaign["target_m2"]), 4) == Decimal("0.7802")
    whole_year = sum(s["area"] for s in sites.values() if s["day"].year == 2023)
    assert whole_year > area  # demolitions before the campaign started


def test_scale_multiplies_volumes_and_keeps_the_calibration(tmp_path: Path, parsed) -> None:
    big = load_settings(home=tmp_path)
    write_sample(big, [2023], scale=3)
    one = parsed.dcm.filter(pl.col("_reported_at").dt.year() == 2023).height
    three = dcm(big).filter(pl.col("_reported_at").dt.year() == 2023).height
    assert 2.8 <= three / one <= 3.2
    cases, _ = enforcement(big)
    punished = penalties(cases)
    assert (len(punished), sum(c["fine"] for c in punished)) == (3 * 936, 3 * 3009408)


def test_bad_rows_are_few_present_in_every_source_and_refused(parsed) -> None:
    frame = parsed.dcm
    refused = {
        "enforcement": parsed.enforcement[1],
        "permits": parsed.permits[1],
        "demolition": parsed.demolition[1],
        "demolition_targets": parsed.targets[1],
        "legal_activities": parsed.legal[1],
        "dcm_cases": frame.filter(~pl.col("valid")).height,
    }
    assert all(refused[s] >= 1 for s in SOURCES), refused
    assert all(refused[s] >= 3 for s in ("enforcement", "permits", "demolition")), refused
    assert 0.001 <= refused["dcm_cases"] / frame.height <= 0.004


# --- volumes and realism -----------------------------------------------------------------------


def test_dcm_volume_is_about_20k_a_year_and_grows(parsed) -> None:
    cases = dcm_cases(parsed.dcm)
    per_year = dict(
        cases.group_by(pl.col("_reported_at").dt.year().alias("y")).len().sort("y").iter_rows()
    )
    assert 19_000 <= per_year[2023] <= 21_000
    assert per_year[2022] < per_year[2023] < per_year[2024]


def test_other_case_volumes_grow_year_on_year(parsed) -> None:
    cases, _ = parsed.enforcement
    granted, _ = parsed.permits
    sites, _ = parsed.demolition
    series = {
        "penalties": [len(penalties(cases, date(y, 1, 1), date(y, 12, 31))) for y in YEARS],
        "permits": [sum(p["received"].year == y for p in granted.values()) for y in YEARS],
        "demolitions": [sum(s["day"].year == y for s in sites.values()) for y in YEARS],
    }
    for name, counts in series.items():
        assert counts[0] < counts[1] < counts[2], (name, counts)


def test_2023_enforcement_looks_real(parsed) -> None:
    cases, _ = parsed.enforcement
    punished = penalties(cases)
    major = [c for c in punished if c["major"]]
    assert 15 <= len(major) <= 80
    assert 0.95 <= sum(c["legal_review"] for c in major) / len(major) <= 1
    on_time = [c for c in punished if c["disclosed"] and wd(c["decided"], c["disclosed"]) <= 7]
    assert 0.9 <= len(on_time) / len(punished) < 1
    decided = [c for c in cases.values() if c["decided"] and c["decided"].year == 2023]
    late = [c for c in decided if (c["decided"] - c["filed"]).days > 90]
    assert 1 <= len(late) <= 20
    reviews = [c for c in cases.values() if c["reviewed"] and c["reviewed"].year == 2023]
    assert reviews and any(c["review_outcome"] in ("纠错", "败诉") for c in reviews)
    fines = [c["fine"] for c in punished if c["penalty_type"] == "罚款"]
    assert sum(f % 50 == 0 for f in fines) / len(fines) > 0.95
    assert all(c["fine"] == 0 for c in punished if c["penalty_type"] != "罚款")


def test_2023_permits_and_legal_log_look_real(parsed) -> None:
    granted, _ = parsed.permits
    received = [p for p in granted.values() if p["received"].year == 2023]
    in_time = [p for p in received if wd(p["received"], p["decided"]) <= int(p["promised_days"])]
    assert 0.9 <= len(in_time) / len(received) < 1
    assert 0.7 <= sum(p["channel"] == "网上" for p in received) / len(received) <= 0.85
    yes = [p for p in received if p["status"] == "准予许可"]
    assert 0.75 <= sum(is_yes(p["e_license"]) for p in yes) / len(yes) < 1
    open_2024 = [
        p
        for p in granted.values()
        if p["received"].year == 2024 and (p["decided"] is None or p["decided"].year > 2024)
    ]
    assert open_2024  # other years do leave cases pending at year end

    log, _ = parsed.legal
    kinds: dict[str, int] = {}
    for row in log:
        if row["day"].year == 2023:
            kinds[row["activity_type"]] = kinds.get(row["activity_type"], 0) + 1
    assert (kinds["党组学法"], kinds["中心组学习"], kinds["执法培训"]) == (12, 10, 8)
    assert 25 <= kinds["普法宣传"] <= 35


def test_2023_dcm_lifecycle_looks_real(parsed) -> None:
    cohort = dcm_cases(parsed.dcm).filter(pl.col("_reported_at").dt.year() == 2023)
    due = pl.col("_deadline_at").is_not_null()
    shares = cohort.select(
        registered=pl.col("_registered_at").is_not_null().mean(),
        hotline=(pl.col("source") == "12345热线").mean(),
        reworked=(pl.col("rework_count").cast(pl.Int64) > 0).mean(),
        in_time=(pl.col("_disposed_at") <= pl.col("_deadline_at")).sum() / due.sum(),
    ).row(0, named=True)
    assert 0.91 <= shares["registered"] <= 0.95
    assert 0.27 <= shares["hotline"] <= 0.33
    assert 0.02 <= shares["reworked"] <= 0.04
    assert 0.85 <= shares["in_time"] <= 0.97
    assert cohort.filter(pl.col("_closed_at").dt.year() == 2024).height > 0  # year-end cases


# --- through the ingest ------------------------------------------------------------------------


@pytest.mark.slow
def test_ingested_sample_gives_the_published_figures(tmp_path: Path) -> None:
    ingest = pytest.importorskip("urbanreport.ingest.batches")
    from urbanreport.core import warehouse

    settings = load_settings(home=tmp_path)
    write_sample(settings, [2023])
    ingest.ingest_all(settings)
    with warehouse.reader(settings) as con:

        def one(sql: str) -> tuple:
            return con.execute(sql).fetchone()

        assert one(
            "SELECT count(*), sum(fine_yuan) FROM enforcement"
            " WHERE decided_date BETWEEN '2023-01-01' AND '2023-12-31'"
            " AND penalty_type IS NOT NULL AND penalty_type <> '不予处罚'"
        ) == (936, Decimal("3009408.00"))
        assert one(
            "SELECT count(*), count(*) FILTER (WHERE decided_date <= DATE '2023-12-31')"
            " FROM permits WHERE received_date BETWEEN '2023-01-01' AND '2023-12-31'"
        ) == (502, 502)
        assert one(
            "SELECT sum(fee_yuan) FROM permits"
            " WHERE decided_date BETWEEN '2023-01-01' AND '2023-12-31'"
        ) == (Decimal("496793.68"),)
        area, target = one(
            "WITH c AS (SELECT start_date, least(end_date, DATE '2023-12-31') AS stop, target_m2"
            "  FROM demolition_targets WHERE street = '全区'"
            "  AND start_date <= DATE '2023-12-31' AND end_date >= DATE '2023-01-01'"
            "  ORDER BY start_date DESC LIMIT 1)"
            " SELECT sum(d.area_m2), any_value(c.target_m2) FROM demolition d, c"
            " WHERE d.demolished_date BETWEEN c.start_date AND c.stop"
        )
        assert (area, target) == (Decimal("936292.39"), Decimal("1200000.00"))
        assert round(area / target, 4) == Decimal("0.7802")
        refused = {row[0] for row in con.execute("SELECT DISTINCT source FROM rejects").fetchall()}
        assert refused == set(SOURCES)

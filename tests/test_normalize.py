"""Text-dimension normalisation: trim, full-width, Traditional→Simplified, pinyin annotations,
the 街道 suffix; every configured dictionary value is left as it is; the characters of mainland
place names survive the Traditional→Simplified step; the configuration is normalised alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import (
    check_batch,
    dcm_row,
    enforcement_row,
    inbox,
    make_settings,
    record,
    rejects,
    target_row,
    write_rows_csv,
)
from urbanreport import cli
from urbanreport.core import normalize, warehouse
from urbanreport.core.config import load_settings
from urbanreport.core.normalize import STREET_SUFFIX, match_dictionary, normalize_text
from urbanreport.ingest.batches import ingest_source

SETTINGS = load_settings(home=Path("unused-home"))
STREETS = SETTINGS.streets


def dictionary_values() -> list[str]:
    values: list[str] = []
    for entry in SETTINGS["dictionaries"].values():
        if isinstance(entry, dict):
            for allowed in entry.values():
                values.extend(allowed)
        else:
            values.extend(entry)
    return (
        values
        + STREETS
        + [s + STREET_SUFFIX for s in STREETS]
        + [SETTINGS["district"]["whole_district"]]
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("龍湖區", "龙湖区"),
        ("鷗汀街道", "鸥汀街道"),
        ("區(qū)", "区"),
        ("區（qū）", "区"),  # full-width parentheses
        ("龍(lóng)湖(hú)區(qū)", "龙湖区"),
        ("龙华(hua2)", "龙华"),  # tone digit instead of a tone mark
        ("外砂（wài shā）", "外砂"),
        ("  金霞  ", "金霞"),
        ("\u3000金霞\u3000", "金霞"),  # ideographic spaces
        ("金 霞", "金霞"),
        ("１２３４５熱線", "12345热线"),  # full-width digits
        ("ＡＢＣ", "ABC"),
        ("佔道經營", "占道经营"),
        ("市容環境衛生", "市容环境卫生"),
        ("群眾舉報", "群众举报"),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("value", dictionary_values())
def test_every_dictionary_value_is_a_fixed_point(value: str) -> None:
    assert normalize_text(value) == value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("鸥汀", "鸥汀"),
        ("鸥汀街道", "鸥汀"),
        ("鷗汀街道", "鸥汀"),
        ("鷗汀", "鸥汀"),
        (" 龍華街道 ", "龙华"),
        ("龙(lóng)腾(téng)街道", "龙腾"),
        ("新溪街道", "新溪"),
        ("新溪街", None),  # half a suffix is not a street
        ("湖南街道", None),  # not a street of this district
        ("街道", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_match_street_with_or_without_suffix(raw: str | None, expected: str | None) -> None:
    assert match_dictionary(raw, STREETS, STREET_SUFFIX) == expected


def test_suffix_only_applies_where_asked() -> None:
    categories = SETTINGS["dictionaries"]["enforcement_categories"]
    assert match_dictionary("违法建设", categories) == "违法建设"
    assert match_dictionary("違法建設", categories) == "违法建设"
    assert match_dictionary("违法建设街道", categories) is None


def test_normalised_values_load_as_dictionary_values(tmp_path: Path) -> None:
    """Traditional, full-width, annotated and suffixed spellings all land on the canonical value."""
    settings = make_settings(tmp_path)
    spellings = {
        "N1": ("鷗汀街道", "佔道經營"),
        "N2": ("  鸥汀 ", "占道经营"),
        "N3": ("鷗(ōu)汀(tīng)", "占道經營"),
        "N4": ("鸥汀街道", "　占道经营　"),
    }
    write_rows_csv(
        inbox(settings, "enforcement") / "n.csv",
        [enforcement_row(case_id=k, street=s, category=c) for k, (s, c) in spellings.items()],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "enforcement")
        check_batch(con, result, "enforcement")
        assert result.rows_loaded == 4, rejects(con)
        stored = con.execute("SELECT DISTINCT street, category FROM enforcement").fetchall()
        assert stored == [("鸥汀", "占道经营")]


def test_district_word_for_targets(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_rows_csv(
        inbox(settings, "demolition_targets") / "t.csv",
        [target_row(street="全區"), target_row(street="龍騰街道"), target_row(street="全市")],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "demolition_targets")
        check_batch(con, result, "demolition_targets")
        assert sorted(
            r[0] for r in con.execute("SELECT street FROM demolition_targets").fetchall()
        ) == [
            "全区",
            "龙腾",
        ]
        (bad,) = rejects(con)
        assert (bad["row_number"], bad["column_name"], bad["raw_value"]) == (4, "street", "全市")


def test_dcm_dictionaries_are_normalised(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write_rows_csv(
        inbox(settings, "dcm_cases") / "d.csv",
        [dcm_row(source="群眾舉報", case_class="部件", category="園林綠化設施", street="龍祥")],
    )
    with warehouse.writer(settings) as con:
        (result,) = ingest_source(con, settings, "dcm_cases")
        assert result.rows_loaded == 1, rejects(con)
        stored = record(con, "dcm_cases", "case_id", "DCM2023070001")
        assert (stored["source"], stored["case_class"], stored["category"], stored["street"]) == (
            "群众举报",
            "部件",
            "园林绿化设施",
            "龙祥",
        )


# --- the guarded Traditional → Simplified step --------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("鮀江街道", "鮀江街道"),  # not 𬶍江: the mainland place name keeps 鮀
        ("鮀蓮街道", "鮀莲街道"),  # the other characters still convert
        ("礐石", "礐石"),
        ("乾塘鎮", "乾塘镇"),  # not 干塘镇
        ("廻龍鎮", "廻龙镇"),
        ("鮀(tuó)江", "鮀江"),
        ("臚崗鎮", "胪岗镇"),
        # The price: 乾 stays even where it stands for 干; no dictionary value holds either.
        ("乾淨", "乾净"),
    ],
)
def test_place_name_characters_are_kept(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_a_conversion_out_of_gbk_keeps_the_character(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any character zhconv would turn into a form outside GBK stays as it is, even one no
    list names (here 鯗, which the table maps to 鲞, made to map to 𬶍 for the test)."""
    real = normalize.zhconv.convert

    def convert(text: str, locale: str) -> str:
        return real(text, locale).replace("鲞", "\U0002cd8d")

    monkeypatch.setattr(normalize.zhconv, "convert", convert)
    assert normalize.to_simplified("鯗魚") == "鯗鱼"


# --- configured dictionaries go through the same normaliser --------------------------------


def test_configured_values_are_normalised_like_incoming_ones(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        '[district]\nstreets = ["鷗汀街道", " 龍華 ", "鮀江街道", "海门镇"]\n'
        'whole_district = "全區"\n'
        '[dictionaries]\nenforcement_categories = ["佔道經營", "市容環境衛生"]\n'
        '[dictionaries.dcm_categories]\n"事件" = ["市容環境"]\n"部件" = ["園林綠化設施"]\n',
    )
    assert settings.streets == ["鸥汀", "龙华", "鮀江", "海门镇"]
    assert settings["district"]["whole_district"] == "全区"
    categories = settings["dictionaries"]["enforcement_categories"]
    assert categories == ["占道经营", "市容环境卫生"]
    assert settings["dictionaries"]["dcm_categories"] == {
        "事件": ["市容环境"],
        "部件": ["园林绿化设施"],
    }
    for name in settings.streets:  # a configured name always matches itself
        assert match_dictionary(name, settings.streets, STREET_SUFFIX) == name
    assert match_dictionary("鮀江街道", settings.streets, STREET_SUFFIX) == "鮀江"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('[district]\nstreets = ["鸥汀", "鷗汀街道"]\n', "district.streets"),
        ('[dictionaries]\npermit_channels = ["网上", "網上"]\n', "dictionaries.permit_channels"),
        ('[dictionaries]\nbuilding_types = ["新增违建", "  "]\n', "空值"),
    ],
)
def test_a_configuration_with_clashing_values_is_refused(
    tmp_path: Path, config: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_settings(tmp_path, config)


def test_the_command_line_reports_a_bad_configuration_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "urbanreport.toml").write_text('[district]\nstreets = ["鸥汀", "鷗汀"]\n', "utf-8")
    monkeypatch.setenv("URBANREPORT_HOME", str(tmp_path))
    monkeypatch.delenv("URBANREPORT_CONFIG", raising=False)
    assert cli.main(["rejects"]) == 2
    err = capsys.readouterr().err
    assert "district.streets" in err and "Traceback" not in err

"""The city file: which districts share a home, each with its own inbox, streets, dictionaries.

A home without one is a single district, exactly as before; the shipped 汕头市 file lists its
six districts and the county with their real streets.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.factories import make_settings
from urbanreport.core import districts
from urbanreport.core.city import SHANTOU_FILE, load_city
from urbanreport.core.config import ConfigError

SHANTOU = {
    "440507": "龙湖区",
    "440511": "金平区",
    "440512": "濠江区",
    "440513": "潮阳区",
    "440514": "潮南区",
    "440515": "澄海区",
    "440523": "南澳县",
}


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("URBANREPORT_CONFIG", "URBANREPORT_CITY", "URBANREPORT_HOME"):
        monkeypatch.delenv(name, raising=False)


def shantou_home(home: Path, city: str | None = None) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    if city is None:
        shutil.copyfile(SHANTOU_FILE, home / "city.toml")
    else:
        (home / "city.toml").write_text(city, encoding="utf-8")
    return home


def test_a_home_without_a_city_file_is_its_one_district(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert settings.district_code == "440507"
    assert settings.inbox == tmp_path / "inbox"
    assert settings.reports_dir == tmp_path / "reports"
    city = load_city(tmp_path)
    assert (city.code, city.name, city.single) == ("440500", "汕头市", True)
    assert [(d.code, d.name) for d in city.districts] == [("440507", "龙湖区")]
    assert city.settings_for("440507") == settings
    with pytest.raises(ConfigError, match="440511"):
        city.settings_for("440511")


def test_the_district_code_is_configuration_and_checked(tmp_path: Path) -> None:
    assert make_settings(tmp_path / "a", "[district]\ncode = 440511\n").district_code == "440511"
    legacy = make_settings(tmp_path / "b", '[bureau]\ndivision_code = "440513"\n')
    assert legacy.district_code == "440513"  # a configuration from before [district] code
    with pytest.raises(ConfigError, match="六位行政区划代码"):
        make_settings(tmp_path / "c", '[district]\ncode = "4405"\n')


def test_the_shipped_city_lists_shantous_districts_with_their_real_streets(
    tmp_path: Path,
) -> None:
    city = load_city(shantou_home(tmp_path))
    assert (city.code, city.name, city.single) == ("440500", "汕头市", False)
    assert {d.code: d.name for d in city.districts} == SHANTOU
    for code, name in SHANTOU.items():
        settings = city.settings_for(code)
        assert settings.district_code == code
        assert settings.home == tmp_path
        assert settings.warehouse_path == tmp_path / "warehouse.duckdb"
        assert settings.inbox == tmp_path / "inbox" / code
        assert settings.source_inbox("permits") == tmp_path / "inbox" / code / "permits"
        assert settings.reports_dir == tmp_path / "reports" / code
        assert sorted(settings.streets) == sorted(districts.districts()[code].streets)
        assert settings["bureau"]["district"] == name
        assert settings["bureau"]["name"] == f"汕头市{name}城市管理和综合执法局"
    assert city.settings_for("440523")["district"]["whole_district"] == "全县"
    assert city.settings_for("440511")["district"]["whole_district"] == "全区"


def test_the_homes_own_district_keeps_its_configuration(tmp_path: Path) -> None:
    """龙湖区 in the city is the single-district home's 龙湖区 (streets in the same order, same
    names), with only its inbox moved: its sample and figures stay the same."""
    single = make_settings(tmp_path / "single")
    longhu = load_city(shantou_home(tmp_path / "city")).settings_for("440507")
    assert longhu.streets == single.streets
    assert longhu["bureau"] == single["bureau"]
    assert longhu["dictionaries"] == single["dictionaries"]
    moved = {"inbox": "inbox", "reports": "reports"}
    assert longhu.data["district"] | moved == single.data["district"]


def test_a_district_overrides_its_streets_inbox_and_dictionaries(tmp_path: Path) -> None:
    city = load_city(
        shantou_home(
            tmp_path,
            '[city]\ncode = "440500"\n'
            '[districts.440511]\ninbox = "/srv/jinping-inbox"\nstreets = ["鮀江街道", "金砂"]\n'
            'short_name = "金平城管"\n'
            '[districts.440511.dictionaries]\nenforcement_categories = ["佔道經營", "其他"]\n'
            "[districts.440515]\n",
        )
    )
    assert city.name == "汕头市"  # from the division list when the file does not say
    jinping, chenghai = city.settings_for("440511"), city.settings_for("440515")
    assert jinping.inbox == Path("/srv/jinping-inbox")
    assert jinping.streets == ["鮀江", "金砂"]
    assert jinping["bureau"]["short_name"] == "金平城管"
    assert jinping["dictionaries"]["enforcement_categories"] == ["占道经营", "其他"]
    # The other dictionaries, and the other district's, stay the defaults.
    assert jinping["dictionaries"]["penalty_types"] == chenghai["dictionaries"]["penalty_types"]
    assert "占道经营" in chenghai["dictionaries"]["enforcement_categories"]
    assert len(chenghai["dictionaries"]["enforcement_categories"]) == 9
    assert chenghai["bureau"]["name"] == "汕头市澄海区城市管理和综合执法局"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[city]\ncode = "440500"\n[districts.440103]\n', "属于 广州市"),
        ('[city]\ncode = "440500"\n[districts.4405]\n', "六位行政区划代码"),
        ('[city]\ncode = "440500"\n[districts.440599]\nname = "新区"\n', "streets"),
        ('[city]\ncode = "440500"\n[districts.440511]\nstreet = ["金砂"]\n', "未知的键 street"),
        ('[city]\ncode = "440500"\n', "至少列出一个"),
        ("[city\n", "无法解析"),
    ],
)
def test_a_wrong_city_file_is_told_plainly(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_city(shantou_home(tmp_path, text)).settings_for("440599")


def test_the_city_file_can_live_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("URBANREPORT_CITY", str(SHANTOU_FILE))
    assert load_city(tmp_path).codes == list(SHANTOU)

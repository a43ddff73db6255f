"""Every output writes every figure the same way: the CLI, the Prefect artifact, the portal and
the PDF all go through `urbanreport.core.formatting`.

The values are chosen on the rounding edges (0.79375 is 0.793749… as a binary float, 0.005 of a
yuan, 3.45 working days), where a second formatter would show itself at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.reports_data import pdf_text, squeeze
from urbanreport import indicators
from urbanreport.core import catalogue, formatting, warehouse
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.periods import Period
from urbanreport.flows import pipeline
from urbanreport.ingest.batches import ingest_all
from urbanreport.portal import views
from urbanreport.reports import build, figures
from urbanreport.sample import write_sample
from urbanreport.terminal import indicators_table

#: A value per kind, each on a half-way point of its rounding.
EDGE = {
    "count": 936,
    "money": Decimal("496793.675"),
    "area": Decimal("936292.385"),
    "rate": 0.79375,
    "hours": Decimal("12.25"),
    "days": Decimal("3.45"),
}
EXPECTED = {
    "count": "936",
    "money": "496793.68",
    "area": "936292.39",
    "rate": "79.38%",
    "hours": "12.3",
    "days": "3.5",
}


def _result(period: str) -> dict[str, Any]:
    """A result shaped like `indicators.compute`, every figure on a rounding edge."""
    items = catalogue.indicators()
    current = {key: EDGE[item.kind] for key, item in items.items()}
    previous = {key: None for key in items}
    previous["permits.online_rate"] = 0.8
    current["demolition.campaign_progress"] = None
    return {
        "period": period,
        "indicators": current,
        "previous": previous,
        "missing": {"demolition.campaign_progress": "统计期内没有全区专项行动目标"},
        "empty": {"demolition.campaign_progress": "无专项行动"},
        "provisional": [],
        "quality": {},
    }


@pytest.mark.parametrize("period", ["2023", "2023-07"])
def test_cli_and_prefect_artifact_print_the_same_text(period: str) -> None:
    result = _result(period)
    cli = indicators_table(result)
    artifact = pipeline.indicator_table(result)
    for key, item in catalogue.indicators().items():
        text = formatting.figure(item, result["indicators"][key], result["empty"].get(key))
        if result["indicators"][key] is not None:
            assert text.startswith(EXPECTED[item.kind]) or text == EXPECTED[item.kind]
        assert f"| {item.name} | {text} |" in artifact, key
        assert text in cli, key
    assert "无专项行动" in cli and "无专项行动" in artifact
    # the change of a rate in 百分点, the same in both
    change = formatting.change("rate", 0.79375, 0.8)
    assert change == "-0.63个百分点"
    assert change in cli and change in artifact


# --- the reports and the portal, from the sample's own records ----------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("same-figures")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        mp.setenv("URBANREPORT_HOME", str(home))
        settings = load_settings(home=home)
        write_sample(settings, years=[2022, 2023])
        ingest_all(settings)
        yield settings


@pytest.mark.slow
@pytest.mark.parametrize(
    ("period", "entry_id"), [("2023", "headline"), ("2023-07", "brief_indicators")]
)
def test_the_pdf_the_cli_and_the_portal_agree_on_every_figure(
    sample: Settings, period: str, entry_id: str
) -> None:
    with warehouse.reader(sample) as con:
        result = indicators.compute(con, Period.parse(period), sample)
    entry = build.render(sample, Period.parse(period))
    printed = squeeze(pdf_text(entry.path.read_bytes()))
    cli = indicators_table(result)
    items = catalogue.indicators()
    for key in figures.entry(entry_id).rows:
        item, value = items[key], result["indicators"][key]
        text = formatting.figure(item, value, result["empty"].get(key))
        assert text in cli, key
        bare = text if value is None else formatting.number(item.kind, value)
        assert squeeze(bare) in printed, (key, bare)
        previous = result["previous"][key]
        if previous is not None:
            assert squeeze(formatting.number(item.kind, previous)) in printed, key
    # The portal shows the registered headline figures with the same formatter.
    for key, machine_value in entry.headline.items():
        item = items[key]
        shown = views.figure_text(item, machine_value)
        assert shown == formatting.figure(item, result["indicators"][key]), key

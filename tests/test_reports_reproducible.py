"""The same input files give the same report bytes, whichever data directory they are
ingested into and whenever: the 数据更新时间 a report prints is the newest extract's own
modification time, never the clock of the ingest. A rerun on unchanged data writes nothing."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from tests.reports_data import pdf_text, squeeze
from urbanreport.core import warehouse
from urbanreport.core.config import Settings, load_settings
from urbanreport.core.periods import Period
from urbanreport.ingest import batches
from urbanreport.reports.build import render

pytestmark = pytest.mark.slow

#: Two ingest clocks years apart: if any printed time came from them, the bytes would differ.
CLOCKS = (datetime(2024, 1, 5, 9, 30, 0), datetime(2031, 6, 30, 23, 59, 59))
PERIODS = ("2023", "2023-07")


def settings_for(home: Path) -> Settings:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("URBANREPORT_CONFIG", raising=False)
        return load_settings(home=home)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from urbanreport.sample import write_sample

    settings = settings_for(tmp_path_factory.mktemp("sample"))
    write_sample(settings, years=[2023])
    return settings.inbox


def ingest_at(home: Path, inbox: Path, clock: datetime) -> Settings:
    """Copy the inbox (files and their modification times) into `home` and ingest it there
    with the ingest's clock reading `clock`."""
    shutil.copytree(inbox, home / "inbox")  # copy2: modification times come along
    settings = settings_for(home)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batches, "now_shanghai", lambda: clock)
        batches.ingest_all(settings)
    return settings


@pytest.fixture(scope="module")
def homes(tmp_path_factory: pytest.TempPathFactory, inbox: Path) -> list[Settings]:
    return [
        ingest_at(tmp_path_factory.mktemp(f"home-{i}"), inbox, clock)
        for i, clock in enumerate(CLOCKS)
    ]


def newest_extract(settings: Settings) -> datetime:
    """The newest modification time, read from the files, of the extracts that loaded."""
    with warehouse.reader(settings) as con:
        loaded = con.execute("SELECT source, file_name FROM batches WHERE status = 'loaded'")
        files = [settings.source_inbox(source) / name for source, name in loaded.fetchall()]
    mtime = max(path.stat().st_mtime for path in files)
    return datetime.fromtimestamp(mtime, batches.SHANGHAI).replace(tzinfo=None)


def test_the_ingests_ran_at_different_clocks(homes: list[Settings]) -> None:
    loaded = []
    for settings in homes:
        with warehouse.reader(settings) as con:
            loaded.append(
                con.execute("SELECT min(loaded_at), max(loaded_at) FROM batches").fetchone()
            )
    assert loaded[0] == (CLOCKS[0], CLOCKS[0]) and loaded[1] == (CLOCKS[1], CLOCKS[1])


@pytest.mark.parametrize("label", PERIODS)
def test_the_same_inbox_gives_the_same_bytes(homes: list[Settings], label: str) -> None:
    a, b = (render(settings, Period.parse(label)) for settings in homes)
    assert a.path != b.path
    assert a.path.read_bytes() == b.path.read_bytes()
    assert a.sha256 == b.sha256 and a.data_updated_at == b.data_updated_at


def test_the_update_time_is_the_newest_extract(homes: list[Settings]) -> None:
    entry = render(homes[0], Period.parse("2023"))
    newest = newest_extract(homes[0])
    assert entry.data_updated_at == newest.isoformat(timespec="seconds")
    stamp = f"{newest.year}年{newest.month}月{newest.day}日 {newest:%H:%M}"
    assert squeeze(f"数据更新时间{stamp}") in squeeze(pdf_text(entry.path.read_bytes()))


@pytest.mark.parametrize("label", PERIODS)
def test_a_rerun_on_unchanged_data_writes_nothing(homes: list[Settings], label: str) -> None:
    settings = homes[1]
    first = render(settings, Period.parse(label))
    folder = first.path.parent
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    again = render(settings, Period.parse(label))
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.rglob("*") if p.is_file()}
    assert not again.changed and again.sha256 == first.sha256
    assert again.generated_at == first.generated_at and again.versions == first.versions
    assert after == before

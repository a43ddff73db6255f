"""Drawn charts kept by the hash of everything that decides their pixels.

Why: drawing a report's charts with matplotlib is most of its render (the annual report's
nine took about 1 s of 1.6 s), and most renders draw charts whose figures did not change: a
rerun on unchanged data, a refresh after a correction that touches one section or one month
of the year. So a chart is drawn once per distinct input and its PNG is read back afterwards.

Correctness rests on the key, the SHA-256 of:

* the chart kind and its frame: the schema and every value, exactly (a Decimal keeps its
  digits, a float its full repr);
* its `ChartSpec`: title, series, months, sizes, options;
* the drawing code's version: the source of the modules that draw (charts, chart_kit, the one
  formatter, the fonts module), the versions of Python, matplotlib, NumPy, Pillow, FreeType
  and polars, matplotlib's settings, and the font file it resolves (path, size, mtime).

A changed figure therefore gets another key and is drawn anew; an entry is never updated in
place. A value the key cannot spell exactly (an unknown type) makes the chart uncacheable:
it is drawn every time. Each file carries the SHA-256 of its PNG, checked when it is read; a
damaged or foreign file is drawn anew and replaced. A cached PNG is the very bytes the
drawing produced, so a report's bytes never depend on whether its charts came from the cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
import numpy
import polars as pl
from matplotlib import font_manager
from matplotlib.ft2font import __freetype_version__ as FREETYPE_VERSION  # noqa: N812
from PIL import __version__ as PILLOW_VERSION

from urbanreport.core import formatting
from urbanreport.reports import chart_kit, charts, fonts
from urbanreport.reports.chart_kit import Chart, ChartSpec

#: Bump to drop every cached chart, should the stored format change.
FORMAT = "urbanreport-chart-1"
#: The modules whose code decides a chart's pixels.
DRAWING_MODULES = (charts, chart_kit, formatting, fonts)


@dataclasses.dataclass(frozen=True)
class Drawn:
    """What a report keeps of a drawn chart: its title (a kind may change it), PNG and size."""

    title: str
    png: bytes
    width_mm: float
    height_mm: float
    empty: bool

    @classmethod
    def of(cls, chart: Chart) -> Drawn:
        return cls(chart.title, chart.png, chart.width_mm, chart.height_mm, chart.empty)


class Uncacheable(TypeError):
    """A chart input the key cannot spell exactly: that chart is drawn without the cache."""


# --- the key ------------------------------------------------------------------------------


def canonical(value: Any) -> Any:
    """`value` as JSON-ready data that differs whenever the value does (types tagged)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, Decimal):
        return ["decimal", str(value)]
    if isinstance(value, datetime | date | time):
        return [type(value).__name__, value.isoformat()]
    if isinstance(value, timedelta):
        return ["timedelta", str(value)]
    if isinstance(value, list | tuple):
        return ["seq", [canonical(v) for v in value]]
    if isinstance(value, Mapping):
        items = [[canonical(k), canonical(v)] for k, v in value.items()]
        return ["map", sorted(items, key=lambda kv: json.dumps(kv[0]))]
    if isinstance(value, pl.DataFrame):
        schema = [[name, str(dtype)] for name, dtype in value.schema.items()]
        return ["frame", schema, [canonical(row) for row in value.rows()]]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return ["dataclass", type(value).__qualname__, canonical(fields)]
    raise Uncacheable(f"cannot key a chart input of type {type(value).__name__}")


@cache
def _code_version() -> list[str]:
    """The drawing code and libraries this process runs (read once: code does not change)."""
    sources = [hashlib.sha256(Path(m.__file__).read_bytes()).hexdigest() for m in DRAWING_MODULES]
    versions = [matplotlib.__version__, numpy.__version__, PILLOW_VERSION, FREETYPE_VERSION]
    versions.append(pl.__version__)  # the kinds sort and read their frames with it
    return [FORMAT, sys.version.split()[0], *versions, *sources]


@cache
def _font(family: str) -> list[Any]:
    """The file matplotlib draws `family` from (it keeps that file open for the process, too)."""
    path = Path(font_manager.findfont(font_manager.FontProperties(family=family)))
    stat = path.stat()
    return [str(path), stat.st_size, stat.st_mtime_ns]


def _environment() -> list[Any]:
    """What may differ while running: matplotlib's settings (the charts' own style on top is
    in chart_kit's source) and the font file it draws with."""
    settings = repr(sorted(dict.items(matplotlib.rcParams)))  # the stored values, unvalidated
    return [settings, *_font(fonts.register_fonts().sans_family)]


def key(kind: str, frame: pl.DataFrame, spec: ChartSpec) -> str:
    """The chart's content address (raises `Uncacheable`)."""
    spelled = [_code_version(), _environment(), kind, canonical(frame), canonical(spec)]
    text = json.dumps(spelled, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- the store ----------------------------------------------------------------------------


def _path(folder: Path, address: str) -> Path:
    return folder / address[:2] / f"{address}.chart"


def load(folder: Path, address: str) -> Drawn | None:
    """The stored chart, or None when absent, unreadable or not matching its own hash."""
    try:
        raw = _path(folder, address).read_bytes()
        header, png = raw.split(b"\n", 1)
        meta = json.loads(header)
        if meta.get("format") != FORMAT or meta.get("png") != hashlib.sha256(png).hexdigest():
            return None
        return Drawn(meta["title"], png, meta["width_mm"], meta["height_mm"], meta["empty"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def store(folder: Path, address: str, drawn: Drawn) -> None:
    """Keep a drawn chart (atomic: a reader sees the whole file or none).

    Not fsynced, unlike the reports: a cache entry lost or cut short in a crash fails its hash
    check and is simply drawn again. A folder that cannot be written only costs speed.
    """
    meta = {
        "format": FORMAT,
        "title": drawn.title,
        "width_mm": drawn.width_mm,
        "height_mm": drawn.height_mm,
        "empty": drawn.empty,
        "png": hashlib.sha256(drawn.png).hexdigest(),
    }
    header = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8")
    target = _path(folder, address)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(header + b"\n" + drawn.png)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def drawn(
    folder: Path | None,
    kind: str,
    frame: pl.DataFrame,
    spec: ChartSpec,
    draw: Callable[[pl.DataFrame, ChartSpec], Chart] | None = None,
) -> Drawn:
    """The chart of `kind` for this frame and spec: from `folder` if drawn before, else drawn
    (with `draw`, by default the registry's kind) and kept there. No folder: always drawn."""
    draw = draw or charts.KINDS[kind]
    if folder is None:
        return Drawn.of(draw(frame, spec))
    try:
        address = key(kind, frame, spec)
    except Uncacheable:
        return Drawn.of(draw(frame, spec))
    found = load(folder, address)
    if found is not None:
        return found
    made = Drawn.of(draw(frame, spec))
    store(folder, address, made)
    return made

"""One `write_sample` call: what was asked, the configuration it draws from, the files it writes.

Why one object: every source needs the same few things (the configured streets and
dictionaries, a random generator per year, the contract's headers, an atomic file writer), and
the records of one source-year are drawn once even when several writers read them.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
from pypinyin import Style, lazy_pinyin

from urbanreport.core import districts
from urbanreport.core.config import Settings
from urbanreport.core.normalize import street_full_name
from urbanreport.sample.calibration import Published, published_for, reference
from urbanreport.sample.common import WorkCalendar, month_index, weights, ym

#: Draws the records of one source for one year ("universe"); see `Run.universe`.
Universe = Callable[["Run", int], pl.DataFrame]


@dataclass
class Run:
    """Settings, request, calendar, memoised universes and the files written so far."""

    settings: Settings
    years: list[int]
    scale: int
    seed: int
    calendar: WorkCalendar
    universes: Mapping[str, Universe]
    written: list[Path] = field(default_factory=list)
    _drawn: dict[tuple[str, int], pl.DataFrame] = field(default_factory=dict)

    # --- what was asked ---------------------------------------------------------------------
    @property
    def months(self) -> list[int]:
        return [month_index(y, m) for y in self.years for m in range(1, 13)]

    # --- the configured district ----------------------------------------------------------
    @property
    def streets(self) -> list[str]:
        return self.settings.streets

    @property
    def city(self) -> str:
        return str(self.settings["bureau"]["city"])

    @property
    def district(self) -> str:
        return str(self.settings["bureau"]["district"])

    @property
    def published(self) -> Published | None:
        """The figures this district's sample is calibrated to, if its bureau published any."""
        return published_for(self.city, self.district)

    @property
    def size(self) -> float:
        """How large this district's volumes are: the scale, and for a district without
        published figures, its number of streets over the reference district's (a district of
        twelve streets has more cases than a county of three towns)."""
        ref = reference()
        home = districts.find(ref.city, ref.district)
        if self.published is not None or home is None:
            return float(self.scale)
        return self.scale * len(self.streets) / len(home.streets)

    def calibration(self, year: int) -> Published | None:
        """The published figures `year` is calibrated to (None: drawn, not calibrated)."""
        return self.published if self.published and self.published.year == year else None

    def calibrated(self, year: int) -> bool:
        return self.calibration(year) is not None

    def dictionary(self, name: str) -> list[str]:
        """A configured dictionary (`[dictionaries]`), the values the sample draws from."""
        return list(self.settings["dictionaries"][name])

    def member(self, name: str, value: str) -> str:
        """A value the sample gives a meaning to (the fine among the penalty types, …).

        The indicators give it the same meaning, so a configuration without it cannot be
        sampled; say so instead of writing data no figure would count.
        """
        if value not in self.dictionary(name):
            raise ValueError(
                f"示例数据需要字典 {name} 中的“{value}”，但配置中没有该值。"
                f" The sample needs {value!r} in dictionary {name!r}; the configuration lacks it."
            )
        return value

    def full_street(self, street: pl.Expr) -> pl.Expr:
        """Streets as the systems write them: `金霞` → `金霞街道`, a town as it is (`海门镇`)."""
        return street.replace_strict({s: street_full_name(s) for s in self.streets})

    def street_weights(self, purpose: str) -> np.ndarray:
        """How records of `purpose` spread over the configured streets: uneven, fixed by name.

        Why from the names: shares are the sample's design, and any configured district gets
        shares of its own (each between 0.5 and 1.5 before normalising) without a table for it.
        """
        raw = [0.5 + zlib.crc32(f"{purpose}:{s}".encode()) % 1000 / 1000 for s in self.streets]
        return weights(raw)

    def foreign_street(self) -> str:
        """A plausible wrong street: one of a neighbouring district of the same city.

        Why a real one: a clerk's slip names a street that exists, just not in this district;
        the ingest must refuse it all the same.
        """
        others = districts.neighbours(self.city, self.district) or list(
            districts.districts().values()
        )
        return next(
            street_full_name(s)
            for d in others
            for s in d.streets
            if s not in self.streets and d.name != self.district
        )

    @property
    def id_prefix(self) -> str:
        """Initials of the district in record keys (龙湖区 → LH), as the bureaus number cases."""
        name = self.district.removesuffix("区").removesuffix("县").removesuffix("市")
        return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).upper()

    # --- random generators and records ------------------------------------------------------
    def rng(self, source: str, *parts: int) -> np.random.Generator:
        """A generator of its own for (seed, source, year[, month]): years stay independent."""
        return np.random.default_rng(
            np.random.SeedSequence([self.seed, zlib.crc32(source.encode()), *parts])
        )

    def universe(self, source: str, year: int) -> pl.DataFrame:
        key = (source, year)
        if key not in self._drawn:
            self._drawn[key] = self.universes[source](self, year)
        return self._drawn[key]

    def forget(self) -> None:
        """Drop the drawn records: a source's are not needed once its files are written."""
        self._drawn.clear()

    # --- the contract and the files ---------------------------------------------------------
    def title(self, source: str) -> str:
        return str(self.settings.sources[source]["title"])

    def headers(self, source: str, exclude: Sequence[str] = ()) -> dict[str, str]:
        """Canonical name → Chinese export header, in contract order."""
        return {
            f["name"]: f["header"]
            for f in self.settings.sources[source]["fields"]
            if f["name"] not in exclude
        }

    def path(self, source: str, name: str) -> Path:
        return self.settings.source_inbox(source) / name

    def monthly_path(self, source: str, mi: int, ext: str) -> Path:
        """`<inbox>/<source>/<title>_2023-07.<ext>`: one export file a month."""
        year, month = ym(mi)
        return self.path(source, f"{self.title(source)}_{year}-{month:02d}.{ext}")

    def emit(self, path: Path, data: bytes | Callable[[Path], None], when: datetime) -> None:
        """Write a file atomically (the ingest never sees half a file) and set its mtime."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            data(tmp)
        os.replace(tmp, path)
        ts = when.timestamp()
        os.utime(path, (ts, ts))
        self.written.append(path)

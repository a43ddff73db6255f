"""The real districts and their streets and towns (`districts.toml`), loaded once.

Why: configuring another district of the city starts from its real division names, and the
sample needs a neighbouring district's street to stand for a plausible wrong value. The names
are the official ones, so every one of them must survive the normaliser unchanged.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from urbanreport.core.config import PACKAGE_DIR
from urbanreport.core.normalize import street_key

DISTRICTS_FILE = PACKAGE_DIR / "districts.toml"


@dataclass(frozen=True)
class District:
    """A district or county: division code, name, city, and its streets and towns."""

    code: str
    name: str
    city: str
    city_code: str
    divisions: tuple[str, ...]  # official full names: 金霞街道, 海门镇

    @property
    def streets(self) -> list[str]:
        """The divisions as `[district] streets` lists them: 街道 dropped, a 镇 as it is."""
        return [street_key(name) for name in self.divisions]


@cache
def districts() -> dict[str, District]:
    """Every district of the file, by division code, in file order."""
    data = tomllib.loads(DISTRICTS_FILE.read_text("utf-8"))
    cities = {str(code): city["name"] for code, city in data["cities"].items()}
    return {
        str(code): District(
            code=str(code),
            name=entry["name"],
            city=cities[str(entry["city"])],
            city_code=str(entry["city"]),
            divisions=tuple(entry["divisions"]),
        )
        for code, entry in data["districts"].items()
    }


def find(city: str, name: str) -> District | None:
    """The district called `name` in `city` (`汕头市`, `金平区`), if the file has it."""
    return next((d for d in districts().values() if (d.city, d.name) == (city, name)), None)


def neighbours(city: str, name: str) -> list[District]:
    """The other districts of the same city, in division-code order."""
    return sorted(
        (d for d in districts().values() if d.city == city and d.name != name),
        key=lambda d: d.code,
    )

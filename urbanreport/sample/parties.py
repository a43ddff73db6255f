"""Fake applicants and parties: people with resident ID numbers, companies with credit codes.

Why fake but well-formed: the ingest must carry personal data without ever printing it, and a
test can only prove that when the sample holds values that look exactly like the real ones.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from urbanreport.sample.common import pick

_SURNAMES = list("陈林黄李吴蔡郑许张杨谢刘王洪翁马纪苏庄余方周钟沈")
_GIVEN = list("伟俊杰明华强文斌志辉建国荣海涛鹏燕丽娟婷敏霞芳玲秀英佳浩宇泽楠思晓锐彬")
_BRAND = list("宏鑫顺嘉华泰金源粤海德隆兴盛恒信达丰利联创")
_INDUSTRY = ["贸易", "建筑工程", "装饰工程", "餐饮管理", "广告传媒", "物业管理", "运输",
             "房地产开发", "园林绿化工程", "市政工程"]  # fmt: skip
#: Birthplace codes of the ID numbers: the districts of the city and two neighbouring cities.
_REGION_CODES = np.array([440507, 440511, 440512, 440513, 440514, 440515, 440523, 445102, 445202])
#: GB 11643: weights of the 17 digits and the check character by remainder.
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = "10X98765432"
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _people(rng: np.random.Generator, n: int) -> tuple[pl.Expr, pl.Expr]:
    """Chaoshan-looking names and 18-character resident ID numbers with a correct check."""
    two = pl.lit(pl.Series(rng.random(n) < 0.7))
    name = pl.concat_str(
        [
            pick(rng, _SURNAMES, n),
            pick(rng, _GIVEN, n),
            pl.when(two).then(pick(rng, _GIVEN, n)).otherwise(pl.lit("")),
        ]
    )
    region = _REGION_CODES[rng.integers(0, len(_REGION_CODES), n)]
    birth = np.datetime64("1955-01-01") + rng.integers(0, 49 * 365, n).astype("timedelta64[D]")
    y = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    m = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (birth - birth.astype("datetime64[M]")).astype(np.int64) + 1
    body = region * 10**11 + (y * 10000 + m * 100 + d) * 1000 + rng.integers(0, 1000, n)
    digits = (body[:, None] // 10 ** np.arange(16, -1, -1)) % 10
    check = (digits @ _ID_WEIGHTS) % 11
    person_id = pl.concat_str(
        [
            pl.lit(pl.Series(body)).cast(pl.String),
            pl.lit(pl.Series(list(_ID_CHECK))).gather(pl.lit(pl.Series(check))),
        ]
    )
    return name, person_id


def _companies(rng: np.random.Generator, n: int, city: str) -> tuple[pl.Expr, pl.Expr]:
    """`<city>宏鑫建筑工程有限公司` and a unified social credit code of the region."""
    name = pl.concat_str(
        [
            pl.lit(city),
            pick(rng, _BRAND, n),
            pick(rng, _BRAND, n),
            pick(rng, _INDUSTRY, n),
            pl.lit("有限公司"),
        ]
    )
    credit = pl.concat_str(
        [pl.lit("91"), pick(rng, [str(c) for c in _REGION_CODES[:7]], n), pl.lit("MA")]
        + [pick(rng, list(_CREDIT_CHARS), n) for _ in range(8)]
    )
    return name, credit


def parties(
    rng: np.random.Generator, company_p: np.ndarray, city: str
) -> tuple[pl.Series, pl.Series]:
    """Applicant or party: a company with probability `company_p`, else a person."""
    n = len(company_p)
    is_company = pl.lit(pl.Series(rng.random(n) < company_p))
    person, person_id = _people(rng, n)
    company, credit = _companies(rng, n, city)
    both = pl.select(
        name=pl.when(is_company).then(company).otherwise(person),
        id=pl.when(is_company).then(credit).otherwise(person_id),
    )
    return both.get_column("name"), both.get_column("id")

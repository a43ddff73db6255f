"""The Prefect deployments of a city, generated from its city file (no Prefect needed here).

Why generated and not written by hand: a city of seven districts has seven monthly
deployments that differ only in their district, and the eighth, the city rollup, must list
them all. Written from `city.toml`, a district added to the file is scheduled at the next
`urbanreport city deployments`, and none can be forgotten or left with a stale schedule.

Each district's monthly run starts at 06:00 Beijing time on the 1st; the city rollup at 07:00,
when the districts' runs have loaded their data. Runs of one district never overlap: a Prefect
global concurrency limit of one slot per district (`district_limit`, created by the same
command), and on a lake the catalog lease (core/lease.py) behind it.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from urbanreport.core.city import City

POOL = "urbanreport-pool"
TIMEZONE = "Asia/Shanghai"
DISTRICT_CRON = "0 6 1 * *"
CITY_CRON = "0 7 1 * *"
DISTRICT_ENTRYPOINT = "flows/pipeline.py:monthly_run"
CITY_ENTRYPOINT = "flows/city.py:city_rollup"
CITY_DEPLOYMENT = "city-rollup"
PULL = [
    {
        "prefect.deployments.steps.set_working_directory": {
            "directory": "{{ $URBANREPORT_PROJECT_DIR }}"
        }
    }
]


def district_limit(code: str) -> str:
    """The global concurrency limit that keeps one district's runs apart (one slot)."""
    return f"urbanreport-district-{code}"


def district_deployment(code: str) -> str:
    """`monthly-run/<this>` is the district's deployment."""
    return f"monthly-{code}"


def _work_pool() -> dict[str, Any]:
    return {"name": POOL, "work_queue_name": "default", "job_variables": {}}


def _district(city: City, code: str, name: str) -> dict[str, Any]:
    return {
        "name": district_deployment(code),
        "description": (
            f"{city.name}{name}（{code}）月度流程：每月1日06:00（北京时间）入库上月数据，"
            "计算指标，生成上月月报和本财年年度报告。可用参数 period=YYYY-MM 手动补跑。"
        ),
        "entrypoint": DISTRICT_ENTRYPOINT,
        "tags": ["urbanreport", f"district-{code}"],
        "parameters": {"district": code},
        "enforce_parameter_schema": True,
        "work_pool": _work_pool(),
        "schedules": [
            {
                "cron": DISTRICT_CRON,
                "timezone": TIMEZONE,
                "slug": f"monthly-0600-day-1-shanghai-{code}",
                "active": True,
            }
        ],
    }


def _rollup(city: City) -> dict[str, Any]:
    return {
        "name": CITY_DEPLOYMENT,
        "description": (
            f"{city.name}全市汇总：每月1日07:00（北京时间），在各区县月度流程之后，"
            "按各区县原始记录重新计算全市指标，生成上月和本财年的全市报告。"
        ),
        "entrypoint": CITY_ENTRYPOINT,
        "tags": ["urbanreport", "city"],
        "parameters": {},
        "enforce_parameter_schema": True,
        "concurrency_limit": {"limit": 1, "collision_strategy": "ENQUEUE"},
        "work_pool": _work_pool(),
        "schedules": [
            {
                "cron": CITY_CRON,
                "timezone": TIMEZONE,
                "slug": "city-0700-day-1-shanghai",
                "active": True,
            }
        ],
    }


def city_deployments(city: City) -> dict[str, Any]:
    """A prefect.yaml document: one monthly deployment per district, then the city rollup."""
    deployments = [_district(city, d.code, d.name) for d in city.districts]
    return {
        "name": "urbanreport-city",
        "prefect-version": version("prefect"),
        "build": None,
        "push": None,
        "pull": PULL,
        "deployments": [*deployments, _rollup(city)],
    }


def district_limits(city: City) -> list[str]:
    return [district_limit(d.code) for d in city.districts]

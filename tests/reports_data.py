"""Helpers of the report tests (not a test module): hand-made indicator results shaped like
``indicators.compute()`` / ``breakdowns()``.

Why: the report layer is tested on its own, with figures that match the bureau's published
2023 report, without needing a warehouse. The tests at the bottom keep the fixture honest
against the indicator catalogue (every catalogue key present, kinds as the contract says).
"""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

from urbanreport.core import catalogue

STREETS = ["金霞", "珠池", "新津", "龙祥", "鸥汀", "外砂", "新溪", "龙华", "新海", "龙腾"]
CATEGORIES = [
    "市容环境卫生",
    "占道经营",
    "户外广告",
    "建筑垃圾",
    "违法建设",
    "城中村六乱",
    "门前三包",
    "园林绿化",
    "其他",
]
PERMIT_ITEMS = [
    "城市建筑垃圾处置核准",
    "设置大型户外广告审批",
    "临时占用城市道路审批",
    "挖掘城市道路审批",
    "城市绿化树木迁移砍伐审批",
]
DCM_SOURCES = ["监督员上报", "12345热线", "群众举报", "视频智能发现", "领导交办"]
DCM_CATEGORIES = ["市容环境", "宣传广告", "施工管理", "街面秩序", "公用设施", "园林绿化设施"]
ACTIVITY_TYPES = ["党组学法", "中心组学习", "执法培训", "普法宣传"]

#: Personal data that a careless renderer could leak; it must never appear in a PDF.
PERSONAL_VALUES = ["陈志强", "440507198803151234", "林秀英"]

SEASON = [0.07, 0.06, 0.085, 0.08, 0.09, 0.085, 0.09, 0.095, 0.085, 0.09, 0.08, 0.08]


def split_int(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights`` that add up exactly."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def split_dec(total: Decimal, weights: list[float]) -> list[Decimal]:
    cents = split_int(int(total * 100), weights)
    return [Decimal(c) / 100 for c in cents]


INDICATORS_2023: dict[str, Any] = {
    "enforcement.filed_cases": 958,
    "enforcement.penalty_cases": 936,
    "enforcement.fines_yuan": Decimal("3009408.00"),
    "enforcement.no_penalty_cases": 214,
    "enforcement.major_cases": 23,
    "enforcement.major_legal_review_rate": 1.0,
    "enforcement.major_collective_rate": 1.0,
    "enforcement.disclosure_on_time_rate": 0.9765,
    "enforcement.overdue_decisions": 3,
    "enforcement.reviews": 4,
    "enforcement.review_correction_rate": 0.25,
    "permits.received": 502,
    "permits.concluded": 502,
    "permits.completion_rate": 1.0,
    "permits.on_time_rate": 0.9861,
    "permits.avg_working_days": 3.42,
    "permits.online_rate": 0.8247,
    "permits.granted": 478,
    "permits.e_license_rate": 0.9623,
    "permits.non_tax_revenue_yuan": Decimal("496793.68"),
    "demolition.sites": 1286,
    "demolition.area_m2": Decimal("1024517.60"),
    "demolition.campaign_target_m2": Decimal("1200000.00"),
    "demolition.campaign_area_m2": Decimal("936292.39"),
    "demolition.campaign_progress": 0.7802,
    "dcm.reported": 48213,
    "dcm.registered": 45102,
    "dcm.registration_rate": 0.9355,
    "dcm.disposed": 18210,
    "dcm.closed": 43870,
    "dcm.closure_rate": 0.9727,
    "dcm.due": 44950,
    "dcm.on_time_disposal_rate": 0.9512,
    "dcm.rework_rate": 0.0321,
    "dcm.avg_disposal_hours": 18.64,
    "dcm.hotline_cases": 9642,
    "dcm.reported_yoy": 0.0831,
    "legal.study_sessions": 14,
    "legal.trainings": 9,
    "legal.publicity_events": 36,
    "legal.participants": 4820,
}

INDICATORS_2022: dict[str, Any] = {
    "enforcement.filed_cases": 902,
    "enforcement.penalty_cases": 871,
    "enforcement.fines_yuan": Decimal("2714350.00"),
    "enforcement.no_penalty_cases": 166,
    "enforcement.major_cases": 19,
    "enforcement.major_legal_review_rate": 1.0,
    "enforcement.major_collective_rate": 0.9474,
    "enforcement.disclosure_on_time_rate": 0.9512,
    "enforcement.overdue_decisions": 6,
    "enforcement.reviews": 5,
    "enforcement.review_correction_rate": 0.2,
    "permits.received": 463,
    "permits.concluded": 459,
    "permits.completion_rate": 0.9914,
    "permits.on_time_rate": 0.9695,
    "permits.avg_working_days": 4.1,
    "permits.online_rate": 0.7127,
    "permits.granted": 431,
    "permits.e_license_rate": 0.8538,
    "permits.non_tax_revenue_yuan": Decimal("452310.50"),
    "demolition.sites": 803,
    "demolition.area_m2": Decimal("611245.30"),
    "demolition.campaign_target_m2": None,
    "demolition.campaign_area_m2": None,
    "demolition.campaign_progress": None,
    "dcm.reported": 44514,
    "dcm.registered": 41380,
    "dcm.registration_rate": 0.9296,
    "dcm.disposed": 16890,
    "dcm.closed": 39870,
    "dcm.closure_rate": 0.9635,
    "dcm.due": 40920,
    "dcm.on_time_disposal_rate": 0.9347,
    "dcm.rework_rate": 0.0412,
    "dcm.avg_disposal_hours": 21.3,
    "dcm.hotline_cases": 7920,
    "dcm.reported_yoy": 0.0412,
    "legal.study_sessions": 12,
    "legal.trainings": 7,
    "legal.publicity_events": 29,
    "legal.participants": 3960,
}

CAMPAIGN = {
    "name": "2023年违法建设专项治理",
    "start_date": date(2023, 7, 1),
    "end_date": date(2024, 6, 30),
    "target_m2": Decimal("1200000.00"),
}


def _quality(months_missing: dict[str, list[str]] | None = None) -> dict[str, Any]:
    months_missing = months_missing or {}
    base = {
        "enforcement": (1012, 1009),
        "permits": (511, 511),
        "demolition": (1290, 1286),
        "demolition_targets": (11, 11),
        "dcm_cases": (48250, 48213),
        "legal_activities": (61, 61),
    }
    out = {}
    for source, (read, loaded) in base.items():
        out[source] = {
            "rows_read": read,
            "rows_loaded": loaded,
            "rows_rejected": read - loaded,
            "months_without_data": months_missing.get(source, []),
            "latest_record": "2023-12-29" if source != "demolition_targets" else "2023-07-01",
        }
    return out


def _change(cur: dict[str, Any], prev: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in cur.items():
        p = prev.get(key)
        if value is None or p is None or p == 0:
            out[key] = None
        else:
            out[key] = round(float((Decimal(str(value)) - Decimal(str(p))) / Decimal(str(p))), 4)
    return out


def annual_result() -> dict[str, Any]:
    """``compute(con, Period.parse("2023"))`` as the contract describes it."""
    return {
        "period": "2023",
        "start": "2023-01-01",
        "end": "2023-12-31",
        "indicators": dict(INDICATORS_2023),
        "previous": dict(INDICATORS_2022),
        "change": _change(INDICATORS_2023, INDICATORS_2022),
        "quality": _quality(),
        "missing": {},
        "provisional": [],
        "campaign": dict(CAMPAIGN),
        "data_version": {"data_as_of": "2024-01-02T02:00:00", "batches": 37},
    }


def _by_month(months: list[int], columns: dict[str, tuple[Any, Any]]) -> list[dict[str, Any]]:
    """Rows month by month; each column given as (current total, previous total)."""
    weights = [SEASON[m - 1] for m in months]
    rows = [{"month": m} for m in months]
    for column, (cur, prev) in columns.items():
        for name, total in ((column, cur), (f"prev_{column}", prev)):
            if total is None:
                parts: list[Any] = [None] * len(months)
            elif isinstance(total, Decimal):
                parts = split_dec(total, weights)
            else:
                parts = split_int(int(total), weights)
            for row, value in zip(rows, parts, strict=True):
                row[name] = value
    return rows


def _by_dim(
    dim: str, names: list[str], columns: dict[str, tuple[Any, Any]], skew: float = 0.8
) -> list[dict[str, Any]]:
    weights = [skew**i for i in range(len(names))]
    rows = [{dim: n} for n in names]
    for column, (cur, prev) in columns.items():
        for name, total in ((column, cur), (f"prev_{column}", prev)):
            if total is None:
                parts: list[Any] = [None] * len(names)
            elif isinstance(total, Decimal):
                parts = split_dec(total, weights)
            else:
                parts = split_int(int(total), weights[::-1] if name.startswith("prev") else weights)
            for row, value in zip(rows, parts, strict=True):
                row[name] = value
    return rows


def annual_tables(months: list[int] | None = None) -> dict[str, list[dict[str, Any]]]:
    """``breakdowns(con, Period.parse("2023"))`` with realistic, consistent figures."""
    months = months or list(range(1, 13))
    c, p = INDICATORS_2023, INDICATORS_2022
    enf_month = _by_month(
        months,
        {
            "penalty_cases": (c["enforcement.penalty_cases"], p["enforcement.penalty_cases"]),
            "fines_yuan": (c["enforcement.fines_yuan"], p["enforcement.fines_yuan"]),
        },
    )
    permits_month = _by_month(
        months,
        {
            "received": (c["permits.received"], p["permits.received"]),
            "concluded": (c["permits.concluded"], p["permits.concluded"]),
            "non_tax_revenue_yuan": (
                c["permits.non_tax_revenue_yuan"],
                p["permits.non_tax_revenue_yuan"],
            ),
        },
    )
    demo_month = _by_month(
        months,
        {
            "sites": (c["demolition.sites"], p["demolition.sites"]),
            "area_m2": (c["demolition.area_m2"], p["demolition.area_m2"]),
        },
    )
    # The campaign started in July: its cumulative area grows from July to 936292.39.
    campaign_months = [m for m in months if m >= 7]
    campaign_parts = split_dec(Decimal("936292.39"), [1.0, 1.2, 1.4, 1.5, 1.6, 1.7])
    running = Decimal(0)
    for row in demo_month:
        if row["month"] >= 7 and campaign_months:
            running += campaign_parts[row["month"] - 7]
            row["campaign_cumulative_m2"] = running
        else:
            row["campaign_cumulative_m2"] = None
    dcm_month = _by_month(
        months,
        {
            "reported": (c["dcm.reported"], p["dcm.reported"]),
            "registered": (c["dcm.registered"], p["dcm.registered"]),
            "closed": (c["dcm.closed"], p["dcm.closed"]),
        },
    )
    legal_month = _by_month(
        months,
        {
            "events": (59, 48),
            "participants": (c["legal.participants"], p["legal.participants"]),
        },
    )
    street_targets = split_dec(Decimal("1200000.00"), [0.8**i for i in range(10)])
    demo_street = _by_dim(
        "street",
        STREETS,
        {
            "sites": (c["demolition.sites"], p["demolition.sites"]),
            "area_m2": (c["demolition.area_m2"], p["demolition.area_m2"]),
        },
    )
    for row, target in zip(demo_street, street_targets, strict=True):
        row["target_m2"] = target
        row.pop("prev_sites", None)
    dcm_street = _by_dim(
        "street",
        STREETS,
        {
            "reported": (c["dcm.reported"], p["dcm.reported"]),
            "registered": (c["dcm.registered"], None),
            "closed": (c["dcm.closed"], None),
        },
        skew=0.9,
    )
    for i, row in enumerate(dcm_street):
        row["on_time_disposal_rate"] = round(0.97 - i * 0.0071, 4)
        row.pop("prev_registered", None)
        row.pop("prev_closed", None)
    items = _by_dim(
        "item_name",
        PERMIT_ITEMS,
        {
            "received": (c["permits.received"], p["permits.received"]),
            "concluded": (c["permits.concluded"], None),
            "non_tax_revenue_yuan": (c["permits.non_tax_revenue_yuan"], None),
        },
        skew=0.6,
    )
    for i, row in enumerate(items):
        row["on_time_rate"] = [1.0, 0.9871, 0.9744, 1.0, 0.9412][i]
        row.pop("prev_concluded", None)
        row.pop("prev_non_tax_revenue_yuan", None)
    hotline = c["dcm.hotline_cases"]
    sources = [
        {"source": "监督员上报", "reported": 27410, "prev_reported": 26880},
        {"source": "12345热线", "reported": hotline, "prev_reported": 7920},
        {"source": "视频智能发现", "reported": 6702, "prev_reported": 5120},
        {"source": "群众举报", "reported": 4125, "prev_reported": 4230},
        {
            "source": "领导交办",
            "reported": 48213 - 27410 - hotline - 6702 - 4125,
            "prev_reported": 364,
        },
    ]
    return {
        "enforcement_by_month": enf_month,
        "enforcement_by_category": _by_dim(
            "category",
            CATEGORIES,
            {
                "penalty_cases": (c["enforcement.penalty_cases"], p["enforcement.penalty_cases"]),
                "fines_yuan": (c["enforcement.fines_yuan"], p["enforcement.fines_yuan"]),
            },
        ),
        "enforcement_by_street": _by_dim(
            "street",
            STREETS,
            {
                "penalty_cases": (c["enforcement.penalty_cases"], p["enforcement.penalty_cases"]),
                "fines_yuan": (c["enforcement.fines_yuan"], p["enforcement.fines_yuan"]),
            },
            skew=0.88,
        ),
        "permits_by_month": permits_month,
        "permits_by_item": items,
        "demolition_by_month": demo_month,
        "demolition_by_street": demo_street,
        "dcm_by_month": dcm_month,
        "dcm_by_source": sources,
        "dcm_by_street": dcm_street,
        "dcm_by_category": _by_dim(
            "category", DCM_CATEGORIES, {"reported": (c["dcm.reported"], p["dcm.reported"])}
        ),
        "legal_by_type": [
            {
                "activity_type": "党组学法",
                "events": 6,
                "participants": 210,
                "prev_events": 5,
                "prev_participants": 180,
            },
            {
                "activity_type": "中心组学习",
                "events": 8,
                "participants": 160,
                "prev_events": 7,
                "prev_participants": 140,
            },
            {
                "activity_type": "执法培训",
                "events": 9,
                "participants": 1150,
                "prev_events": 7,
                "prev_participants": 890,
            },
            {
                "activity_type": "普法宣传",
                "events": 36,
                "participants": 3300,
                "prev_events": 29,
                "prev_participants": 2750,
            },
        ],
        "legal_by_month": legal_month,
    }


def scaled(values: dict[str, Any], factor: float) -> dict[str, Any]:
    """A month's share of the year: counts and amounts scaled, rates kept."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        kind = catalogue.indicator(key).kind
        if value is None or kind in ("rate", "hours", "days"):
            out[key] = value
        elif kind in ("money", "area"):
            out[key] = (Decimal(value) * Decimal(str(factor))).quantize(Decimal("0.01"))
        else:
            out[key] = int(round(value * factor))
    return out


def monthly_result(month: int = 7) -> dict[str, Any]:
    """``compute(con, Period.parse("2023-07"))``: the month against July 2022."""
    label = f"2023-{month:02d}"
    share = SEASON[month - 1]
    cur = scaled(INDICATORS_2023, share)
    cur["demolition.campaign_area_m2"] = Decimal("104032.49")
    cur["demolition.campaign_progress"] = 0.0867
    cur["demolition.campaign_target_m2"] = Decimal("1200000.00")
    prev = scaled(INDICATORS_2022, share)
    end_day = 31
    return {
        "period": label,
        "start": f"{label}-01",
        "end": f"{label}-{end_day}",
        "indicators": cur,
        "previous": prev,
        "change": _change(cur, prev),
        "quality": _quality(),
        "missing": {},
        "provisional": [],
        "campaign": dict(CAMPAIGN),
        "data_version": {"data_as_of": "2023-08-01T02:00:00", "batches": 21},
    }


def ytd_result(month: int = 7) -> dict[str, Any]:
    """``compute(con, period.year_to_date())``: January to the month."""
    share = sum(SEASON[:month])
    result = monthly_result(month)
    result["period"] = f"2023-01..2023-{month:02d}"
    result["start"] = "2023-01-01"
    result["indicators"] = scaled(INDICATORS_2023, share)
    result["indicators"]["demolition.campaign_area_m2"] = Decimal("104032.49")
    result["indicators"]["demolition.campaign_progress"] = 0.0867
    result["previous"] = scaled(INDICATORS_2022, share)
    return result


def without_source(result: dict[str, Any], source: str, reason: str) -> dict[str, Any]:
    """The same result as if ``source`` had sent nothing for the period."""
    out = copy.deepcopy(result)
    for item in catalogue.indicators().values():
        if item.source == source:
            out["indicators"][item.key] = None
            out["missing"][item.key] = reason
    out["quality"][source].update(
        rows_read=0,
        rows_loaded=0,
        rows_rejected=0,
        months_without_data=[f"2023-{m:02d}" for m in range(1, 13)],
        latest_record=None,
    )
    return out


def tables_without(
    tables: dict[str, list[dict[str, Any]]], prefix: str
) -> dict[str, list[dict[str, Any]]]:
    out = copy.deepcopy(tables)
    for name in out:
        if name.startswith(prefix):
            out[name] = []
    return out


def with_personal_data(
    tables: dict[str, list[dict[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """Rows carrying columns a breakdown must never have; the renderer must ignore them."""
    out = copy.deepcopy(tables)
    out["enforcement_by_street"][0]["party_name"] = PERSONAL_VALUES[0]
    out["enforcement_by_street"][0]["party_id"] = PERSONAL_VALUES[1]
    out["permits_by_item"][0]["applicant"] = PERSONAL_VALUES[2]
    return out


# --- the fixture keeps to the contract ------------------------------------------------------


def pdf_text(pdf_bytes: bytes) -> str:
    """All text of a PDF, page after page."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def squeeze(text: str) -> str:
    """Text without whitespace or punctuation, so a sentence matches across line breaks."""
    import re

    return re.sub(r"[\s，。、；：,.;:！？!?“”\"'（）()]", "", text)


def page_count(pdf_bytes: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf_bytes)).pages)


def font_report(pdf_bytes: bytes) -> dict[str, bool]:
    """Every font used on any page → whether its program is embedded in the file."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    out: dict[str, bool] = {}
    for page in reader.pages:
        fonts = (page.get("/Resources") or {}).get("/Font") or {}
        for ref in fonts.values():
            font = ref.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            out[str(font.get("/BaseFont"))] = embedded
    return out


def image_count(pdf_bytes: bytes) -> int:
    """Distinct image XObjects in the file (each chart is one)."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf_bytes))
    seen = set()
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        for ref in xobjects.values():
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                seen.add(ref.idnum)
    return len(seen)


PUBLISHED_SENTENCES = [
    "2023年，我局共处罚相关案件936宗，罚款人民币3009408元。",
    "2023年，我局共办理审批许可事项502宗，办结率100%；实现非税收入496793.68元。",
    "2023年7月以来龙湖区完成拆违936292.39平方米，完成进度78.02%。",
]

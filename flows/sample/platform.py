"""Sample `platform` rounds (measure 二): the annual service assessment of recognised platforms.

Each platform has a latent strength that drives both its six service figures
(enterprises served, services, proof-of-concept projects, projects
commercialised, service revenue, satisfaction) and what the experts see, with
noise on each, so the composite (60% indicators min-max scaled over the
eligible cohort + 40% panel) spreads over the grades. What a good draw shows:
grades A, B and C and at least one platform below C (BELOW_THRESHOLD); a
platform that is not recognised (是否已认定 = 否) with the largest figures of
all, which must not move anyone's scaling (INELIGIBLE_RECOGNISED).
"""
from __future__ import annotations

import random
from decimal import Decimal

from flows.sample.draft import Draft, Sampler, count, pick_rows
from flows.sample.people import QUALITY
from scoring import columns as C
from scoring.pipeline import RoundResult

GRADE = "grade"
DOMAINS = (
    "人工智能", "智能终端", "工业视觉", "具身智能", "智能网联汽车", "海洋信息", "数字医疗", "智慧农业", "集成电路设计",
    "大模型应用", "智能制造", "数字文创", "先进光电", "新能源电池", "生物医药", "跨境电商数据",
)
KINDS = ("公共技术服务平台", "概念验证中心", "中试公共服务平台", "公共算力服务平台", "数据标注公共服务平台",
         "检验检测公共服务平台", "产业创新服务综合体")
# (name pattern, credit code type: 12 public institution, 52 private non-enterprise unit, 91 company)
ENTITIES = (
    ("福州{b}人工智能研究院", "12"), ("福州{b}产业技术研究院", "52"), ("福建{b}创新研究院有限公司", "91"),
    ("福州{b}科技服务有限公司", "91"), ("福州{b}智能制造创新中心有限公司", "91"), ("福州{b}科技创新研究院", "52"),
)


def _namer(rng: random.Random, brand: str) -> tuple[str, str]:
    pattern, kind = rng.choice(ENTITIES)
    return pattern.format(b=brand), kind


def _figures(rng: random.Random, s: float) -> dict:
    """The six service indicators of a platform of strength s (about N(0, 1))."""
    served = max(12, round(120 + 45 * s + rng.gauss(0, 18)))
    poc = max(1, round(9 + 4 * s + rng.gauss(0, 2)))
    return {
        "enterprises_served": served,
        "services_delivered": round(served * rng.uniform(1.6, 3.8)),
        "poc_projects": poc,
        "projects_commercialised": max(0, round(poc * rng.uniform(0.2, 0.6))),
        "service_revenue_yuan": max(80_000, round((2_400_000 + 900_000 * s + rng.gauss(0, 350_000)) / 1000) * 1000),
        "satisfaction_rate": Decimal(str(round(min(99.6, max(78.0, 91 + 3 * s + rng.gauss(0, 1.6))), 1))),
    }


def _fill(rng: random.Random, draft: Draft) -> None:
    seen: set[str] = set()
    for row in draft.submissions:
        while (name := f"福州{rng.choice(DOMAINS)}{rng.choice(KINDS)}") in seen:
            pass
        seen.add(name)
        s = rng.gauss(0, 1)
        row["platform_name"] = name
        row[C.TITLE] = f"{name}年度服务成效评估"
        row["recognised"] = "是"
        row.update(_figures(rng, s))
        row[QUALITY] = min(96.0, max(45.0, 75 + 8 * s + rng.gauss(0, 4)))
    (new,) = pick_rows(rng, draft, 1)
    # set up this year, not yet recognised, and busy: its figures top everyone's
    new["recognised"] = "否"
    new.update(_figures(rng, 3.2))
    draft.intended[new[C.SUBMISSION_ID]] = "INELIGIBLE_RECOGNISED"


def _shows(draft: Draft, result: RoundResult) -> bool:
    grades = set(result.ranking[GRADE].dropna())
    return {"A", "B", "C"} <= grades and count(result, code=C.BELOW_THRESHOLD) >= 1


SAMPLER = Sampler(
    prefix="PF", fill=_fill, shows=_shows, sizes=(20, 28), ineligible=("call_window",), namer=_namer,
    repeat_rate=0.04,
)

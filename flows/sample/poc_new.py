"""Sample `poc_new` rounds (measure 二): newly recognised proof-of-concept centres and R&D platforms.

A claim: the recognition itself was decided by 市科技局 earlier in the year;
every eligible claim is paid min(requested, 500,000) in order of recognition.
What a good draw shows: a claim above the 500,000 cap paid 500,000; a centre
recognised last November (INELIGIBLE_RECOGNISED_IN_YEAR); and, because the
round's budget (set in round.toml, below what the claims add up to) runs out,
the claims recognised last are not paid (BUDGET_CAP).
"""
from __future__ import annotations

import datetime as dt
import random

from flows.sample.draft import Draft, Sampler, capped_at, count, pick_rows
from scoring import columns as C
from scoring.pipeline import RoundResult

CAP = 500_000
BUDGET_SHARE = 0.8  # the year's budget covers about this share of what the eligible claims are due
DOMAINS = (
    "人工智能", "智能终端", "工业视觉", "具身智能", "智能网联汽车", "海洋信息", "数字医疗", "智慧农业", "集成电路",
    "大模型", "智能制造", "新型显示", "新能源", "生物医药", "先进材料", "数字文创", "低空经济", "智能传感",
)
TYPES = {"poc_center": "概念验证中心", "rd_platform": "产业技术研发公共服务平台"}
ENTITIES = (
    ("福州{b}科技创新研究院", "52"), ("福州{b}产业技术研究院有限公司", "91"), ("福建{b}智能科技有限公司", "91"),
    ("福州{b}技术转移中心有限公司", "91"), ("福州{b}智能技术研究院", "12"),
)


def _namer(rng: random.Random, brand: str) -> tuple[str, str]:
    pattern, kind = rng.choice(ENTITIES)
    return pattern.format(b=brand), kind


def _recognised(row: dict, year: int, serial: int, on: dt.date) -> None:
    row["recognition_no"] = f"榕科〔{year}〕{serial}号"
    row["recognised_on"] = on


def _fill(rng: random.Random, draft: Draft) -> None:
    year = draft.year
    seen: set[str] = set()
    serials = iter(rng.sample(range(3, 160), len(draft.submissions) + 1))
    batches = sorted(dt.date(year, 1, 1) + dt.timedelta(days=d) for d in rng.sample(range(20, 150), 4))
    for row in draft.submissions:
        kind = "poc_center" if rng.random() < 0.5 else "rd_platform"
        while (name := f"福州{rng.choice(DOMAINS)}{TYPES[kind]}") in seen:
            pass
        seen.add(name)
        row["platform_name"] = name
        row["platform_type"] = kind
        row[C.TITLE] = f"新认定{TYPES[kind]}奖励（{name}）"
        _recognised(row, year, next(serials), rng.choice(batches))  # recognised in a few batches a year
        row["requested_amount_yuan"] = 500_000 if rng.random() < 0.6 else rng.randrange(200_000, 800_001, 50_000)
    over, last_year = pick_rows(rng, draft, 2)
    over["requested_amount_yuan"] = rng.randrange(600_000, 1_000_001, 100_000)
    over["recognised_on"] = batches[0]  # recognised in the first batch: paid before the budget runs out
    draft.expected[over[C.SUBMISSION_ID]] = ""
    _recognised(last_year, year - 1, next(serials), dt.date(year - 1, 11, rng.randint(10, 28)))
    draft.intended[last_year[C.SUBMISSION_ID]] = "INELIGIBLE_RECOGNISED_IN_YEAR"


def _set_budget(rng: random.Random, draft: Draft, result: RoundResult) -> None:
    """This year's budget: short of what the eligible claims are due, in round hundreds of thousands."""
    due = int(result.ranking[C.AMOUNT_YUAN].sum())
    draft.set_overrides(award={"budget_yuan": int(due * BUDGET_SHARE) // 100_000 * 100_000})


def _shows(draft: Draft, result: RoundResult) -> bool:
    budget = "overrides" in draft.config
    return capped_at(result, "requested_amount_yuan", CAP) and (not budget or count(result, code=C.BUDGET_CAP) >= 2)


SAMPLER = Sampler(
    prefix="PC", fill=_fill, shows=_shows, finish=_set_budget, sizes=(20, 26), ineligible=("contact_email",),
    namer=_namer, repeat_rate=0.03,
)

"""Sample `industrial_internet` rounds (measure 三): AI-enabled industrial-internet projects.

Scored by experts ("数智化成效明显" is a judgement); every project at or above
the pass mark is paid min(requested, 2,000,000). What a good draw shows: a
large project asking for more than 2,000,000 and paid 2,000,000; several below
the pass mark; the common formal-review failures. In a sample set it also
carries a project the set's scenario round paid, which the awards ledger tops
up (see `flows.sample.write.RESUBMITS`).
"""
from __future__ import annotations

import random

from flows.sample.draft import Draft, Sampler, capped_at, count, pick_rows
from flows.sample.people import QUALITY
from scoring import columns as C
from scoring.pipeline import RoundResult

CAP = 2_000_000
# (industry, what a manufacturer in it is called)
FIRMS = (
    ("纺织", ("纺织有限公司", "化纤股份有限公司")), ("电机", ("电机有限公司", "电机集团有限公司")),
    ("食品", ("食品有限公司", "食品工业有限公司")), ("冶金", ("特钢有限公司", "冶金有限公司")),
    ("建材", ("建材科技有限公司", "水泥有限公司")), ("鞋服", ("鞋业有限公司", "服饰有限公司")),
    ("汽车零部件", ("汽车部件有限公司",)), ("光电显示", ("光电科技有限公司", "显示技术有限公司")),
    ("锂电", ("新能源科技有限公司", "锂电材料有限公司")), ("造纸包装", ("纸业有限公司", "包装有限公司")),
    ("精细化工", ("化工有限公司",)), ("水产加工", ("水产食品有限公司",)), ("茶叶", ("茶业有限公司",)),
    ("家居", ("家居用品有限公司", "竹木制品有限公司")),
)
TASKS = (
    "全流程AI视觉质检", "设备预测性维护", "AI智能排产", "能耗智能优化", "工艺参数智能优化", "安全生产智能监测",
    "供应链智能协同", "仓储物流智能调度", "设备远程智能运维", "产品质量智能追溯", "大模型辅助研发设计",
)
SUFFIXES = ("工业互联网平台建设项目", "工业互联网应用项目", "工业互联网标杆工厂项目", "工业互联网改造项目")


def _namer(rng: random.Random, brand: str) -> tuple[str, str]:
    _, tails = rng.choice(FIRMS)
    return ("福州" if rng.random() < 0.8 else "福建") + brand + rng.choice(tails), "91"


def industry_of(enterprise_name: str) -> str:
    return next((ind for ind, tails in FIRMS if enterprise_name.endswith(tails)), "制造业")


def _fill(rng: random.Random, draft: Draft) -> None:
    seen: set[str] = set()
    for row in draft.submissions:
        industry = industry_of(row[C.ENTERPRISE_NAME])
        while (title := f"{industry}{rng.choice(TASKS)}{rng.choice(SUFFIXES)}") in seen:
            pass
        seen.add(title)
        row[C.TITLE] = title
        invest = int(round(rng.lognormvariate(16.3, 0.7), -4))        # median about 12 million yuan
        row["project_investment_yuan"] = invest
        row["requested_amount_yuan"] = max(300_000, int(round(invest * rng.uniform(0.08, 0.2), -4)))
    (large,) = pick_rows(rng, draft, 1)
    large["project_investment_yuan"] = rng.randrange(25_000_000, 60_000_001, 10_000)
    large["requested_amount_yuan"] = rng.randrange(2_400_000, 3_500_001, 100_000)
    large[QUALITY] = 86.0  # a flagship project: experts rate it highly
    draft.expected[large[C.SUBMISSION_ID]] = ""


def _shows(draft: Draft, result: RoundResult) -> bool:
    return capped_at(result, "requested_amount_yuan", CAP) and count(result, code=C.BELOW_THRESHOLD) >= 2


SAMPLER = Sampler(
    prefix="II", fill=_fill, shows=_shows, sizes=(24, 34), ineligible=("credit_code", "contact_email", "call_window"),
    namer=_namer, repeat_rate=0.04, title_suffix="补助",
)

"""Sample `scenario` rounds (measure 三): AI application scenarios and key technology projects.

What a good draw shows: both categories, all ten places filled, three reserves,
a few below the pass mark, 3–5 formal-review failures, and one selected project
already funded by another Fuzhou policy (its title retyped with full-width
characters and spaces) that is topped up (TOPUP_HIGHEST).
"""
from __future__ import annotations

import random

from flows.sample.draft import Draft, Sampler, count
from flows.sample.people import brand_chars, credit_code
from flows.sample.vocab import ENTERPRISE_TAILS, TECH
from scoring import columns as C
from scoring.pipeline import RoundResult

PRIOR_POLICY = "福州市数字经济发展专项（2025年）"
PRIOR_AMOUNT_YUAN = 50_000

SCENARIO_TASKS = (
    "纺织面料瑕疵智能检测", "港口集装箱智能理货", "茶叶品质智能分级", "城市内涝智能预警", "政务热线智能问答",
    "中医辅助诊疗", "输电线路智能巡检", "鞋服柔性生产智能排产", "食品生产线质量追溯", "社区养老智能看护",
    "水产养殖智能投喂", "锂电池极片缺陷检测", "智慧工地安全监测", "医学影像辅助诊断", "跨境电商智能客服",
    "渔船安全智能监管", "公交线网智能调度", "化工园区安全风险预警", "法律文书智能审核", "课堂教学智能分析",
)
KEY_DOMAINS = ("工业质检", "智慧医疗", "智能制造", "智慧港航", "智慧政务", "智能网联汽车", "智慧能源", "数字文旅")
KEY_PRODUCTS = ("智能检测系统", "训练推理平台", "边缘计算终端", "端侧推理模组", "分析决策系统", "交互终端", "检测装备", "数据治理平台")


def _fill(rng: random.Random, draft: Draft) -> None:
    rows = draft.submissions
    seen: set[str] = set()
    for row in rows:
        row["category"] = "scenario" if rng.random() < 0.6 else "key_project"
        for attempt in range(1000):
            tech = rng.choice(TECH)
            if row["category"] == "scenario":
                title = f"基于{tech}的{rng.choice(SCENARIO_TASKS)}应用场景"
            else:
                title = f"面向{rng.choice(KEY_DOMAINS)}的{tech}{rng.choice(KEY_PRODUCTS)}关键技术攻关及产业化"
            if attempt >= 20:  # a large round has used up the plain titles: a later phase of one
                title += f"（{attempt - 18}期）"
            if title not in seen:
                break
        seen.add(title)
        row[C.TITLE] = title
    # both categories, whatever the draw
    for i, cat in ((0, "scenario"), (1, "key_project")):
        if not any(r["category"] == cat for r in rows):
            rows[i]["category"] = cat


def unrelated_excluded(rng: random.Random, year: int) -> list[dict]:
    """A couple of listed products from enterprises that do not apply this round."""
    out = []
    for level, product in (("national", "星河AI视觉质检一体机"), ("provincial", "榕芯边缘推理盒子")):
        brand = "".join(b for b, _ in brand_chars(rng, 2))
        out.append({
            C.PRODUCT_NAME: product, C.ENTERPRISE_NAME: f"福建{brand}{rng.choice(ENTERPRISE_TAILS)}",
            C.CREDIT_CODE: credit_code(rng, "91350100"), C.LEVEL: level, C.YEAR: year - 1,
        })
    return out


def _references(rng: random.Random, draft: Draft) -> None:
    draft.excluded_products = unrelated_excluded(rng, draft.year)


def retyped(title: str) -> str:
    """The same title as someone retypes it: full-width letters and a stray space or two."""
    wide = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in title)
    cut = len(wide) // 2
    return wide[:cut] + " " + wide[cut:] + " "


def _add_prior_award(rng: random.Random, draft: Draft, result: RoundResult) -> None:
    """One selected project already received money under another Fuzhou policy (就高不重复)."""
    ranking = result.ranking
    selected = ranking[ranking[C.OUTCOME] == C.SELECTED]
    pick = selected.iloc[rng.randint(1, min(5, len(selected) - 1))]
    draft.topup_id = str(pick[C.SUBMISSION_ID])
    draft.prior_awards = [{
        C.CREDIT_CODE: pick[C.CREDIT_CODE], C.PROJECT_TITLE: retyped(str(pick[C.TITLE])), C.POLICY: PRIOR_POLICY,
        C.AMOUNT_YUAN: PRIOR_AMOUNT_YUAN, C.YEAR: draft.year - 1,
    }]


def _shows(draft: Draft, result: RoundResult) -> bool:
    """Full caps, reserves, failures below the pass mark and, once added, the top-up."""
    award = draft.programme.award
    codes = dict(zip(result.ranking[C.SUBMISSION_ID], result.ranking[C.REASON_CODE]))
    return (
        (award.count_cap is None or count(result, outcome=C.SELECTED) == award.count_cap)
        and count(result, outcome=C.RESERVE) == award.reserve_size
        and count(result, code=C.BELOW_THRESHOLD) >= 2
        and (draft.topup_id is None or codes[draft.topup_id] == C.TOPUP_HIGHEST)
    )


SAMPLER = Sampler(
    prefix="SC", fill=_fill, shows=_shows, references=_references, finish=_add_prior_award,
    title_suffix="评选", plain_seed=True,
)

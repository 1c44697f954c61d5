"""Sample `skills_training` rounds (measure 八): subsidies for AI vocational skills certificates.

A claim by a training institution or an employer for a batch of trainees who
obtained a vocational skills certificate; paid min(requested, 3,000 ×
certificates). Most claim the local standard for the level (below 3,000); what
a good draw shows besides: a batch claiming more than 3,000 a certificate and
paid 3,000 each; a batch already subsidised under the city's skills-upgrading
programme (references/prior_awards) topped up to the higher amount
(TOPUP_HIGHEST); a claim for a batch with no certificate yet
(INELIGIBLE_CERTIFIED).
"""
from __future__ import annotations

import random

from flows.sample.draft import Draft, Sampler, count, pick_rows
from scoring import columns as C
from scoring.pipeline import RoundResult

PER_CERTIFICATE = 3_000
OCCUPATIONS = (
    "人工智能训练师", "人工智能工程技术人员", "生成式人工智能系统应用员", "智能制造工程技术人员", "工业机器人系统运维员",
    "工业视觉系统运维员", "智能硬件装调员", "服务机器人应用技术员", "物联网安装调试员", "数字孪生应用技术员",
)
LEVELS = ("5", "4", "3", "2", "1")
LEVEL_WEIGHTS = (25, 35, 25, 12, 3)
LEVEL_NAMES = {"5": "五级", "4": "四级", "3": "三级", "2": "二级", "1": "一级"}
STANDARD = {"5": 1_000, "4": 1_500, "3": 2_000, "2": 2_500, "1": 3_000}  # the local subsidy per certificate
ENTITIES = (
    ("福州{b}职业培训学校", "52"), ("福州{b}职业技能培训中心", "52"), ("福州{b}技工学校", "52"),
    ("福州{b}智能科技有限公司", "91"), ("福建{b}数字科技有限公司", "91"),
)
PRIOR_POLICY = "福州市职业技能提升行动补贴"


def _namer(rng: random.Random, brand: str) -> tuple[str, str]:
    pattern, kind = rng.choice(ENTITIES)
    return pattern.format(b=brand), kind


def _fill(rng: random.Random, draft: Draft) -> None:
    batches: dict[tuple[str, str, str], int] = {}
    for row in draft.submissions:
        occupation = rng.choice(OCCUPATIONS)
        level = rng.choices(LEVELS, weights=LEVEL_WEIGHTS, k=1)[0]
        n = batches[row[C.CREDIT_CODE], occupation, level] = batches.get((row[C.CREDIT_CODE], occupation, level), 0) + 1
        certs = rng.randint(6, 60)
        row["occupation"] = occupation
        row["certificate_level"] = level
        row["certificates"] = certs
        row["requested_amount_yuan"] = STANDARD[level] * certs
        row[C.TITLE] = f"{occupation}（{LEVEL_NAMES[level]}）职业技能培训补贴第{n}批"
    over, subsidised, waiting = pick_rows(rng, draft, 3)
    level = rng.choice(("2", "1"))
    over[C.TITLE] = over[C.TITLE].replace(f"（{LEVEL_NAMES[over['certificate_level']]}）", f"（{LEVEL_NAMES[level]}）")
    over["certificate_level"] = level
    over["requested_amount_yuan"] = rng.randrange(3_200, 4_001, 100) * over["certificates"]
    draft.expected[over[C.SUBMISSION_ID]] = ""
    draft.prior_awards.append({
        C.CREDIT_CODE: subsidised[C.CREDIT_CODE], C.PROJECT_TITLE: subsidised[C.TITLE], C.POLICY: PRIOR_POLICY,
        C.AMOUNT_YUAN: 500 * subsidised["certificates"], C.YEAR: draft.year,
    })
    draft.expected[subsidised[C.SUBMISSION_ID]] = C.TOPUP_HIGHEST
    draft.topup_id = subsidised[C.SUBMISSION_ID]
    waiting["certificates"] = 0  # the trainees sat the exam; the certificates are not issued yet
    draft.intended[waiting[C.SUBMISSION_ID]] = "INELIGIBLE_CERTIFIED"


def _shows(draft: Draft, result: RoundResult) -> bool:
    r = result.ranking.set_index(C.SUBMISSION_ID)
    over = next(sid for sid, code in draft.expected.items() if code == "")
    certs = int(r.at[over, "certificates"])
    return (int(r.at[over, C.AMOUNT_YUAN]) == PER_CERTIFICATE * certs < int(r.at[over, "requested_amount_yuan"])
            and count(result, code=C.TOPUP_HIGHEST) == 1)  # the enterprise's other batches are other projects


SAMPLER = Sampler(
    prefix="ST", fill=_fill, shows=_shows, sizes=(20, 30), ineligible=("contact_email",), namer=_namer,
    repeat_rate=0.2,
)

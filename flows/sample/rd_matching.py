"""Sample `rd_matching` rounds (measure 二): city matching of the provincial R&D-spending award.

A claim: the amount is the provincial award (100 %), at most 3,000,000, and an
enterprise gets at most 3,000,000 a year. What a good draw shows: a large
R&D spender whose provincial award is above 3,000,000 and is paid 3,000,000;
an enterprise with two provincial awards (a second batch) whose second claim
crosses the enterprise cap and is paid the remainder (ENTERPRISE_CAP); a
claimant without a provincial award (INELIGIBLE_PROVINCIAL_AWARD).
"""
from __future__ import annotations

import random

from flows.sample.draft import Draft, Sampler, capped_at, pick_rows
from flows.sample.people import same_applicant
from scoring import columns as C
from scoring.pipeline import RoundResult

CAP = 3_000_000
TAILS = (
    "电子股份有限公司", "机械有限公司", "新材料科技有限公司", "智能科技有限公司", "生物医药有限公司", "光电科技有限公司",
    "汽车部件有限公司", "软件股份有限公司", "化工有限公司", "电气有限公司", "通信技术有限公司", "纺织科技有限公司",
)


def _namer(rng: random.Random, brand: str) -> tuple[str, str]:
    return ("福州" if rng.random() < 0.75 else "福建") + brand + rng.choice(TAILS), "91"


def _claim(row: dict, year: int, spend: int, award: int, doc: str, batch: str = "") -> None:
    row["rd_expense_yuan"] = spend
    row["provincial_award_yuan"] = award
    row["provincial_doc_no"] = doc
    row[C.TITLE] = f"{year - 1}年度企业研发经费投入市级配套补助{batch}"


def _fill(rng: random.Random, draft: Draft) -> None:
    year = draft.year
    docs = [f"闽科资〔{year}〕{n}号" for n in sorted(rng.sample(range(3, 60), 3))]
    for row in draft.submissions:
        spend = round(rng.lognormvariate(17.0, 0.8), -3)        # median about 24 million yuan
        award = round(spend * rng.uniform(0.01, 0.035), -2)    # the province pays a share of it
        _claim(row, year, int(spend), int(min(max(award, 50_000), 2_600_000)), rng.choice(docs[:2]))
    big, first, second, none = pick_rows(rng, draft, 4, alone=True)
    _claim(big, year, rng.randrange(150_000_000, 260_000_001, 1000), rng.randrange(3_100_000, 4_200_001, 100), docs[0])
    if first[C.SUBMITTED_AT] > second[C.SUBMITTED_AT]:
        first, second = second, first
    a = rng.randrange(1_600_000, 2_200_001, 100)
    _claim(first, year, rng.randrange(60_000_000, 90_000_001, 1000), a, docs[0])
    same_applicant(second, first)
    _claim(second, year, first["rd_expense_yuan"], rng.randrange(CAP - a + 200_000, CAP - a + 900_001, 100), docs[2],
           "（第二批省级奖补）")
    draft.expected[second[C.SUBMISSION_ID]] = C.ENTERPRISE_CAP
    _claim(none, year, rng.randrange(800_000, 3_000_001, 1000), 0, "")
    draft.intended[none[C.SUBMISSION_ID]] = "INELIGIBLE_PROVINCIAL_AWARD"


def _shows(draft: Draft, result: RoundResult) -> bool:
    return capped_at(result, "provincial_award_yuan", CAP)


SAMPLER = Sampler(
    prefix="RD", fill=_fill, shows=_shows, sizes=(26, 36), ineligible=("credit_code", "call_window"),
    namer=_namer, repeat_rate=0.0,
)

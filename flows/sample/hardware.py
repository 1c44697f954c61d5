"""Sample `hardware` rounds (measure 九): AI hardware new products applied at scale in Fuzhou.

What a good draw shows: six selected products and three reserves; amounts
min(requested, 500,000) with requests above and below the cap among the
selected; one product each failing own IP, self-production and scale (fewer
than 100 units in Fuzhou); one product that is the same as a row of
references/excluded_products (same credit code, its name retyped with
full-width characters and a space) → EXCLUDED_LISTED; a listed product name
that another enterprise also sells (not excluded: the codes differ); a couple
below the pass mark.
"""
from __future__ import annotations

import random

from flows.sample.draft import Draft, Sampler, capped_at, count, pick_rows
from flows.sample.people import credit_code
from flows.sample.scenario import retyped, unrelated_excluded
from scoring import columns as C
from scoring.pipeline import RoundResult

CAP = 500_000
# (product, letter of its model code)
DEVICES = (
    ("端侧AI推理加速卡", "M"), ("智能巡检机器人", "X"), ("AI视觉检测一体机", "V"), ("激光雷达", "L"),
    ("边缘AI计算盒", "E"), ("协作机器人关节模组", "J"), ("智能语音交互终端", "T"), ("AI摄像模组", "C"),
    ("海洋养殖智能感知浮标", "B"), ("茶叶智能分拣机", "F"), ("光伏巡检无人机", "U"), ("纺织瑕疵检测相机", "K"),
    ("智能温控终端", "W"), ("AI训练服务器", "S"), ("具身智能灵巧手", "H"), ("AI智能安全帽", "A"),
    ("AI学习机", "P"), ("智能导盲眼镜", "G"), ("AI质检工作站", "Q"), ("电力巡检四足机器人", "D"),
    ("智慧渔船船载终端", "Y"), ("AI边缘网关", "N"), ("智能充电机器人", "R"), ("康复外骨骼机器人", "Z"),
)
HARDWARE_TAILS = (
    "智能装备有限公司", "电子科技有限公司", "机器人有限公司", "智能科技有限公司", "光电科技有限公司",
    "半导体有限公司", "智造科技有限公司", "传感技术有限公司", "电子股份有限公司",
)
TITLES = ("{p}研发及产业化", "{p}研发及在榕规模化应用", "{p}产业化项目", "自主可控{p}研发及应用推广")


def _namer(rng: random.Random, brand: str) -> tuple[str, str]:
    return ("福州" if rng.random() < 0.8 else "福建") + brand + rng.choice(HARDWARE_TAILS), "91"


def _product(rng: random.Random, seen: set[str]) -> str:
    while True:
        device, letter = rng.choice(DEVICES)
        code = f"{letter}{rng.randint(1, 9)}" + rng.choice(("", "", "0", " Pro", " Max"))
        name = device + code
        if name not in seen:
            seen.add(name)
            return name


def _listing(row: dict, name: str, level: str, year: int) -> dict:
    return {C.PRODUCT_NAME: name, C.ENTERPRISE_NAME: row[C.ENTERPRISE_NAME], C.CREDIT_CODE: row[C.CREDIT_CODE],
            C.LEVEL: level, C.YEAR: year}


def _fill(rng: random.Random, draft: Draft) -> None:
    seen: set[str] = set()
    for row in draft.submissions:
        product = _product(rng, seen)
        row["product_name"] = product
        row[C.TITLE] = rng.choice(TITLES).format(p=product)
        row["own_ip"] = "是"
        row["self_produced"] = "是"
        row["fuzhou_units"] = int(min(5000, 100 + rng.lognormvariate(5.2, 0.9)))
        above = rng.random() < 0.35
        row["requested_amount_yuan"] = rng.randrange(510_000, 900_001, 10_000) if above else \
            rng.randrange(150_000, 500_001, 10_000)
    listed, no_ip, oem, small, namesake = pick_rows(rng, draft, 5)
    year = draft.year
    # the same product was selected provincially last year: the applicant retyped its name
    draft.excluded_products.append(_listing(listed, listed["product_name"], rng.choice(("national", "provincial")), year - 1))
    listed["product_name"] = retyped(listed["product_name"]).strip()
    draft.intended[listed[C.SUBMISSION_ID]] = C.EXCLUDED_LISTED
    no_ip["own_ip"] = "否"
    draft.intended[no_ip[C.SUBMISSION_ID]] = "INELIGIBLE_OWN_IP"
    oem["self_produced"] = "否"  # made under contract by another manufacturer
    draft.intended[oem[C.SUBMISSION_ID]] = "INELIGIBLE_SELF_PRODUCED"
    small["fuzhou_units"] = rng.choice((99, rng.randint(20, 98)))
    draft.intended[small[C.SUBMISSION_ID]] = "INELIGIBLE_AT_SCALE"
    # a listed name that another enterprise's product also carries: not the same product
    other = {C.ENTERPRISE_NAME: "福建省" + namesake[C.ENTERPRISE_NAME][2:], C.CREDIT_CODE: credit_code(rng, "91350000")}
    draft.excluded_products.append(_listing(other, namesake["product_name"], "national", year - 1))


def _references(rng: random.Random, draft: Draft) -> None:
    draft.excluded_products.extend(unrelated_excluded(rng, draft.year))


def _shows(draft: Draft, result: RoundResult) -> bool:
    r = result.ranking
    sel = r[(r[C.OUTCOME] == C.SELECTED) & (r[C.REASON_CODE] == "")]
    award = draft.programme.award
    return (
        count(result, outcome=C.SELECTED) == award.count_cap
        and count(result, outcome=C.RESERVE) == award.reserve_size
        and count(result, code=C.BELOW_THRESHOLD) >= 1
        and capped_at(result, "requested_amount_yuan", CAP)
        and bool((sel["requested_amount_yuan"].astype("int64") < CAP).any())
    )


SAMPLER = Sampler(
    prefix="HW", fill=_fill, shows=_shows, references=_references, sizes=(24, 36),
    ineligible=("contact_email",), namer=_namer, repeat_rate=0.05, title_suffix="评审",
)
